package scheduler

import (
	"encoding/json"
	"strings"
	"testing"

	"tarn.dev/tarn/internal/runtimes"
)

// TestPrecompiledBootstrapBehavesAsTheSource runs a function with the
// bootstrap compiled ahead (as tarn server runs them): results, logging and
// error reports with the user's frames only are the same as from source.
func TestPrecompiledBootstrapBehavesAsTheSource(t *testing.T) {
	dir := t.TempDir()
	if err := runtimes.PrepareBootstrap(dir); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, Config{RuntimeDir: dir})
	fn := pyFunction(t, "precompiled", `import logging
logging.getLogger().setLevel(logging.INFO)
def handler(event, context):
    logging.info("got %s", event["n"])
    if event["n"] < 0:
        return 1 / 0
    return {"double": event["n"] * 2}
`)
	_, out := w.mustInvoke(fn, `{"n": 21}`)
	if out["double"] != float64(42) {
		t.Errorf("result = %v, want double 42", out)
	}
	resp, err := w.invoke(fn, `{"n": -1}`)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		ErrorType  string   `json:"errorType"`
		StackTrace []string `json:"stackTrace"`
	}
	if err := json.Unmarshal(resp.Payload, &e); err != nil || resp.FunctionError == "" {
		t.Fatalf("error invoke: %s (%v)", resp.Payload, err)
	}
	if e.ErrorType != "ZeroDivisionError" || len(e.StackTrace) == 0 {
		t.Errorf("error = %+v, want ZeroDivisionError with a stack trace", e)
	}
	for _, f := range e.StackTrace {
		if strings.Contains(f, "bootstrap") {
			t.Errorf("stack trace shows the bootstrap's frame %q", f)
		}
	}
	if !strings.Contains(string(resp.LogTail), "[INFO]") || !strings.Contains(string(resp.LogTail), "got -1") {
		t.Errorf("log tail lacks the handler's logging line:\n%s", resp.LogTail)
	}
}
