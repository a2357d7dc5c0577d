package runtimes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"tarn.dev/tarn/internal/runtimeapi"
)

func TestPythonHandlerResults(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.py": `
def as_dict(event, context): return {"echo": event, "n": 1}
def as_str(event, context): return "hello"
def as_none(event, context): return None
def as_bytes(event, context): return b"\x00raw"
def as_unicode(event, context): return {"s": "h\u00e9"}
def unserialisable(event, context): return object()
`})
	tests := []struct {
		handler, event   string
		want, wantType   string
		wantErrorType    string
		wantErrorMessage string
	}{
		{handler: "app.as_dict", event: `{"k": [1, 2]}`, want: `{"echo": {"k": [1, 2]}, "n": 1}`, wantType: "application/json"},
		{handler: "app.as_str", event: `{}`, want: `"hello"`, wantType: "application/json"},
		{handler: "app.as_none", event: `{}`, want: `null`, wantType: "application/json"},
		{handler: "app.as_bytes", event: `{}`, want: "\x00raw", wantType: "application/unknown"},
		{handler: "app.as_unicode", event: `{}`, want: `{"s": "h\u00e9"}`, wantType: "application/json"},
		{handler: "app.unserialisable", event: `{}`, wantErrorType: "Runtime.MarshalError",
			wantErrorMessage: "Unable to marshal response: Object of type object is not JSON serializable"},
	}
	for _, tt := range tests {
		t.Run(tt.handler, func(t *testing.T) {
			t.Parallel()
			f := start(t, "python3.12", tt.handler, dir, nil)
			res := f.invoke("req-1", tt.event)
			if tt.wantErrorType != "" {
				if res.Error == nil || res.Error.Type != tt.wantErrorType || res.Error.Message != tt.wantErrorMessage {
					t.Fatalf("error = %+v, want %s %q", res.Error, tt.wantErrorType, tt.wantErrorMessage)
				}
				return
			}
			if res.Error != nil {
				t.Fatalf("error = %v (%s)", res.Error, res.Payload)
			}
			if string(res.Payload) != tt.want || res.ContentType != tt.wantType {
				t.Errorf("result = %q (%s), want %q (%s)", res.Payload, res.ContentType, tt.want, tt.wantType)
			}
		})
	}
}

func TestPythonModuleCodeRunsOnce(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.py": `
imports = globals().get("imports", 0) + 1
calls = 0
def handler(event, context):
    global calls
    calls += 1
    return {"imports": imports, "calls": calls}
`})
	f := start(t, "python3.11", "app.handler", dir, nil)
	for i := 1; i <= 3; i++ {
		res := f.invoke(fmt.Sprintf("req-%d", i), `{}`)
		want := fmt.Sprintf(`{"imports": 1, "calls": %d}`, i)
		if string(res.Payload) != want {
			t.Errorf("invoke %d = %s, want %s", i, res.Payload, want)
		}
	}
	if d := f.env.InitDuration(); d <= 0 {
		t.Errorf("InitDuration = %v, want > 0", d)
	}
}

func TestPythonContext(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.py": `
import os, time
def handler(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.02)
    second = context.get_remaining_time_in_millis()
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_custom": context.client_context.custom,
        "client_app": context.client_context.client.app_title,
        "first": first, "second": second,
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "env": os.environ.get("AWS_EXECUTION_ENV"),
        "user": os.environ.get("GREETING"),
    }
