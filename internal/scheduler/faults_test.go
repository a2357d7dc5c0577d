package scheduler

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// faulty handles {"ok": true} normally and misbehaves otherwise.
func faulty(misbehave string) string {
	return `
import os, sys, time
def handler(event, context):
    if event.get("ok"):
        return {"pid": os.getpid()}
` + indent(misbehave)
}

func indent(code string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(code), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// closeEarly is a custom runtime that takes one event, starts posting its
// response, closes the connection half-way and exits.
const closeEarly = `#!/usr/bin/python3
import os, socket, http.client
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
c = http.client.HTTPConnection(host, int(port))
c.request("GET", "/2018-06-01/runtime/invocation/next")
r = c.getresponse()
rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
r.read()
s = socket.create_connection((host, int(port)))
s.sendall(("POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\npartial" % rid).encode())
s.close()
os._exit(2)
`

func TestFaultsAreReportedAndContained(t *testing.T) {
	w := newWorld(t, Config{})
	for _, tc := range []struct {
		name      string
		code      string // the misbehaving branch of the handler
		fn        func(*Function)
		errorType string
		message   string // regexp matched against the payload
		keepsEnv  bool   // the environment survives
	}{
		{name: "exception", code: `return 1 / 0`, errorType: "ZeroDivisionError", message: `division by zero`, keepsEnv: true},
		{name: "exit", code: `os._exit(3)`, errorType: "Runtime.ExitError",
			message: `RequestId: \S+ Error: Runtime exited with error: exit status 3`},
		{name: "hang", code: `time.sleep(3600)`, fn: func(f *Function) { f.Timeout = time.Second },
			errorType: "Sandbox.Timedout", message: `RequestId: \S+ Error: Task timed out after 1.00 seconds`},
		{name: "fork bomb", fn: func(f *Function) { f.Timeout = 2 * time.Second },
			code:      "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
			errorType: "Sandbox.Timedout", message: `Task timed out after 2.00 seconds`},
		{name: "tmp full", fn: func(f *Function) { f.EphemeralMB = 4 },
			code:      "with open('/tmp/fill', 'wb') as f:\n    while True:\n        f.write(b'x' * 65536)",
			errorType: "OSError", message: `No space left on device`, keepsEnv: true},
		{name: "memory", fn: func(f *Function) { f.MemoryMB = 128 },
			code:      "blocks = []\nwhile True:\n    blocks.append(b'x' * (16 << 20))",
			errorType: "Runtime.OutOfMemory", message: `RequestId: \S+ Error: Runtime exited with error: signal: killed`},
		{name: "response too large", code: `return "x" * (7 << 20)`,
			errorType: "Function.ResponseSizeTooLarge", message: `Response payload size`},
		{name: "import error", fn: func(f *Function) { f.Handler = "missing_module.handler" },
			errorType: "Runtime.ImportModuleError", message: `Unable to import module 'missing_module'`},
		{name: "handler not found", fn: func(f *Function) { f.Handler = "lambda_function.nope" },
			errorType: "Runtime.HandlerNotFound", message: `Handler 'nope' missing on module 'lambda_function'`},
		{name: "runtime api closed early", fn: func(f *Function) {
			f.Runtime = "provided.al2"
			f.CodeDir = codeDir(t, map[string]string{"bootstrap": closeEarly})
		}, errorType: "Runtime.ExitError", message: `exit status 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := pyFunction(t, "fault-"+strings.ReplaceAll(tc.name, " ", "-"), faulty(tc.code))
			if tc.fn != nil {
				tc.fn(&fn)
			}
			resp, err := w.invoke(fn, `{}`)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if resp.FunctionError != "Unhandled" || resp.ErrorType != tc.errorType {
				t.Fatalf("error %q %q (%s), want Unhandled %s\nlog:\n%s", resp.FunctionError, resp.ErrorType, resp.Payload, tc.errorType, resp.LogTail)
			}
			if !regexp.MustCompile(tc.message).Match(resp.Payload) {
				t.Errorf("payload %s does not match %q", resp.Payload, tc.message)
			}
			if !strings.Contains(string(resp.LogTail), "REPORT RequestId: ") {
				t.Errorf("log tail without REPORT: %q", resp.LogTail)
			}
			envs, busy := w.s.Stats(fn.Name)
			if busy != 0 || (tc.keepsEnv && envs != 1) || (!tc.keepsEnv && envs != 0) {
				t.Errorf("Stats = %d envs, %d busy; keeps env %v", envs, busy, tc.keepsEnv)
			}
			if fn.Runtime != "python3.12" || strings.Contains(fn.Handler, "nope") || strings.Contains(fn.Handler, "missing") {
				return
			}
			if r2, _ := w.mustInvoke(fn, `{"ok": true}`); r2.Cold == tc.keepsEnv {
				t.Errorf("next invocation cold = %v, want %v", r2.Cold, !tc.keepsEnv)
			}
		})
	}
}

func TestTimeoutLogsTheTimeoutLine(t *testing.T) {
	w := newWorld(t, Config{})
	fn := pyFunction(t, "timeout-log", faulty(`print("before"); time.sleep(3600)`))
	fn.Timeout = time.Second
	resp, err := w.invoke(fn, `{}`)
	if err != nil || resp.ErrorType != "Sandbox.Timedout" {
		t.Fatalf("Invoke = %v, %s", err, resp.ErrorType)
	}
	lines := w.stream(fn.Name, resp.LogStream)
	got := strings.Join(lines, "\n")
	for _, re := range []string{
		`(?m)^before$\n^\d{4}-\d\d-\d\dT\S+Z req-\S+ Task timed out after 1.00 seconds$\n^END RequestId: `,
		`REPORT RequestId: \S+\tDuration: [\d.]+ ms\t.*Status: timeout\t$`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("log stream does not match %q:\n%s", re, got)
		}
	}
}

func TestFloodOfOutputIsBoundedAndTheEnvironmentCarriesOn(t *testing.T) {
	w := newWorld(t, Config{})
	fn := pyFunction(t, "flood", faulty(`
chunk = b"y" * (1 << 20) + b"\n"
for _ in range(1024):
    os.write(1, chunk)
return "flooded"`))
	fn.MemoryMB = 1024
	fn.Timeout = 2 * time.Minute
	resp, err := w.invoke(fn, `{}`)
	if err != nil || resp.FunctionError != "" || string(resp.Payload) != `"flooded"` {
		t.Fatalf("Invoke = %v, %s %s", err, resp.ErrorType, resp.Payload)
	}
	if len(resp.LogTail) > tailSize {
		t.Errorf("log tail of %d bytes", len(resp.LogTail))
	}
	streams, _ := w.store.Streams(fn.Name)
	if len(streams) != 1 || streams[0].StoredBytes > 3<<20 {
		t.Errorf("streams %+v: want one bounded by twice the store's 1 MiB", streams)
	}
	lines := w.stream(fn.Name, resp.LogStream)
	if !strings.HasPrefix(lines[len(lines)-1], "REPORT ") || !strings.HasPrefix(lines[len(lines)-2], "END ") {
		t.Errorf("stream ends %q", lines[len(lines)-2:])
	}
	if r2, _ := w.mustInvoke(fn, `{"ok": true}`); r2.Cold {
		t.Error("the environment did not survive the flood")
	}
}
