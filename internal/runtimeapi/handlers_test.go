package runtimeapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNextDeliversEventWithHeaders(t *testing.T) {
	w := newWorld(t, Config{})
	deadline := time.UnixMilli(1700000000123)
	inv := Invocation{
		RequestID:     "8f507cfc-1111-4697-b07a-ac58fc914c95",
		Payload:       []byte(`{"key":"value"}`),
		Deadline:      deadline.Add(time.Hour * 24 * 365 * 100), // far: Invoke must not time out
		FunctionARN:   "arn:aws:lambda:us-east-1:123456789012:function:fn:prod",
		ClientContext: `{"custom":{"a":"b"}}`,
		Identity:      `{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}`,
		TraceID:       "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
		TenantID:      "tenant-1",
	}
	ch, r := w.started(inv)
	want := map[string]string{
		"Lambda-Runtime-Aws-Request-Id":       inv.RequestID,
		"Lambda-Runtime-Deadline-Ms":          strconv.FormatInt(inv.Deadline.UnixMilli(), 10),
		"Lambda-Runtime-Invoked-Function-Arn": inv.FunctionARN,
		"Lambda-Runtime-Trace-Id":             inv.TraceID,
		"Lambda-Runtime-Client-Context":       inv.ClientContext,
		"Lambda-Runtime-Cognito-Identity":     inv.Identity,
		"Lambda-Runtime-Aws-Tenant-Id":        inv.TenantID,
		"Content-Type":                        "application/json",
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if string(r.body) != string(inv.Payload) {
		t.Errorf("event body = %q, want %q", r.body, inv.Payload)
	}
	if got := w.rt.post("/invocation/"+inv.RequestID+"/response", []byte(`"ok"`), map[string]string{"Content-Type": "application/json"}); got.status != http.StatusAccepted || string(got.body) != "{\"status\":\"OK\"}\n" {
		t.Fatalf("response: %d %s, want 202 {\"status\":\"OK\"}", got.status, got.body)
	}
	o := w.wait(ch)
	if o.err != nil || o.res.Error != nil {
		t.Fatalf("Invoke = %+v, %v; want success", o.res, o.err)
	}
	if string(o.res.Payload) != `"ok"` || o.res.ContentType != "application/json" {
		t.Errorf("Invoke payload %q type %q, want %q application/json", o.res.Payload, o.res.ContentType, `"ok"`)
	}
}

func TestNextOmitsAbsentOptionalHeaders(t *testing.T) {
	w := newWorld(t, Config{})
	ch, r := w.started(Invocation{RequestID: "id-1"})
	for _, k := range []string{"Lambda-Runtime-Client-Context", "Lambda-Runtime-Cognito-Identity", "Lambda-Runtime-Trace-Id", "Lambda-Runtime-Aws-Tenant-Id"} {
		if _, ok := r.header[k]; ok {
			t.Errorf("header %s present, want absent", k)
		}
	}
	if _, err := strconv.ParseInt(r.header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64); err != nil {
		t.Errorf("Lambda-Runtime-Deadline-Ms = %q without a deadline: %v, want an int64 (aws-lambda-go requires one)", r.header.Get("Lambda-Runtime-Deadline-Ms"), err)
	}
	if string(r.body) != "{}" {
		t.Errorf("empty payload delivered as %q, want {}", r.body)
	}
	w.rt.respond("id-1", nil)
	w.wait(ch)
}

func TestStateErrors(t *testing.T) {
	// Each case drives the environment into a state, then makes one call.
	type setup func(w *world) (id string)
	fresh := func(w *world) string { return "id-1" }
	polling := func(w *world) string {
		go w.rt.next() // first /next: init done, now polling
		if _, err := w.env.WaitReady(context.Background()); err != nil {
			w.t.Fatal(err)
		}
		return "id-1"
	}
	running := func(w *world) string {
		w.started(Invocation{RequestID: "id-1"})
		return "id-1"
	}
	answered := func(w *world) string {
		ch, _ := w.started(Invocation{RequestID: "id-1"})
		if r := w.rt.respond("id-1", []byte("1")); r.status != http.StatusAccepted {
			w.t.Fatalf("first response: %d", r.status)
		}
		w.wait(ch)
		return "id-1"
	}
	tests := []struct {
		name       string
		setup      setup
		call       func(w *world, id string) reply
		wantStatus int
		wantType   string
		wantMsg    string
	}{
		{"response before next", fresh, func(w *world, id string) reply { return w.rt.respond(id, []byte("1")) },
			403, "InvalidStateTransition", "State transition from Started to InvocationResponse failed for runtime. Error: State transition is not allowed"},
		{"error before next", fresh, func(w *world, id string) reply { return w.rt.post("/invocation/"+id+"/error", nil, nil) },
			403, "InvalidStateTransition", "State transition from Started to InvocationErrorResponse failed for runtime. Error: State transition is not allowed"},
		{"response while polling", polling, func(w *world, id string) reply { return w.rt.respond(id, []byte("1")) },
			403, "InvalidStateTransition", ""},
		{"response with wrong id", running, func(w *world, id string) reply { return w.rt.respond("other", []byte("1")) },
			400, "InvalidRequestID", "Invalid request ID"},
		{"error with wrong id", running, func(w *world, id string) reply { return w.rt.post("/invocation/other/error", nil, nil) },
			400, "InvalidRequestID", "Invalid request ID"},
		{"next while invocation outstanding", running, func(w *world, id string) reply { return w.rt.next() },
			403, "InvalidStateTransition", "State transition from Running to Ready failed for runtime. Error: State transition is not allowed"},
		{"second response for same id", answered, func(w *world, id string) reply { return w.rt.respond(id, []byte("2")) },
			403, "InvalidStateTransition", "State transition from RuntimeResponseSentState to InvocationResponse failed for runtime. Error: State transition is not allowed"},
		{"error after response", answered, func(w *world, id string) reply { return w.rt.post("/invocation/"+id+"/error", nil, nil) },
			403, "InvalidStateTransition", ""},
		{"init error after init", polling, func(w *world, id string) reply { return w.rt.post("/init/error", []byte(`{}`), nil) },
			403, "InvalidStateTransition", "State transition from Ready to InitError failed for runtime. Error: State transition is not allowed"},
		{"init error during invocation", running, func(w *world, id string) reply { return w.rt.post("/init/error", []byte(`{}`), nil) },
			403, "InvalidStateTransition", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, Config{})
			id := tt.setup(w)
			r := tt.call(w, id)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", r.status, r.body, tt.wantStatus)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			e := r.apiError()
			if e.ErrorType != tt.wantType || (tt.wantMsg != "" && e.ErrorMessage != tt.wantMsg) {
				t.Errorf("error = %+v, want type %q message %q", e, tt.wantType, tt.wantMsg)
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	w := newWorld(t, Config{})
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/2018-06-01/runtime/invocation/next/extra", 404},
		{"GET", "/2018-06-01/runtime/unknown", 404},
		{"GET", "/2020-01-01/extension/event/next", 404},
		{"POST", "/2018-06-01/runtime/invocation/next", 405},
		{"GET", "/2018-06-01/runtime/invocation/id/response", 405},
		{"PUT", "/2018-06-01/runtime/init/error", 405},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, w.srv.URL+tt.path, nil)
		if r := w.rt.do(req); r.status != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, r.status, tt.want)
		}
	}
}

