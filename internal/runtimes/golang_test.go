package runtimes

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"tarn.dev/tarn/internal/runtimeapi"
)

var goFunction struct {
	once sync.Once
	dir  string
	err  error
}

// buildGoFunction builds testdata/gofn (aws-lambda-go's lambda.Start) once
// into a code directory as its bootstrap executable.
func buildGoFunction(t *testing.T) string {
	t.Helper()
	goFunction.once.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			goFunction.err = err
			return
		}
		dir, err := os.MkdirTemp("", "gofn")
		if err != nil {
			goFunction.err = err
			return
		}
		goFunction.dir = dir
		cmd := exec.Command(gobin, "build", "-o", filepath.Join(dir, "bootstrap"), "./testdata/gofn")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			goFunction.err = errors.New(string(out))
		}
	})
	if goFunction.err != nil {
		t.Fatalf("build testdata/gofn: %v", goFunction.err)
	}
	return goFunction.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if goFunction.dir != "" {
		os.RemoveAll(goFunction.dir)
	}
	os.Exit(code)
}

func TestGoFunctionInvokes(t *testing.T) {
	f := start(t, "provided.al2", "unused", buildGoFunction(t), nil)
	for _, id := range []string{"req-1", "req-2"} {
		res := f.invoke(id, `{"name":"tarn"}`)
		if res.Error != nil {
			t.Fatalf("Invoke(%s) error %v: %s", id, res.Error, res.Payload)
		}
		var got map[string]any
		if err := json.Unmarshal(res.Payload, &got); err != nil {
			t.Fatalf("payload %q: %v", res.Payload, err)
		}
		want := map[string]any{"hello": "tarn", "request_id": id, "arn": "arn:aws:lambda:us-east-1:123456789012:function:fn",
			"function": "fn", "memory": float64(128), "has_deadline": true}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", id, k, got[k], v)
			}
		}
	}
}

func TestGoFunctionErrors(t *testing.T) {
	f := start(t, "provided.al2023", "unused", buildGoFunction(t), nil)
	res := f.invoke("req-fail", `{"fail":true}`)
	want := `{"errorMessage":"asked to fail","errorType":"errorString"}`
	if res.Error == nil || res.Error.Type != "errorString" || res.Error.Message != "asked to fail" {
		t.Fatalf("error = %+v (%s), want errorString: asked to fail", res.Error, res.Payload)
	}
	var got any
	json.Unmarshal(res.Payload, &got)
	if g, _ := json.Marshal(got); string(g) != want { // re-encoded: key order fixed
		t.Errorf("payload = %s, want %s", res.Payload, want)
	}
	// A returned error keeps the environment warm.
	if res := f.invoke("req-ok", `{"name":"again"}`); res.Error != nil {
		t.Fatalf("invoke after error: %v", res.Error)
	}

	// A panic is reported, then the process exits: the next invoke finds it gone.
	res = f.invoke("req-panic", `{"panic":true}`)
	if res.Error == nil || res.Error.Message != "asked to panic" {
		t.Fatalf("panic error = %+v (%s)", res.Error, res.Payload)
	}
	var body struct{ StackTrace []map[string]any }
	if json.Unmarshal(res.Payload, &body); len(body.StackTrace) == 0 {
		t.Errorf("panic payload %s has no stackTrace", res.Payload)
	}
	if err := f.waitExit(); err == nil {
		t.Error("runtime exited cleanly after a panic, want status 1")
	}
	r, err := f.env.Invoke(context.Background(), runtimeapi.Invocation{RequestID: "req-after"})
	if !errors.Is(err, runtimeapi.ErrRuntimeExited) || r.Error == nil || r.Error.Type != "Runtime.ExitError" {
		t.Errorf("Invoke after exit = %+v, %v; want Runtime.ExitError", r.Error, err)
	}
}
