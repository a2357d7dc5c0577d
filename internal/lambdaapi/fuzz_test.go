package lambdaapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tarn.dev/tarn/internal/lambdaapi"
	"tarn.dev/tarn/internal/store"
)

// FuzzRequest sends arbitrary method, path, headers and body to the Lambda
// API. Whatever arrives, the API must answer with a valid status, a JSON
// body on errors with an x-amzn-ErrorType header, and never a 5xx or a
// panic. The seed corpus lives in testdata/fuzz/FuzzRequest.
func FuzzRequest(f *testing.F) {
	st, err := store.Open(context.Background(), filepath.Join(f.TempDir(), "tarn.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	settle := time.Millisecond
	api := lambdaapi.New(lambdaapi.Config{Store: st, AccountID: "123456789012", Region: "us-east-1", CodeRoot: filepath.Join(f.TempDir(), "code"),
		Runner: newFakeRunner(), SettleDelay: &settle, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return time.Unix(1700000000, 0) }})
	defer api.Close()
	f.Add("POST", "/2015-03-31/functions", "", `{"FunctionName":"f","Runtime":"python3.12","Handler":"a.b","Role":"arn:aws:iam::123456789012:role/r","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`)
	f.Add("POST", "/2015-03-31/functions/f/invocations?Qualifier=1", "Event", `{"a":1}`)
	f.Add("PUT", "/2019-09-30/functions/f/provisioned-concurrency?Qualifier=live", "", `{"ProvisionedConcurrentExecutions":2}`)
	f.Fuzz(func(t *testing.T, method, target, invocationType, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			t.Skip()
		}
		if _, err := url.ParseRequestURI(target); err != nil {
			t.Skip()
		}
		switch method {
		case "GET", "POST", "PUT", "DELETE":
		default:
			t.Skip()
		}
		req := httptest.NewRequest(method, "http://localhost"+target, strings.NewReader(body))
		if invocationType != "" && !strings.ContainsAny(invocationType, "\r\n\x00") {
			req.Header.Set("X-Amz-Invocation-Type", invocationType)
		}
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
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %s: error body is not JSON: %q", method, target, rec.Body.String())
			}
		}
	})
}