func TestResponseTooLarge(t *testing.T) {
	tests := []struct {
		name    string
		chunked bool
	}{{"content-length", false}, {"chunked", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const limit = 1000
			w := newWorld(t, Config{MaxResponseSize: limit})
			ch, _ := w.started(Invocation{RequestID: "id-1"})
			var body io.Reader = bytes.NewReader(make([]byte, limit+1))
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, _ := http.NewRequest(http.MethodPost, w.rt.base+"/invocation/id-1/response", body)
			r := w.rt.do(req)
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d %s, want 413", r.status, r.body)
			}
			if e := r.apiError(); e.ErrorType != "RequestEntityTooLarge" || e.ErrorMessage != "Exceeded maximum allowed payload size (1000 bytes)." {
				t.Errorf("413 body = %+v", e)
			}
			o := w.wait(ch)
			if o.err != nil || o.res.Error == nil || o.res.Error.Type != "Function.ResponseSizeTooLarge" {
				t.Fatalf("Invoke = %+v, %v; want Function.ResponseSizeTooLarge", o.res, o.err)
			}
			want := `{"errorMessage":"Response payload size (1001 bytes) exceeded maximum allowed payload size (1000 bytes).","errorType":"Function.ResponseSizeTooLarge"}`
			if string(o.res.Payload) != want {
				t.Errorf("payload = %s, want %s", o.res.Payload, want)
			}
			// The environment stays usable.
			ch2 := w.invokeAsync(context.Background(), Invocation{RequestID: "id-2"})
			if r := w.rt.next(); r.status != 200 || r.header.Get("Lambda-Runtime-Aws-Request-Id") != "id-2" {
				t.Fatalf("next after 413 = %d %v", r.status, r.header)
			}
			w.rt.respond("id-2", []byte(strings.Repeat("x", limit)))
			if o := w.wait(ch2); o.err != nil || o.res.Error != nil || len(o.res.Payload) != limit {
				t.Errorf("response at the limit: %+v, %v", o.res.Error, o.err)
			}
		})
	}
}

