package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tarn.dev/tarn/internal/store"
)

func wallAPI(version string) store.APIDefinition {
	return apiDef("abc1234567", version, []string{"ANY /MessageWall"}, store.Stage{Name: "default"})
}

func TestResultMapping(t *testing.T) {
	tests := []struct {
		name       string
		version    string
		result     string
		fnErr      string
		err        error
		wantStatus int
		wantBody   string
		wantHeader map[string][]string
	}{
		{name: "string is the body as-is", result: `"Hello from EFS!\n"`, wantStatus: 200, wantBody: "Hello from EFS!\n",
			wantHeader: map[string][]string{"Content-Type": {"application/json"}}},
		{name: "object without statusCode is JSON", result: `{"bird_class": "106.Horned_Puffin"}`, wantStatus: 200,
			wantBody: `{"bird_class": "106.Horned_Puffin"}`, wantHeader: map[string][]string{"Content-Type": {"application/json"}}},
		{name: "number is JSON", result: ` 42 `, wantStatus: 200, wantBody: `42`},
		{name: "array is JSON", result: `[1,"a"]`, wantStatus: 200, wantBody: `[1,"a"]`},
		{name: "null is JSON", result: `null`, wantStatus: 200, wantBody: `null`},
		{name: "statusCode object", result: `{"statusCode": 201, "headers": {"X-Kind": "wall", "X-N": 3, "X-B": true},
			"cookies": ["a=1; Path=/", "b=2"], "body": "made"}`, wantStatus: 201, wantBody: "made",
			wantHeader: map[string][]string{"X-Kind": {"wall"}, "X-N": {"3"}, "X-B": {"true"}, "Set-Cookie": {"a=1; Path=/", "b=2"}, "Content-Type": nil}},
		{name: "statusCode object with base64 body", result: `{"statusCode": 200, "headers": {"content-type": "image/png"},
			"body": "/wABAg==", "isBase64Encoded": true}`, wantStatus: 200, wantBody: "\xff\x00\x01\x02",
			wantHeader: map[string][]string{"Content-Type": {"image/png"}}},
		{name: "multiValueHeaders win over headers", result: `{"statusCode": 200, "headers": {"X-A": "single", "X-C": "c"},
			"multiValueHeaders": {"X-A": ["m1", "m2"]}, "body": null}`, wantStatus: 200, wantBody: "",
			wantHeader: map[string][]string{"X-A": {"m1", "m2"}, "X-C": {"c"}}},
		{name: "aws-lambda-go null members", result: `{"statusCode": 404, "headers": null, "multiValueHeaders": null,
			"cookies": null, "body": "gone", "isBase64Encoded": false}`, wantStatus: 404, wantBody: "gone"},
		{name: "invalid JSON", result: `{"statusCode": 200`, wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
		{name: "empty result", result: ``, wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
		{name: "statusCode is a string", result: `{"statusCode": "200"}`, wantStatus: 500},
		{name: "statusCode out of range", result: `{"statusCode": 99}`, wantStatus: 500},
		{name: "informational statusCode", result: `{"statusCode": 101}`, wantStatus: 500},
		{name: "body is an object", result: `{"statusCode": 200, "body": {"a": 1}}`, wantStatus: 500},
		{name: "bad base64 body", result: `{"statusCode": 200, "body": "%%%", "isBase64Encoded": true}`, wantStatus: 500},
		{name: "header value with newline", result: `{"statusCode": 200, "headers": {"X-A": "a\r\nX-Evil: 1"}}`, wantStatus: 500},
		{name: "invalid header name", result: `{"statusCode": 200, "headers": {"X A": "a"}}`, wantStatus: 500},
		{name: "headers is a list", result: `{"statusCode": 200, "headers": ["a"]}`, wantStatus: 500},
		{name: "function error", fnErr: "Unhandled", result: `{"errorMessage": "'body'", "errorType": "KeyError"}`,
			wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
		{name: "invoke failure", err: errors.New("sandbox failed"), wantStatus: 500},
		{name: "throttled", err: fmt.Errorf("rate: %w", ErrThrottled), wantStatus: 500},
		{name: "too large for the function", err: fmt.Errorf("6 MB: %w", ErrTooLarge), wantStatus: 413,
			wantBody: `{"message":"Request Entity Too Large"}`},
		{name: "1.0 object", version: "1.0", result: `{"statusCode": 202, "headers": {"X-V": "1"}, "body": "ok"}`,
			wantStatus: 202, wantBody: "ok", wantHeader: map[string][]string{"X-V": {"1"}}},
		{name: "1.0 plain string is a wrong shape", version: "1.0", result: `"hi"`, wantStatus: 500},
		{name: "1.0 object without statusCode", version: "1.0", result: `{"body": "hi"}`, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			version := tt.version
			if version == "" {
				version = "2.0"
			}
			inv := invokerFunc(func(ctx context.Context, fn string, payload []byte) ([]byte, string, error) {
				if fn != testARN {
					t.Errorf("invoked %q, want %q", fn, testARN)
				}
				return []byte(tt.result), tt.fnErr, tt.err
			})
			h, _ := newHandler(t, inv, wallAPI(version))
			w := serve(h, httptest.NewRequest("GET", "/default/MessageWall", nil))
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantStatus >= 500 && tt.wantBody == "" {
				tt.wantBody = `{"message":"Internal Server Error"}`
			}
			if tt.wantBody != "" || tt.wantStatus < 300 {
				if got := w.Body.String(); got != tt.wantBody {
					t.Errorf("body = %q, want %q", got, tt.wantBody)
				}
			}
			for k, want := range tt.wantHeader {
				if got := w.Result().Header[k]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if w.Header().Get("Apigw-Requestid") == "" {
				t.Error("no apigw-requestid header")
			}
		})
	}
}

func TestThrottleStatusIsConfigurable(t *testing.T) {
	inv := invokerFunc(func(context.Context, string, []byte) ([]byte, string, error) { return nil, "", ErrThrottled })
	h := New(Config{Source: &fakeSource{defs: []store.APIDefinition{wallAPI("2.0")}}, Invoker: inv, ThrottleStatus: 429, Log: quiet})
	w := serve(h, httptest.NewRequest("GET", "/default/MessageWall", nil))
	if w.Code != 429 || w.Body.String() != `{"message":"Too Many Requests"}` {
		t.Errorf("throttled = %d %s, want 429 Too Many Requests", w.Code, w.Body)
	}
}

func TestIntegrationTimeoutIs503AndFunctionKeepsRunning(t *testing.T) {
	release := make(chan struct{})
	finished := make(chan error, 1)
	inv := invokerFunc(func(ctx context.Context, _ string, _ []byte) ([]byte, string, error) {
		<-release
		finished <- ctx.Err()
		return []byte(`"late"`), "", nil
	})
	h, _ := newHandler(t, inv, wallAPI("2.0"))
	d := 20 * time.Millisecond
	h.cfg.Timeout = &d
	w := serve(h, httptest.NewRequest("GET", "/default/MessageWall", nil))
	if w.Code != 503 || w.Body.String() != `{"message":"Service Unavailable"}` || w.Body.Len() != 33 {
		t.Errorf("timeout = %d %q, want 503 {\"message\":\"Service Unavailable\"} (33 bytes)", w.Code, w.Body)
	}
	close(release)
	if err := <-finished; err != nil {
		t.Errorf("the invocation's context was cancelled (%v); the function must run to its own end", err)
	}
}

func TestIntegrationTimeoutMillisBelowTheCap(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	inv := invokerFunc(func(context.Context, string, []byte) ([]byte, string, error) { <-block; return nil, "", nil })
	def := wallAPI("2.0")
	def.Integrations[0].TimeoutMillis = 50
	h, _ := newHandler(t, inv, def) // cap stays 30 s: only timeoutInMillis can end this
	if w := serve(h, httptest.NewRequest("GET", "/default/MessageWall", nil)); w.Code != 503 {
		t.Errorf("status = %d, want 503 after timeoutInMillis", w.Code)
	}
}

func TestGatewayErrors(t *testing.T) {
	ok := &returning{result: `"ok"`}
	h, _ := newHandler(t, ok, wallAPI("2.0"))
	big := strings.Repeat("x", MaxBody+1)
	tests := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantBody   string
	}{
		{"no route", func() *http.Request { return httptest.NewRequest("GET", "/default/Other", nil) }, 404, `{"message":"Not Found"}`},
		{"route path is case-sensitive", func() *http.Request { return httptest.NewRequest("GET", "/default/messagewall", nil) }, 404, ""},
		{"no stage", func() *http.Request { return httptest.NewRequest("GET", "/MessageWall", nil) }, 404, ""},
		{"unknown stage", func() *http.Request { return httptest.NewRequest("GET", "/prod/MessageWall", nil) }, 404, ""},
		{"root", func() *http.Request { return httptest.NewRequest("GET", "/", nil) }, 404, ""},
		{"body over 10 MB", func() *http.Request {
			return httptest.NewRequest("POST", "/default/MessageWall", strings.NewReader(big))
		}, 413, `{"message":"Request Entity Too Large"}`},
		{"body over 10 MB without length", func() *http.Request {
			r := httptest.NewRequest("POST", "/default/MessageWall", strings.NewReader(big))
			r.ContentLength = -1
			return r
		}, 413, ""},
		{"huge headers", func() *http.Request {
			r := httptest.NewRequest("GET", "/default/MessageWall", nil)
			r.Header.Set("X-Big", strings.Repeat("h", MaxHeaderBytes))
			return r
		}, 431, `{"message":"Request Header Fields Too Large"}`},
		{"malformed percent-encoding", func() *http.Request {
			r := httptest.NewRequest("GET", "/default/MessageWall", nil)
			r.RequestURI = "/default/%zz"
			return r
		}, 400, `{"message":"Bad Request"}`},
		{"opaque URL", func() *http.Request {
			r := httptest.NewRequest("GET", "/default/MessageWall", nil)
			r.URL.Path, r.URL.Opaque = "", "x:y"
			return r
		}, 400, ""},
		{"unreadable body", func() *http.Request {
			return httptest.NewRequest("POST", "/default/MessageWall", errReader{})
		}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(h, tt.req())
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
				t.Errorf("body = %s, want %s", w.Body, tt.wantBody)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content-type = %q, want application/json", ct)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestPanicsBecome500(t *testing.T) {
	inv := invokerFunc(func(context.Context, string, []byte) ([]byte, string, error) { panic("boom") })
	h, _ := newHandler(t, inv, wallAPI("2.0"))
	if w := serve(h, httptest.NewRequest("GET", "/default/MessageWall", nil)); w.Code != 500 {
		t.Errorf("panicking invoker: status %d, want 500", w.Code)
	}
	h2 := New(Config{Source: panicSource{}, Invoker: inv, Log: quiet})
	if w := serve(h2, httptest.NewRequest("GET", "/default/MessageWall", nil)); w.Code != 500 || w.Body.String() != `{"message":"Internal Server Error"}` {
		t.Errorf("panicking source: %d %s, want 500", w.Code, w.Body)
	}
}

type panicSource struct{}

func (panicSource) APIDefinitions(context.Context) ([]store.APIDefinition, error) {
	panic("store gone")
}

func TestFindingTheAPI(t *testing.T) {
	single := []store.APIDefinition{apiDef("abc1234567", "2.0", []string{"ANY /MessageWall"},
		store.Stage{Name: "default"}, store.Stage{Name: "$default"})}
	two := append(single, apiDef("zzz9999999", "2.0", []string{"GET /other"}, store.Stage{Name: "$default"}))
	tests := []struct {
		name      string
		defs      []store.APIDefinition
		host, uri string
		want      int
		rawPath   string
	}{
		{"single api, named stage", single, "127.0.0.1:7751", "/default/MessageWall", 200, "/default/MessageWall"},
		{"single api, $default stage at the root", single, "127.0.0.1:7751", "/MessageWall", 200, "/MessageWall"},
		{"single api, id prefix", single, "127.0.0.1:7751", "/abc1234567/default/MessageWall", 200, "/default/MessageWall"},
		{"two apis, id prefix", two, "127.0.0.1:7751", "/zzz9999999/other", 200, "/other"},
		{"two apis, host name", two, "zzz9999999.localhost:7751", "/other", 200, "/other"},
		{"two apis, host name of the other", two, "abc1234567.localhost", "/other", 404, ""},
		{"two apis, no id", two, "127.0.0.1:7751", "/other", 404, ""},
		{"no apis", nil, "127.0.0.1:7751", "/default/MessageWall", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &returning{result: `"ok"`}
			h, _ := newHandler(t, inv, tt.defs...)
			r := httptest.NewRequest("GET", tt.uri, nil)
			r.Host = tt.host
			w := serve(h, r)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
			if tt.rawPath != "" && !strings.Contains(string(inv.last()), `"rawPath":"`+tt.rawPath+`"`) {
				t.Errorf("event %s does not have rawPath %q", inv.last(), tt.rawPath)
			}
		})
	}
}

func TestRoutesReloadAfterInvalidate(t *testing.T) {
	inv := &returning{result: `"ok"`}
	h, src := newHandler(t, inv, wallAPI("2.0"))
	get := func() int { return serve(h, httptest.NewRequest("GET", "/default/MessageWall", nil)).Code }
	if got := get(); got != 200 {
		t.Fatalf("status = %d, want 200", got)
	}
	src.set()
	if got := get(); got != 200 {
		t.Errorf("before Invalidate: status = %d, want 200 from the cached routes", got)
	}
	if n := src.loads.Load(); n != 1 {
		t.Errorf("loads = %d, want 1: routes are cached", n)
	}
	h.Invalidate()
	if got := get(); got != 404 {
		t.Errorf("after Invalidate: status = %d, want 404", got)
	}
}

func TestRoutesReloadAfterCacheAge(t *testing.T) {
	now := fixedNow
	src := &fakeSource{defs: []store.APIDefinition{wallAPI("2.0")}}
	age := time.Second
	h := New(Config{Source: src, Invoker: &returning{result: `"ok"`}, CacheAge: &age, Now: func() time.Time { return now }, Log: quiet})
	serve(h, httptest.NewRequest("GET", "/default/MessageWall", nil))
	src.set()
	now = now.Add(2 * time.Second)
	if w := serve(h, httptest.NewRequest("GET", "/default/MessageWall", nil)); w.Code != 404 {
		t.Errorf("after CacheAge: status = %d, want 404", w.Code)
	}
}

func TestAuthorizeRefusalIs500WithSourceARN(t *testing.T) {
	var gotFn, gotSrc string
	src := &fakeSource{defs: []store.APIDefinition{wallAPI("2.0")}}
	h := New(Config{Source: src, Invoker: &returning{result: `"ok"`}, AccountID: "123456789012", Region: "us-east-1", Log: quiet,
		Authorize: func(_ context.Context, fn, source string) error {
			gotFn, gotSrc = fn, source
			return errors.New("no policy statement allows it")
		}})
	w := serve(h, httptest.NewRequest("POST", "/default/MessageWall", nil))
	if w.Code != 500 {
		t.Errorf("status = %d, want 500", w.Code)
	}
	if want := "arn:aws:execute-api:us-east-1:123456789012:abc1234567/default/POST/default/MessageWall"; gotSrc != want || gotFn != testARN {
		t.Errorf("Authorize(%q, %q), want (%q, %q)", gotFn, gotSrc, testARN, want)
	}
}

func TestRouteWithoutIntegrationIs404(t *testing.T) {
	def := wallAPI("2.0")
	def.Routes[0].Target = ""
	h, _ := newHandler(t, &returning{result: `"ok"`}, def)
	if w := serve(h, httptest.NewRequest("GET", "/default/MessageWall", nil)); w.Code != 404 {
		t.Errorf("status = %d, want 404", w.Code)
	}
}

// Through a real server: the client sees the status and headers, and the
// server survives what net/http itself rejects.
func TestOverRealListener(t *testing.T) {
	h, _ := newHandler(t, &returning{result: `{"statusCode": 200, "body": "hi"}`}, wallAPI("2.0"))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/default/MessageWall", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Apigw-Requestid") == "" {
		t.Errorf("POST = %d, apigw-requestid %q", resp.StatusCode, resp.Header.Get("Apigw-Requestid"))
	}
	if ct, ok := resp.Header["Content-Type"]; ok {
		t.Errorf("content-type %q sniffed for a result that gave none", ct)
	}
}
