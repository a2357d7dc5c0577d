package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tarn.dev/tarn/internal/store"
)

// panicLog counts panics the handler recovered from, which the fuzzer must
// treat as failures even though clients only see a 500.
type panicLog struct{ n atomic.Int32 }

func (p *panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "gateway panic" {
		p.n.Add(1)
	}
	return nil
}
func (p *panicLog) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *panicLog) WithGroup(string) slog.Handler      { return p }

// FuzzHandler feeds raw HTTP requests (as net/http parses them off the wire)
// and raw function results through the data plane.
func FuzzHandler(f *testing.F) {
	f.Add("POST /default/MessageWall?a=1&a=2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", `"ok"`)
	f.Add("GET /items/%2F%00?q=%zz HTTP/1.1\r\nHost: abc1234567.localhost\r\nCookie: a=b;;c\r\n\r\n", `{"statusCode":200,"headers":{"a":"b"},"cookies":["x=y"]}`)
	f.Add("PUT /abc1234567/default/files/a/b HTTP/1.1\r\nHost: 1.2.3.4\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\xff\xfe\x00\r\n0\r\n\r\n", `{"statusCode":200,"body":"AAA=","isBase64Encoded":true}`)
	f.Add("DELETE / HTTP/1.0\r\n\r\n", `[1,2`)
	f.Add("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", `{"statusCode":"x"}`)
	defs := []store.APIDefinition{
		apiDef("abc1234567", "2.0", []string{"ANY /MessageWall", "GET /items/{id}", "ANY /files/{proxy+}", "$default"},
			store.Stage{Name: "default", Variables: map[string]string{"k": "v"}}, store.Stage{Name: "$default"}),
		apiDef("zzz9999999", "1.0", []string{"ANY /{proxy+}"}, store.Stage{Name: "$default"}),
	}
	pl := &panicLog{}
	var result atomic.Value
	inv := invokerFunc(func(_ context.Context, _ string, payload []byte) ([]byte, string, error) {
		if !json.Valid(payload) {
			panic("event is not JSON: " + string(payload))
		}
		return []byte(result.Load().(string)), "", nil
	})
	d := time.Second
	h := New(Config{Source: &fakeSource{defs: defs}, Invoker: inv, Log: slog.New(pl), Timeout: &d})
	f.Fuzz(func(t *testing.T, raw, res string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // net/http answers these itself
		}
		r.RemoteAddr = "192.0.2.1:1234"
		result.Store(res)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if pl.n.Load() > 0 {
			t.Fatalf("handler panicked on %q / %q", raw, res)
		}
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
		if w.Header().Get("Apigw-Requestid") == "" {
			t.Fatal("no apigw-requestid")
		}
		if w.Header().Get("Content-Type") == "application/json" && w.Code >= 400 {
			var m map[string]any
			if json.Unmarshal(w.Body.Bytes(), &m) != nil && !strings.HasPrefix(strings.TrimSpace(res), "{") {
				t.Fatalf("error body %q is not JSON", w.Body)
			}
		}
		io.Copy(io.Discard, r.Body)
	})
}
