package scheduler

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tarn.dev/tarn/internal/logs"
	"tarn.dev/tarn/internal/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunInit()
	code := m.Run()
	for _, dir := range cgroupDirs() {
		os.Remove(dir)
	}
	os.Exit(code)
}

const python = "/usr/bin/python3"

// testCgroupParent keeps this process's sandboxes apart from others'.
var testCgroupParent = "tarn-sched-test-" + strconv.Itoa(os.Getpid())

func cgroupDirs() []string {
	var dirs []string
	for _, c := range []string{"memory", "cpu", "pids", "freezer", "unified", ""} {
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", c, testCgroupParent))
	}
	return dirs
}

// leftCgroups lists the sandbox cgroups still under the test parent.
func leftCgroups() []string {
	var left []string
	for _, d := range cgroupDirs() {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if e.IsDir() {
				left = append(left, filepath.Join(d, e.Name()))
			}
		}
	}
	return left
}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("scheduler tests start sandboxes, which need root: run go test as root")
	}
	if _, err := os.Stat(python); err != nil {
		t.Skipf("scheduler tests run %s: %v", python, err)
	}
}

type world struct {
	t     testing.TB
	s     *Scheduler
	store *logs.Store
}

// newWorld returns a scheduler whose environments go under the test's
// cgroup parent and whose logs go to a temporary store; at the end it
// closes it and checks nothing is left.
func newWorld(t testing.TB, cfg Config) *world {
	t.Helper()
	requireRoot(t)
	store, err := logs.Open(t.TempDir(), logs.Options{MaxStreamBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logs = store
	cfg.CgroupParent = testCgroupParent
	s := New(cfg)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if left := leftCgroups(); len(left) > 0 {
			t.Errorf("cgroups left after Close: %v", left)
		}
	})
	return &world{t: t, s: s, store: store}
}

// codeDir writes files into a code directory the sandbox user can read.
func codeDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pyFunction is a python3.12 function whose lambda_function.py is code.
func pyFunction(t testing.TB, name, code string) Function {
	return Function{
		Name: name, Runtime: "python3.12", Handler: "lambda_function.handler",
		CodeDir:  codeDir(t, map[string]string{"lambda_function.py": code}),
		MemoryMB: 256, Timeout: 30 * time.Second, Revision: "1",
	}
}

// sharedDir is a directory every sandbox user may write, bound at /mnt/shared.
func sharedDir(t testing.TB) (string, Mount) {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	return dir, Mount{HostPath: dir, LocalMountPath: "/mnt/shared"}
}

func (w *world) invoke(fn Function, payload string) (Response, error) {
	id := "req-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	return w.s.Invoke(ctx, fn, Request{RequestID: id, Payload: []byte(payload)})
}

// mustInvoke invokes and fails the test on an error or a function error.
func (w *world) mustInvoke(fn Function, payload string) (Response, map[string]any) {
	w.t.Helper()
	resp, err := w.invoke(fn, payload)
	if err != nil {
		w.t.Fatalf("Invoke(%s): %v", fn.Name, err)
	}
	if resp.FunctionError != "" {
		w.t.Fatalf("Invoke(%s): %s: %s\nlog:\n%s", fn.Name, resp.ErrorType, resp.Payload, resp.LogTail)
	}
	var out map[string]any
	json.Unmarshal(resp.Payload, &out)
	return resp, out
}

// stream reads a whole log stream as lines.
func (w *world) stream(fn, name string) []string {
	w.t.Helper()
	evs, err := w.store.Read(fn, name, logs.Query{})
	if err != nil {
		w.t.Fatal(err)
	}
	var lines []string
	for _, e := range evs {
		lines = append(lines, e.Message)
	}
	return lines
}

// eventually polls cond until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func contains(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
