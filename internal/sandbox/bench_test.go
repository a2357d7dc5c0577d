//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkColdStart times a sandboxed `python3 -c pass` (start, set-up,
// interpreter, exit, clean-up) next to a bare exec of the same command,
// started both by Start and by a Starter holding a spare init, and reports
// the ratios and the memory of an idle sandbox's init.
func BenchmarkColdStart(b *testing.B) {
	requireRoot(b)
	spec := pySpec("pass")
	st := &Starter{}
	defer st.Close()
	sandboxed := func(start func(context.Context, Spec) (*Sandbox, error)) {
		s, err := start(context.Background(), spec)
		if err != nil {
			b.Fatal(err)
		}
		if info, err := s.Wait(); err != nil || info.ExitCode != 0 {
			b.Fatalf("Wait = %+v, %v", info, err)
		}
	}
	// The three run one after the other, not interleaved, so that a
	// Starter's replacement init, coming up in the background, is not
	// timed against the other two.
	timed := func(run func()) time.Duration {
		t0 := time.Now()
		for range b.N {
			run()
		}
		return time.Since(t0)
	}
	b.ResetTimer()
	bare := timed(func() {
		if err := exec.Command(python, "-c", "pass").Run(); err != nil {
			b.Fatal(err)
		}
	})
	fresh := timed(func() { sandboxed(Start) })
	spare := timed(func() { sandboxed(st.Start) })
	n := float64(b.N)
	b.ReportMetric(float64(bare.Microseconds())/n/1000, "bare-ms/op")
	b.ReportMetric(float64(fresh.Microseconds())/n/1000, "start-ms/op")
	b.ReportMetric(float64(spare.Microseconds())/n/1000, "starter-ms/op")
	b.ReportMetric(float64(fresh)/float64(bare), "start/bare")
	b.ReportMetric(float64(spare)/float64(bare), "starter/bare")

	b.StopTimer()
	rss, private, cg := idleFootprint(b)
	b.ReportMetric(float64(rss)/1024, "init-RSS-KiB")
	b.ReportMetric(float64(private)/1024, "init-private-KiB")
	b.ReportMetric(float64(cg)/1024, "idle-cgroup-KiB")
}

// idleFootprint starts a sandbox whose process sleeps and returns the
// init's resident and private memory and the cgroup's charge, which also
// counts the sleeping process.
func idleFootprint(b *testing.B) (rss, private, cgroup int64) {
	spec := pySpec("import time; print('ready', flush=True); time.sleep(3600)")
	w := newWatchWriter()
	spec.Stdout = w
	s, err := Start(context.Background(), spec)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Kill()
	select {
	case <-w.ready:
	case <-time.After(time.Minute):
		b.Fatal("sandbox not ready")
	}
	time.Sleep(100 * time.Millisecond) // let the init settle after its GC
	f := smapsRollup(b, s.Pid())
	return f["Rss"], f["Private_Clean"] + f["Private_Dirty"], s.Stats().MemoryBytes
}

// smapsRollup reads /proc/pid/smaps_rollup in bytes.
func smapsRollup(b *testing.B, pid int) map[string]int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	m := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 2 && fs[1] == "kB" {
			n, _ := strconv.ParseInt(fs[0], 10, 64)
			m[k] = n << 10
		}
	}
	return m
}
