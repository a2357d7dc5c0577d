package scheduler

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tarn.dev/tarn/internal/runtimes"
)

// benchFunction is a trivial Python handler with one CPU's worth of memory
// (1,769 MB), so the CPU quota does not slow its start, and a mount bound
// at /mnt/efs: a FUSE mount of a file system when FUSE is available, else a
// plain directory.
func benchFunction(b *testing.B) Function {
	fn := pyFunction(b, "bench", "def handler(event, context):\n    return event\n")
	fn.MemoryMB = 1769
	mnt := b.TempDir()
	if _, err := os.Stat("/dev/fuse"); err == nil && os.Getenv("TARN_BENCH_NO_FUSE") == "" {
		files := fileService(b)
		if _, err := files.Mount(context.Background(), "fs-0123456789abcdef0", mnt, false); err != nil {
			b.Fatal(err)
		}
	}
	fn.Mounts = []Mount{{HostPath: mnt, LocalMountPath: "/mnt/efs"}}
	return fn
}

// BenchmarkColdStart measures an environment's start until its runtime is
// ready (sandbox, mounts, interpreter, bootstrap at its first /next), and
// reports the idle environment's memory.
func BenchmarkColdStart(b *testing.B) {
	fn := benchFunction(b) // first, so its file system outlives the environments
	w := newWorld(b, Config{RuntimeDir: preparedRuntime(b)})
	fn = w.s.defaults(fn)
	var idle int64
	for b.Loop() {
		e, err := w.s.startEnv(context.Background(), fn, false)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		idle = max(idle, e.sb.Stats().MemoryBytes)
		e.destroy()
		b.StartTimer()
	}
	b.ReportMetric(float64(idle)/(1<<20), "idle-MiB")
	// The interpreter's own share, measured in the same run: a bare
	// interpreter that imported what the bootstrap imports, idle.
	interp := idlePythonRSS(b)
	b.ReportMetric(float64(interp)/(1<<20), "python-MiB")
	b.ReportMetric(float64(idle-interp)/(1<<20), "env-overhead-MiB")
}

// idlePythonRSS starts /usr/bin/python3 importing the bootstrap's modules,
// waits until it is idle and returns its resident memory.
func idlePythonRSS(b *testing.B) int64 {
	cmd := exec.Command(python, "-c", "import json, os, socket, sys, time, importlib.machinery; print('ready', flush=True); time.sleep(60)")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(out, buf); err != nil {
		b.Fatal(err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// preparedRuntime compiles the bootstrap as tarn server does at start.
func preparedRuntime(b *testing.B) string {
	dir := b.TempDir()
	if err := runtimes.PrepareBootstrap(dir); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkBarePython is the cold start's reference: the interpreter alone.
func BenchmarkBarePython(b *testing.B) {
	requireRoot(b)
	for b.Loop() {
		if err := exec.Command(python, "-c", "pass").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmInvoke measures an invocation's round trip through the
// Runtime API of a warm environment, and reports its median.
func BenchmarkWarmInvoke(b *testing.B) {
	fn := benchFunction(b) // first, so its file system outlives the environments
	w := newWorld(b, Config{})
	w.mustInvoke(fn, `{}`)
	var times []time.Duration
	req := Request{RequestID: "bench", Payload: []byte(`{"k":1}`)}
	for b.Loop() {
		t0 := time.Now()
		resp, err := w.s.Invoke(context.Background(), fn, req)
		times = append(times, time.Since(t0))
		if err != nil || resp.FunctionError != "" {
			b.Fatal(err, string(resp.Payload))
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
}

//go:noinline
func directHandler(event []byte) []byte { return event }

// BenchmarkDirectCall is the warm invocation's reference: the handler
// called in-process.
func BenchmarkDirectCall(b *testing.B) {
	p := []byte(`{"k":1}`)
	for b.Loop() {
		directHandler(p)
	}
}