`})
	f := start(t, "python3.12", "app.handler", dir, map[string]string{"GREETING": "hi"})
	res, err := f.env.Invoke(context.Background(), runtimeapi.Invocation{
		RequestID: "req-ctx", Payload: []byte(`{}`), Deadline: timeNowPlus(60),
		FunctionARN:   "arn:aws:lambda:us-east-1:123456789012:function:fn:live",
		Identity:      `{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pool"}`,
		ClientContext: `{"custom":{"k":"v"},"client":{"app_title":"app"}}`,
		TraceID:       "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
	})
	if err != nil || res.Error != nil {
		t.Fatalf("Invoke = %s, %v", res.Payload, err)
	}
	var got map[string]any
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"aws_request_id":       "req-ctx",
		"function_name":        "fn",
		"function_version":     "$LATEST",
		"invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:fn:live",
		"memory_limit_in_mb":   "128",
		"log_group_name":       "/aws/lambda/fn",
		"client_app":           "app",
		"trace":                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
		"env":                  "AWS_Lambda_python3.12",
		"user":                 "hi",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("context %s = %v, want %v", k, got[k], v)
		}
	}
	if ids, _ := got["identity"].([]any); len(ids) != 2 || ids[0] != "cid" || ids[1] != "pool" {
		t.Errorf("identity = %v", got["identity"])
	}
	if c, _ := got["client_custom"].(map[string]any); c["k"] != "v" {
		t.Errorf("client_context.custom = %v", got["client_custom"])
	}
	if !regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`).MatchString(fmt.Sprint(got["log_stream_name"])) {
		t.Errorf("log_stream_name = %v", got["log_stream_name"])
	}
	first, second := got["first"].(float64), got["second"].(float64)
	if !(first > second && second > 0 && first <= 60000) {
		t.Errorf("get_remaining_time_in_millis: %v then %v, want decreasing within (0, 60000]", first, second)
	}
}

func TestPythonUnhandledException(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.py": `
def divide(n):
    return n / 0

def handler(event, context):
    return divide(1)
`})
	f := start(t, "python3.12", "app.handler", dir, nil)
	res := f.invoke("req-err", `{}`)
	if res.Error == nil || res.Error.Type != "ZeroDivisionError" || res.Error.Message != "division by zero" {
		t.Fatalf("error = %+v (%s), want ZeroDivisionError: division by zero", res.Error, res.Payload)
	}
	var body struct {
		ErrorMessage, ErrorType, RequestID string
		StackTrace                         []string
	}
	if err := json.Unmarshal(res.Payload, &body); err != nil {
		t.Fatal(err)
	}
	if body.RequestID != "req-err" || len(body.StackTrace) != 2 {
		t.Fatalf("error body = %+v, want requestId req-err and the 2 user frames", body)
	}
	wantFrames := []string{`app.py", line 6, in handler` + "\n    return divide(1)\n", `app.py", line 3, in divide` + "\n    return n / 0\n"}
	for i, w := range wantFrames {
		if !strings.HasPrefix(body.StackTrace[i], `  File "`+dir) || !strings.HasSuffix(body.StackTrace[i], w) {
			t.Errorf("stackTrace[%d] = %q, want the frame ending %q", i, body.StackTrace[i], w)
		}
	}
	// The environment stays warm after a function error.
	if res := f.invoke("req-2", `{}`); res.Error == nil {
		t.Error("second invoke succeeded, want the same error")
	}
	if out, ok := f.output(regexp.MustCompile(`\[ERROR\] ZeroDivisionError: division by zero\nTraceback \(most recent call last\):\n  File "`)); !ok {
		t.Errorf("log lacks the error event:\n%s", out)
	}
}

func TestPythonInitErrors(t *testing.T) {
	files := map[string]string{
		"app.py":    "def handler(event, context): return 1\n",
		"broken.py": "def handler(event, context) return 1\n",
		"raises.py": "raise ValueError('bad config')\n",
	}
	tests := []struct {
		handler, wantType, wantMessage string
	}{
		{"missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing': No module named 'missing'"},
		{"app.nope", "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"},
		{"nodot", "Runtime.MalformedHandlerName", "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)"},
		{"broken.handler", "Runtime.UserCodeSyntaxError", ""},
		{"raises.handler", "ValueError", "bad config"},
		{"sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"},
	}
	for _, tt := range tests {
		t.Run(tt.handler, func(t *testing.T) {
			t.Parallel()
			f := start(t, "python3.12", tt.handler, writeFiles(t, files), nil)
			_, err := f.env.WaitReady(context.Background())
			var fe *runtimeapi.FunctionError
			if !errors.Is(err, runtimeapi.ErrInitFailed) || !errors.As(err, &fe) {
				t.Fatalf("WaitReady = %v, want ErrInitFailed", err)
			}
			if fe.Type != tt.wantType || (tt.wantMessage != "" && fe.Message != tt.wantMessage) {
				t.Errorf("init error = %s %q, want %s %q", fe.Type, fe.Message, tt.wantType, tt.wantMessage)
			}
			var exit *exec.ExitError
			if err := f.waitExit(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("runtime exit = %v, want status 1", err)
			}
			res, err := f.env.Invoke(context.Background(), runtimeapi.Invocation{RequestID: "req-1"})
			if !errors.Is(err, runtimeapi.ErrInitFailed) || res.Error == nil || res.Error.Type != tt.wantType {
				t.Errorf("Invoke after init error = %+v, %v", res.Error, err)
			}
		})
	}
}

