package runtimes

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"tarn.dev/tarn/internal/runtimeapi"
)

// syncBuffer collects a child's output safely across goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// function is one running execution environment: a Runtime API served on
// loopback and the runtime as a plain child process.
type function struct {
	t      testing.TB
	env    *runtimeapi.Environment
	out    *syncBuffer
	exited chan struct{}
	err    error // the process's exit error, valid after exited closes
}

// writeFiles creates files (path → content) under a new code directory.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// start launches runtime id for the code in dir with fn's environment.
func start(t testing.TB, id, handler, dir string, userEnv map[string]string) *function {
	t.Helper()
	if id[:6] == "python" {
		if _, err := os.Stat(PythonInterpreter); err != nil {
			t.Skipf("%s not installed: %v", PythonInterpreter, err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := runtimeapi.New(runtimeapi.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { env.Serve(ctx, ln); close(served) }()

	argv, err := Command(id, dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &function{t: t, env: env, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = Environment(FunctionInfo{
		Name: "fn", Runtime: id, Handler: handler, RuntimeAPI: ln.Addr().String(), TaskRoot: dir,
		LogStreamName: LogStreamName(time.Now(), "$LATEST"), UserEnv: userEnv,
	})
	cmd.Stdout, cmd.Stderr = f.out, f.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		f.err = cmd.Wait()
		env.RuntimeExited(f.err)
		close(f.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-f.exited
		cancel()
		<-served
		if t.Failed() {
			t.Logf("runtime output:\n%s", f.out)
		}
	})
	return f
}

// invoke runs one invocation with a deadline far enough for a loaded machine.
func (f *function) invoke(id string, payload string) runtimeapi.Result {
	f.t.Helper()
	res, err := f.env.Invoke(context.Background(), runtimeapi.Invocation{
		RequestID: id, Payload: []byte(payload), Deadline: time.Now().Add(30 * time.Second),
		FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:fn",
	})
	if err != nil {
		f.t.Fatalf("Invoke(%s): %v (result %s)", id, err, res.Payload)
	}
	return res
}

// waitExit waits for the runtime process to exit.
func (f *function) waitExit() error {
	f.t.Helper()
	select {
	case <-f.exited:
		return f.err
	case <-time.After(30 * time.Second):
		f.t.Fatal("runtime did not exit")
		return nil
	}
}

func timeNowPlus(seconds int) time.Time { return time.Now().Add(time.Duration(seconds) * time.Second) }

// output waits until the runtime's output matches re (the pipe is copied
// asynchronously, so lines may trail the invocation's answer) and returns it.
func (f *function) output(re *regexp.Regexp) (string, bool) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if out := f.out.String(); re.MatchString(out) {
			return out, true
		}
	}
	return f.out.String(), false
}
