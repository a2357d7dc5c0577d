package scheduler

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const counterHandler = `
import os
count = 0
def handler(event, context):
    global count
    count += 1
    print("handling", count)
    return {"count": count, "pid": os.getpid(), "init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
            "stream": context.log_stream_name}
`

func TestWarmEnvironmentIsReusedAndLogsEachInvocation(t *testing.T) {
	w := newWorld(t, Config{})
	fn := pyFunction(t, "counter", counterHandler)
	r1, out1 := w.mustInvoke(fn, `{}`)
	r2, out2 := w.mustInvoke(fn, `{}`)
	if out1["count"] != 1.0 || out2["count"] != 2.0 {
		t.Fatalf("counts %v, %v; want 1 then 2 (the module kept between invocations)", out1["count"], out2["count"])
	}
	if !r1.Cold || r2.Cold || r1.InitDuration == 0 || r2.InitDuration != 0 {
		t.Errorf("cold/init = %v %v, %v %v; want a cold first invocation with Init Duration, then warm", r1.Cold, r1.InitDuration, r2.Cold, r2.InitDuration)
	}
	if out1["stream"] != r1.LogStream || r1.LogStream != r2.LogStream || out1["init"] != "on-demand" {
		t.Errorf("stream %v / %s / %s, init %v", out1["stream"], r1.LogStream, r2.LogStream, out1["init"])
	}
	if envs, busy := w.s.Stats("counter"); envs != 1 || busy != 0 {
		t.Errorf("Stats = %d envs, %d busy; want 1, 0", envs, busy)
	}
	lines := w.stream("counter", r1.LogStream)
	var kinds []string
	for _, l := range lines {
		kinds = append(kinds, strings.Fields(l)[0])
	}
	want := "START handling END REPORT START handling END REPORT"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("log stream = %q\nwant %q", lines, want)
	}
	if !strings.Contains(lines[3], "Init Duration: ") || strings.Contains(lines[7], "Init Duration") {
		t.Errorf("REPORTs %q, %q: want Init Duration on the first only", lines[3], lines[7])
	}
	if !strings.Contains(lines[3], "Memory Size: 256 MB") || !strings.HasSuffix(lines[3], "\t") {
		t.Errorf("REPORT %q", lines[3])
	}
	if !strings.HasPrefix(string(r2.LogTail), "START RequestId: ") || !strings.Contains(string(r2.LogTail), "handling 2\n") ||
		strings.Contains(string(r2.LogTail), "handling 1") {
		t.Errorf("LogTail of the second invocation = %q", r2.LogTail)
	}
}

// gated is a handler that blocks until /mnt/shared/go exists.
const gated = `
import os, time
def handler(event, context):
    while not os.path.exists("/mnt/shared/go"):
        time.sleep(0.01)
    return {"pid": os.getpid(), "init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
`

// hold starts n invocations of fn that block on the gate, waits until all
// are in flight, and returns a function that opens the gate and collects
// their responses.
func hold(t *testing.T, w *world, fn Function, gate string, n int) func() []Response {
	t.Helper()
	var wg sync.WaitGroup
	resps := make([]Response, n)
	errs := make([]error, n)
	_, before := w.s.Stats(fn.Name)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); resps[i], errs[i] = w.invoke(fn, `{}`) }()
	}
	eventually(t, "invocations in flight", func() bool { _, b := w.s.Stats(fn.Name); return b == before+n })
	return func() []Response {
		os.WriteFile(filepath.Join(gate, "go"), nil, 0o644)
		wg.Wait()
		os.Remove(filepath.Join(gate, "go"))
		for i, err := range errs {
			if err != nil || resps[i].FunctionError != "" {
				t.Fatalf("held invocation: %v %s", err, resps[i].Payload)
			}
		}
		return resps
	}
}

func intp(n int) *int { return &n }

func TestReservedConcurrencyCapsEnvironmentsAndThrottles(t *testing.T) {
	w := newWorld(t, Config{})
	gate, m := sharedDir(t)
	fn := pyFunction(t, "reserved", gated)
	fn.Mounts = []Mount{m}
	fn.Reserved = intp(2)
	release := hold(t, w, fn, gate, 2)
	_, err := w.invoke(fn, `{}`)
	var te *ThrottleError
	if !errors.As(err, &te) || te.Reason != ReasonReserved {
		t.Errorf("third invocation with 2 reserved: %v, want a throttle with %s", err, ReasonReserved)
	}
	resps := release()
	if resps[0].LogStream == resps[1].LogStream {
		t.Error("two concurrent invocations ran in the same environment")
	}
	if envs, busy := w.s.Stats(fn.Name); envs != 2 || busy != 0 {
		t.Errorf("Stats = %d, %d; want 2 environments, none busy", envs, busy)
	}

	fn.Reserved = intp(0)
	if _, err := w.invoke(fn, `{}`); !errors.As(err, &te) || te.Reason != ReasonReserved {
		t.Errorf("invocation with 0 reserved: %v, want a throttle with %s", err, ReasonReserved)
	}
}