func TestInvocationErrorTypes(t *testing.T) {
	pyBody := `{"errorMessage": "division by zero", "errorType": "ZeroDivisionError", "requestId": "id-1", "stackTrace": ["  File \"/var/task/f.py\", line 2, in h\n    1/0\n"]}`
	tests := []struct {
		name, header, body string
		wantType, wantMsg  string
		wantBody           string
	}{
		{"header and body", "Runtime.Custom", pyBody, "Runtime.Custom", "division by zero", pyBody},
		{"body only", "", pyBody, "ZeroDivisionError", "division by zero", pyBody},
		{"header only", "Runtime.NoSuchHandler", "", "Runtime.NoSuchHandler", "", `{"errorMessage":"","errorType":"Runtime.NoSuchHandler"}`},
		{"nothing", "", "", "Unhandled", "", `{"errorMessage":"","errorType":"Unhandled"}`},
		{"body not json", "", "boom", "Unhandled", "", "boom"},
		{"aws-lambda-go", "", `{"errorMessage":"bad thing","errorType":"errorString"}`, "errorString", "bad thing", `{"errorMessage":"bad thing","errorType":"errorString"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, Config{})
			ch, _ := w.started(Invocation{RequestID: "id-1"})
			h := map[string]string{}
			if tt.header != "" {
				h["Lambda-Runtime-Function-Error-Type"] = tt.header
			}
			if r := w.rt.post("/invocation/id-1/error", []byte(tt.body), h); r.status != http.StatusAccepted {
				t.Fatalf("error post = %d %s, want 202", r.status, r.body)
			}
			o := w.wait(ch)
			if o.err != nil || o.res.Error == nil {
				t.Fatalf("Invoke = %+v, %v; want a function error", o.res, o.err)
			}
			if o.res.Error.Type != tt.wantType || o.res.Error.Message != tt.wantMsg {
				t.Errorf("error = %q %q, want %q %q", o.res.Error.Type, o.res.Error.Message, tt.wantType, tt.wantMsg)
			}
			if string(o.res.Payload) != tt.wantBody || string(o.res.Error.Body) != tt.wantBody {
				t.Errorf("payload = %s, want %s", o.res.Payload, tt.wantBody)
			}
		})
	}
}

func TestResponseTrailerTurnsIntoError(t *testing.T) {
	w := newWorld(t, Config{})
	ch, _ := w.started(Invocation{RequestID: "id-1"})
	errBody := `{"errorMessage":"read failed","errorType":"errorString"}`
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, w.rt.base+"/invocation/id-1/response", pr)
	req.Trailer = http.Header{"Lambda-Runtime-Function-Error-Type": nil, "Lambda-Runtime-Function-Error-Body": nil}
	go func() {
		pw.Write([]byte("partial"))
		req.Trailer.Set("Lambda-Runtime-Function-Error-Type", "errorString")
		req.Trailer.Set("Lambda-Runtime-Function-Error-Body", base64.StdEncoding.EncodeToString([]byte(errBody)))
		pw.Close()
	}()
	if r := w.rt.do(req); r.status != http.StatusAccepted {
		t.Fatalf("response = %d %s", r.status, r.body)
	}
	o := w.wait(ch)
	if o.res.Error == nil || o.res.Error.Type != "errorString" || string(o.res.Payload) != errBody {
		t.Fatalf("Invoke = %+v; want errorString with the trailer body", o.res)
	}
}

func TestTruncatedResponseCanBeRetried(t *testing.T) {
	w := newWorld(t, Config{})
	ch, _ := w.started(Invocation{RequestID: "id-1"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(w.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /2018-06-01/runtime/invocation/id-1/response HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort")
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	conn.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "TruncatedHTTPRequest") {
		t.Fatalf("truncated post = %d %s, want 400 TruncatedHTTPRequest", resp.StatusCode, body)
	}
	if r := w.rt.respond("id-1", []byte("full")); r.status != http.StatusAccepted {
		t.Fatalf("retry = %d %s, want 202", r.status, r.body)
	}
	if o := w.wait(ch); string(o.res.Payload) != "full" {
		t.Errorf("payload = %q, want full", o.res.Payload)
	}
}

func TestInitError(t *testing.T) {
	w := newWorld(t, Config{})
	ch := w.invokeAsync(context.Background(), Invocation{RequestID: "id-1"}) // a cold start waits for init
	body := `{"errorMessage": "Unable to import module 'lambda_function': No module named 'lambda_function'", "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}`
	r := w.rt.post("/init/error", []byte(body), map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
	if r.status != http.StatusAccepted {
		t.Fatalf("init/error = %d %s, want 202", r.status, r.body)
	}
	_, err := w.env.WaitReady(context.Background())
	var fe *FunctionError
	if !errors.Is(err, ErrInitFailed) || !errors.As(err, &fe) || fe.Type != "Runtime.ImportModuleError" {
		t.Fatalf("WaitReady = %v, want ErrInitFailed with Runtime.ImportModuleError", err)
	}
	for _, o := range []outcome{w.wait(ch), func() outcome {
		res, err := w.env.Invoke(context.Background(), Invocation{RequestID: "id-2"})
		return outcome{res, err}
	}()} {
		if !errors.Is(o.err, ErrInitFailed) || o.res.Error == nil || string(o.res.Payload) != body {
			t.Errorf("Invoke after init error = %+v, %v; want the posted error and ErrInitFailed", o.res, o.err)
		}
	}
	if r := w.rt.post("/init/error", []byte(body), nil); r.status != http.StatusForbidden {
		t.Errorf("second init/error = %d, want 403", r.status)
	}
	if r := w.rt.next(); r.status != http.StatusForbidden {
		t.Errorf("next after init error = %d, want 403", r.status)
	}
}

func TestEventSurvivesAbandonedPoll(t *testing.T) {
	w := newWorld(t, Config{})
	ch := w.invokeAsync(context.Background(), Invocation{RequestID: "id-1", Payload: []byte(`"e"`)})
	// A poller whose connection is already gone must not swallow the event.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		req := httptest.NewRequest(http.MethodGet, pathNext, nil).WithContext(ctx)
		w.env.Handler().ServeHTTP(httptest.NewRecorder(), req)
	}
	r := w.rt.next()
	if r.status != http.StatusOK || r.header.Get("Lambda-Runtime-Aws-Request-Id") != "id-1" {
		t.Fatalf("next = %d %v, want the queued event", r.status, r.header)
	}
	w.rt.respond("id-1", []byte("ok"))
	if o := w.wait(ch); string(o.res.Payload) != "ok" {
		t.Errorf("Invoke = %q, %v", o.res.Payload, o.err)
	}
}
