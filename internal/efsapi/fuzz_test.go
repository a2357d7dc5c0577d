package efsapi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tarn.dev/tarn/internal/efsapi"
	"tarn.dev/tarn/internal/store"
)

// FuzzRequest sends arbitrary method, path, query and body to the EFS API.
// Whatever arrives, the API must answer with a valid status, a JSON body, and
// an x-amzn-ErrorType header on every error; it must never panic. The seed
// corpus lives in testdata/fuzz/FuzzRequest.
func FuzzRequest(f *testing.F) {
	st, err := store.Open(context.Background(), filepath.Join(f.TempDir(), "tarn.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	api := efsapi.New(efsapi.Config{Store: st, AccountID: "123456789012", Region: "us-east-1", MountAddress: "127.0.0.1",
		Now: func() time.Time { return time.Unix(1700000000, 0) }})
	f.Add("POST", "/2015-02-01/file-systems", `{"CreationToken":"a","Tags":[{"Key":"Name","Value":"x"}]}`)
	f.Add("GET", "/2015-02-01/file-systems?MaxItems=2&Marker=Zm9v", ``)
	f.Add("POST", "/2015-02-01/access-points", `{"ClientToken":"c","FileSystemId":"fs-0123456789abcdef0","RootDirectory":{"Path":"/a"}}`)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			t.Skip()
		}
		if _, err := url.ParseRequestURI(target); err != nil {
			t.Skip() // net/http refuses such a request line before any handler runs
		}
		switch method {
		case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD":
		default:
			t.Skip()
		}
		var req = httptest.NewRequest(method, "http://localhost"+target, strings.NewReader(body))
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		status := rec.Code
		if status < 200 || status > 599 {
			t.Fatalf("%s %s: status %d", method, target, status)
		}
		if status >= 300 {
			if rec.Header().Get("x-amzn-ErrorType") == "" {
				t.Fatalf("%s %s: error %d without x-amzn-ErrorType", method, target, status)
			}
			if status >= 500 {
				t.Fatalf("%s %s %q: server error %d: %s", method, target, body, status, rec.Body.String())
			}
		}
		if rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: body is not JSON: %q", method, target, rec.Body.String())
		}
	})
}