func TestAccountLimitThrottlesUnreservedFunctions(t *testing.T) {
	w := newWorld(t, Config{AccountLimit: 4, UnreservedMin: 1})
	gate, m := sharedDir(t)
	a := pyFunction(t, "a", gated)
	a.Mounts = []Mount{m}
	b := pyFunction(t, "b", counterHandler)
	if err := w.s.SetReserved(t.Context(), Function{Name: "r", Reserved: intp(3)}); err != nil {
		t.Fatal(err)
	}
	if err := w.s.SetReserved(t.Context(), Function{Name: "r2", Reserved: intp(1)}); err == nil {
		t.Error("reserving the account's last unreserved slot succeeded")
	}
	release := hold(t, w, a, gate, 1) // the one unreserved slot
	_, err := w.invoke(b, `{}`)
	var te *ThrottleError
	if !errors.As(err, &te) || te.Reason != ReasonAccount {
		t.Errorf("invocation past the account limit: %v, want a throttle with %s", err, ReasonAccount)
	}
	release()
	w.mustInvoke(b, `{}`)
}

func TestProvisionedEnvironmentsAreReadyAndSpillOver(t *testing.T) {
	w := newWorld(t, Config{})
	gate, m := sharedDir(t)
	fn := pyFunction(t, "prov", gated)
	fn.Mounts = []Mount{m}
	fn.Version = "1"
	fn.Provisioned = 2
	if err := w.s.SetProvisioned(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
	if envs, _ := w.s.Stats(fn.Name); envs != 2 {
		t.Fatalf("%d environments after SetProvisioned, want 2", envs)
	}
	resps := hold(t, w, fn, gate, 3)()
	var prov, onDemand int
	for _, r := range resps {
		lines := w.stream(fn.Name, r.LogStream)
		report := lines[len(lines)-1]
		if r.InitDuration == 0 {
			prov++
			if strings.Contains(report, "Init Duration") {
				t.Errorf("provisioned environment's first REPORT has an Init Duration: %q", report)
			}
		} else {
			onDemand++
			if !strings.Contains(report, "Init Duration") {
				t.Errorf("on-demand first REPORT without Init Duration: %q", report)
			}
		}
	}
	if prov != 2 || onDemand != 1 {
		t.Errorf("%d provisioned, %d on-demand invocations; want 2 and 1 spilled over", prov, onDemand)
	}
	if envs, _ := w.s.Stats(fn.Name); envs != 3 {
		t.Errorf("%d environments, want 3", envs)
	}
}

func TestIdleEnvironmentsAreReclaimedButProvisionedKept(t *testing.T) {
	w := newWorld(t, Config{IdleTimeout: 200 * time.Millisecond})
	fn := pyFunction(t, "idle", counterHandler)
	w.mustInvoke(fn, `{}`)
	eventually(t, "the idle environment reclaimed", func() bool { n, _ := w.s.Stats("idle"); return n == 0 })
	fn.Provisioned = 1
	if err := w.s.SetProvisioned(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if n, _ := w.s.Stats("idle"); n != 1 {
		t.Errorf("%d environments after the idle timeout, want the provisioned one kept", n)
	}
}

func TestRevisionChangeDrainsOldEnvironments(t *testing.T) {
	w := newWorld(t, Config{})
	fn := pyFunction(t, "rev", counterHandler)
	r1, _ := w.mustInvoke(fn, `{}`)
	fn.Revision = "2"
	fn.Env = map[string]string{"NEW": "config"}
	r2, out := w.mustInvoke(fn, `{}`)
	if !r2.Cold || r2.LogStream == r1.LogStream || out["count"] != 1.0 {
		t.Errorf("after a revision change: cold %v, same stream %v, count %v; want a new environment", r2.Cold, r2.LogStream == r1.LogStream, out["count"])
	}
	if n, _ := w.s.Stats("rev"); n != 1 {
		t.Errorf("%d environments, want the old one drained", n)
	}
	w.s.Drain("rev")
	if n, _ := w.s.Stats("rev"); n != 0 {
		t.Errorf("%d environments after Drain", n)
	}
}
