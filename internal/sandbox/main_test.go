//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	MaybeRunInit()
	code := m.Run()
	// Leave no cgroup behind: the test parents are empty by now.
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		for _, c := range append(v1Controllers, "") {
			_ = os.Remove(filepath.Join(root, c, testCgroupParent))
		}
	}
	os.Exit(code)
}

const python = "/usr/bin/python3"

// testCgroupParent keeps test sandboxes apart from a running server's and
// from those of other test processes.
var testCgroupParent = "tarn-test-" + strconv.Itoa(os.Getpid())

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sandbox tests need root (namespaces, mounts and cgroups); run go test as root")
	}
	if _, err := os.Stat(python); err != nil {
		t.Skipf("sandbox tests run %s: %v", python, err)
	}
}

// run starts a sandboxed python program with spec's other fields and waits
// for it.
type result struct {
	info           ExitInfo
	stdout, stderr string
}

func pySpec(code string) Spec {
	return Spec{
		Argv:         []string{python, "-c", code},
		Env:          []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"},
		CgroupParent: testCgroupParent,
		TmpSize:      8 << 20,
	}
}

func run(t *testing.T, spec Spec) result {
	t.Helper()
	var out, errb bytes.Buffer
	spec.Stdout, spec.Stderr = &out, &errb
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { s.Kill() })
	defer timer.Stop()
	info, err := s.Wait()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return result{info, out.String(), strings.TrimSpace(errb.String())}
}

// watchWriter collects output and closes ready when it first sees "ready".
type watchWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	seen  bool
}

func newWatchWriter() *watchWriter { return &watchWriter{ready: make(chan struct{})} }

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.seen && bytes.Contains(w.buf.Bytes(), []byte("ready")) {
		w.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startReady starts spec with stdout going to a watchWriter and waits until
// the program prints "ready".
func startReady(t *testing.T, spec Spec) (*Sandbox, *watchWriter) {
	t.Helper()
	w := newWatchWriter()
	var errb syncBuffer
	spec.Stdout, spec.Stderr = w, &errb
	s, err := Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Kill() })
	select {
	case <-w.ready:
	case <-s.Done():
		t.Fatalf("sandbox exited before ready: %+v stdout %q stderr %q", s.info, w.String(), errb.String())
	case <-time.After(time.Minute):
		t.Fatalf("sandbox not ready: stdout %q stderr %q", w.String(), errb.String())
	}
	return s, w
}

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
