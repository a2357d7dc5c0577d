package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzHandler sends one arbitrary request to an environment driven into one
// of its states and checks the Runtime API's invariants: no panic, only the
// documented status codes, JSON error bodies with a type, and a 202 on a post
// for the outstanding invocation completes that invocation. Seeds live in
// testdata/fuzz/FuzzHandler.
func FuzzHandler(f *testing.F) {
	f.Fuzz(func(t *testing.T, st uint8, method, path, errType string, body []byte) {
		env := New(Config{MaxResponseSize: 64})
		h := env.Handler()
		serve := func(req *http.Request) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		var pending <-chan outcome
		switch st % 5 {
		case 0: // Started
		case 1, 2: // Running id-1, or answered
			ch := make(chan outcome, 1)
			go func() {
				res, err := env.Invoke(context.Background(), Invocation{RequestID: "id-1", Payload: []byte(`{}`)})
				ch <- outcome{res, err}
			}()
			if rec := serve(httptest.NewRequest("GET", pathNext, nil)); rec.Code != 200 {
				t.Fatalf("setup next = %d", rec.Code)
			}
			pending = ch
			if st%5 == 2 {
				if rec := serve(httptest.NewRequest("POST", "/2018-06-01/runtime/invocation/id-1/response", strings.NewReader("ok"))); rec.Code != 202 {
					t.Fatalf("setup response = %d", rec.Code)
				}
				<-ch
				pending = nil
			}
		case 3: // init failed
			serve(httptest.NewRequest("POST", pathInitError, strings.NewReader(`{"errorType":"X"}`)))
		case 4: // exited
			env.RuntimeExited(errors.New("exit status 1"))
		}

		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://runtime"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request net/http would accept
		}
		if errType != "" {
			req.Header.Set(headerErrorType, errType)
		}
		// A /next that would long-poll returns at once with a done context.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req = req.WithContext(ctx)
		rec := serve(req)

		switch rec.Code {
		case 200, 202, 400, 403, 404, 405, 413:
		case 301, 307, 308: // ServeMux redirects unclean paths to clean ones
		default:
			t.Fatalf("%s %q: status %d", method, path, rec.Code)
		}
		if rec.Code == 400 || rec.Code == 403 || rec.Code == 413 {
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorType == "" {
				t.Fatalf("%s %q: %d body %q is not a Runtime API error", method, path, rec.Code, rec.Body.Bytes())
			}
		}
		if pending != nil && (rec.Code == 202 || rec.Code == 413) {
			select {
			case o := <-pending:
				if o.err != nil {
					t.Fatalf("Invoke after %d = %v", rec.Code, o.err)
				}
				if rec.Code == 202 && req.URL.Path == "/2018-06-01/runtime/invocation/id-1/response" && !bytes.Equal(o.res.Payload, body) {
					t.Fatalf("payload = %q, want %q", o.res.Payload, body)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s %q answered %d but Invoke did not return", method, path, rec.Code)
			}
		}
		env.RuntimeExited(nil)
	})
}
