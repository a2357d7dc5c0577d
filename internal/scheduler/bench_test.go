package scheduler

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
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
	w := newWorld(b, Config{})
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