func TestPythonLogsCaptured(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.py": `
import logging, sys
logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("at import")
def handler(event, context):
    print("printed", event["n"])
    logger.info("info %s", event["n"])
    logging.debug("hidden")
    sys.stderr.write("to stderr\n")
    return "ok"
`})
	f := start(t, "python3.12", "app.handler", dir, nil)
	f.invoke("req-log", `{"n": 7}`)
	for _, want := range []string{`(?m)^at import$`, `(?m)^printed 7$`, `(?m)^to stderr$`,
		`(?m)^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-log\tinfo 7$`} {
		if out, ok := f.output(regexp.MustCompile(want)); !ok {
			t.Errorf("output lacks %s:\n%q", want, out)
		}
	}
	out := f.out.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("DEBUG record logged at INFO level:\n%s", out)
	}
}

func TestPythonPackageHandler(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"pkg/__init__.py": "",
		"pkg/mod.py":      "from . import helper\ndef func(event, context): return helper.VALUE\n",
		"pkg/helper.py":   "VALUE = 'from package'\n",
	})
	for _, handler := range []string{"pkg/mod.func", "pkg.mod.func"} {
		t.Run(strings.ReplaceAll(handler, "/", "_"), func(t *testing.T) {
			f := start(t, "python3.13", handler, dir, nil)
			if res := f.invoke("req-pkg", `{}`); string(res.Payload) != `"from package"` {
				t.Errorf("result = %s", res.Payload)
			}
		})
	}
}

func TestPythonOptLayerOnPath(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.py": "import sys\ndef handler(e, c): return sys.path[:3]\n"})
	f := start(t, "python3.9", "app.handler", dir, nil)
	var path []string
	json.Unmarshal(f.invoke("req-path", `{}`).Payload, &path)
	if len(path) != 3 || path[0] != dir || path[2] != "/opt/python" || !strings.HasPrefix(path[1], "/opt/python/lib/python3.") {
		t.Errorf("sys.path starts %v, want [task root, /opt/python/lib/pythonX.Y/site-packages, /opt/python]", path)
	}
}

func TestPythonTimeoutAndExit(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.py": `
import os, time
def handler(event, context):
    if event.get("exit"):
        os._exit(3)
    time.sleep(60)
`})
	t.Run("timeout", func(t *testing.T) {
		f := start(t, "python3.12", "app.handler", dir, nil)
		res, err := f.env.Invoke(context.Background(), runtimeapi.Invocation{
			RequestID: "req-slow", Payload: []byte(`{}`), Deadline: timeNowPlus(1), Timeout: 1e9,
		})
		if !errors.Is(err, runtimeapi.ErrTimedOut) || res.Error == nil ||
			string(res.Payload) != `{"errorMessage":"RequestId: req-slow Error: Task timed out after 1.00 seconds","errorType":"Sandbox.Timedout"}` {
			t.Fatalf("Invoke = %s, %v; want Sandbox.Timedout", res.Payload, err)
		}
	})
	t.Run("exit", func(t *testing.T) {
		f := start(t, "python3.12", "app.handler", dir, nil)
		res, err := f.env.Invoke(context.Background(), runtimeapi.Invocation{RequestID: "req-exit", Payload: []byte(`{"exit": true}`)})
		if !errors.Is(err, runtimeapi.ErrRuntimeExited) || res.Error == nil ||
			res.Error.Message != "RequestId: req-exit Error: Runtime exited with error: exit status 3" {
			t.Fatalf("Invoke = %s, %v; want Runtime.ExitError with exit status 3", res.Payload, err)
		}
	})
}
