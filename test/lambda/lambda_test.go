package lambda

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tarn.dev/tarn/internal/testserver"
)

const (
	reserved    = 4
	invocations = 1000
	clients     = 16
	cliInvokes  = 4 // of the invocations, made with the AWS CLI; the rest with the Go SDK
)

// TestFunctionWithFileSystemAcrossConcurrencySettingsAndRestart is the
// acceptance story of functions: setup with the AWS CLI, 1,000 invocations
// from 16 clients capped by reserved concurrency, a warm first invocation
// through provisioned concurrency, throttling at reserved concurrency 0, and
// a restart that keeps every setting and delivers a queued Event invocation.
func TestFunctionWithFileSystemAcrossConcurrencySettingsAndRestart(t *testing.T) {
	testserver.Require(t, true, true)
	dir := filepath.Join(t.TempDir(), "data")
	s := testserver.Start(t, dir)
	f := setup(t, s, "story")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	t.Run("first invocation of an on-demand environment reports its init", func(t *testing.T) {
		out := s.AWS(t, "lambda", "invoke", "--function-name", f.Function, "--log-type", "Tail",
			"--cli-binary-format", "raw-in-base64-out", "--payload", `{"op":"read","name":"nothing"}`,
			filepath.Join(t.TempDir(), "out.json"))
		var r struct {
			StatusCode                 int
			LogResult, ExecutedVersion string
		}
		decode(t, out, &r)
		l, _ := base64.StdEncoding.DecodeString(r.LogResult)
		report := reportLine(string(l))
		if r.StatusCode != 200 || r.ExecutedVersion != "$LATEST" || !strings.Contains(report, "Init Duration") {
			t.Errorf("cold invoke: status %d, version %q, REPORT %q; want 200, $LATEST and an Init Duration", r.StatusCode, r.ExecutedVersion, report)
		}
	})

	t.Run("reserved concurrency caps the environments of 1,000 invocations from 16 clients", func(t *testing.T) {
		var put struct{ ReservedConcurrentExecutions int }
		decode(t, s.AWS(t, "lambda", "put-function-concurrency", "--function-name", f.Function,
			"--reserved-concurrent-executions", strconv.Itoa(reserved)), &put)
		if put.ReservedConcurrentExecutions != reserved {
			t.Fatalf("put-function-concurrency echoed %d, want %d", put.ReservedConcurrentExecutions, reserved)
		}
		envs := &set{}
		for i := 0; i < cliInvokes; i++ {
			outFile := filepath.Join(t.TempDir(), "out.json")
			s.AWS(t, "lambda", "invoke", "--function-name", f.Function, "--cli-binary-format", "raw-in-base64-out",
				"--payload", fmt.Sprintf(`{"op":"count","n":%d}`, i), outFile)
			var p struct{ Env string }
			b, err := os.ReadFile(outFile)
			if err != nil {
				t.Fatal(err)
			}
			decode(t, string(b), &p)
			envs.add(p.Env)
		}
		c := sdk(s)
		next := make(chan int)
		go func() {
			defer close(next)
			for i := cliInvokes; i < invocations; i++ {
				next <- i
			}
		}()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		throttles := 0
		for w := 0; w < clients; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := 0
				defer func() { mu.Lock(); throttles += mine; mu.Unlock() }()
				for i := range next {
					r, err := invokeUntilRun(ctx, c, f.Function, map[string]any{"op": "count", "n": i}, &mine)
					if err != nil {
						mu.Lock()
						errs = append(errs, fmt.Errorf("invocation %d: %w", i, err))
						mu.Unlock()
						continue
					}
					env, _ := r.Payload["env"].(string)
					envs.add(env)
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d invocations failed, first: %v", len(errs), errs[0])
		}
		counts := envs.counts()
		total := 0
		for _, n := range counts {
			total += n
		}
		t.Logf("%d invocations ran in %d environments %v; %d throttled attempts were retried", total, len(counts), counts, throttles)
		if total != invocations {
			t.Errorf("%d invocations ran, want %d", total, invocations)
		}
		// One environment ran the cold invocation before reserved
		// concurrency was set, and stays idle in the pool: it is one of the
		// reserved environments from then on.
		if len(counts) > reserved {
			t.Errorf("%d distinct environments ran the invocations, want at most the reserved concurrency %d", len(counts), reserved)
		}
		if throttles == 0 {
			t.Errorf("16 clients against reserved concurrency %d were never throttled", reserved)
		}
		// Every invocation left one line on the file system.
		r, err := invoke(ctx, c, f.Function, "", map[string]any{"op": "read", "name": "invocations.log"}, false)
		if err != nil {
			t.Fatal(err)
		}
		content, _ := r.Payload["content"].(string)
		lines := strings.Split(strings.TrimSuffix(content, "\n"), "\n")
		seen := map[int]bool{}
		for _, l := range lines {
			fields := strings.Fields(l)
			if len(fields) != 2 || counts[fields[0]] == 0 {
				t.Errorf("invocations.log line %q: want an environment id that ran and a number", l)
				continue
			}
			n, _ := strconv.Atoi(fields[1])
			seen[n] = true
		}
		if len(lines) != invocations || len(seen) != invocations {
			t.Errorf("invocations.log has %d lines for %d invocations, want %d", len(lines), len(seen), invocations)
		}
	})

	var version string
	t.Run("provisioned concurrency makes the first invocation of a version warm", func(t *testing.T) {
		var pub struct{ Version string }
		decode(t, s.AWS(t, "lambda", "publish-version", "--function-name", f.Function), &pub)
		version = pub.Version
		var alias struct{ FunctionVersion string }
		decode(t, s.AWS(t, "lambda", "create-alias", "--function-name", f.Function, "--name", "live",
			"--function-version", version), &alias)
		s.AWS(t, "lambda", "put-provisioned-concurrency-config", "--function-name", f.Function,
			"--qualifier", version, "--provisioned-concurrent-executions", "1")
		eventually(t, "provisioned concurrency READY", func() error {
			var pc struct {
				Status                                   string
				AvailableProvisionedConcurrentExecutions int
			}
			decode(t, s.AWS(t, "lambda", "get-provisioned-concurrency-config", "--function-name", f.Function,
				"--qualifier", version), &pc)
			if pc.Status != "READY" || pc.AvailableProvisionedConcurrentExecutions != 1 {
				return fmt.Errorf("status %s, %d available", pc.Status, pc.AvailableProvisionedConcurrentExecutions)
			}
			return nil
		})
		out := s.AWS(t, "lambda", "invoke", "--function-name", f.Function, "--qualifier", version, "--log-type", "Tail",
			"--cli-binary-format", "raw-in-base64-out", "--payload", `{"op":"read","name":"nothing"}`,
			filepath.Join(t.TempDir(), "out.json"))
		var r struct {
			StatusCode                 int
			LogResult, ExecutedVersion string
		}
		decode(t, out, &r)
		l, _ := base64.StdEncoding.DecodeString(r.LogResult)
		report := reportLine(string(l))
		if report == "" || strings.Contains(report, "Init Duration") || r.ExecutedVersion != version {
			t.Errorf("first invoke of version %s: executed %q, REPORT %q; want a REPORT without Init Duration", version, r.ExecutedVersion, report)
		}
	})

	t.Run("reserved concurrency 0 throttles", func(t *testing.T) {
		s.AWS(t, "lambda", "put-function-concurrency", "--function-name", f.Function, "--reserved-concurrent-executions", "0")
		r := s.Run(t, nil, testserver.AWSCLI, "--endpoint-url", s.Endpoint, "lambda", "invoke", "--function-name", f.Function,
			"--cli-binary-format", "raw-in-base64-out", "--payload", `{}`, filepath.Join(t.TempDir(), "out.json"))
		if r.Code == 0 || !strings.Contains(r.Stderr, "TooManyRequestsException") {
			t.Errorf("aws lambda invoke at reserved 0: exit %d, stderr %q; want TooManyRequestsException", r.Code, r.Stderr)
		}
		for _, q := range []string{"", version, "live"} {
			_, err := invoke(ctx, sdk(s), f.Function, q, map[string]any{}, false)
			if reason, ok := throttleReason(err); !ok || reason != "ReservedFunctionConcurrentInvocationLimitExceeded" {
				t.Errorf("invoke %q at reserved 0: %v (reason %q); want TooManyRequestsException for the reserved concurrency", q, err, reason)
			}
		}
	})

	// An Event invocation queued now cannot run before the stop: reserved
	// concurrency is 0, so its deliveries are throttled.
	var event struct{ StatusCode int }
	decode(t, s.AWS(t, "lambda", "invoke", "--function-name", f.Function, "--invocation-type", "Event",
		"--cli-binary-format", "raw-in-base64-out", "--payload", `{"op":"marker","name":"event-marker"}`,
		filepath.Join(t.TempDir(), "out.json")), &event)
	if event.StatusCode != 202 {
		t.Fatalf("Event invoke: status %d, want 202", event.StatusCode)
	}

	s.Stop(t)
	s = testserver.Start(t, dir)

	t.Run("restart keeps functions, versions, aliases and concurrency settings", func(t *testing.T) {
		var fn struct {
			Configuration struct {
				State, Runtime, Handler, Role string
				FileSystemConfigs             []struct{ Arn, LocalMountPath string }
			}
			Concurrency struct{ ReservedConcurrentExecutions *int }
		}
		decode(t, s.AWS(t, "lambda", "get-function", "--function-name", f.Function), &fn)
		c := fn.Configuration
		if c.State != "Active" || c.Runtime != "python3.12" || c.Handler != "lambda_function.handler" || c.Role != f.RoleARN ||
			len(c.FileSystemConfigs) != 1 || c.FileSystemConfigs[0].Arn != f.AccessPointARN {
			t.Errorf("get-function after restart: %+v", c)
		}
		if fn.Concurrency.ReservedConcurrentExecutions == nil || *fn.Concurrency.ReservedConcurrentExecutions != 0 {
			t.Errorf("get-function Concurrency after restart: %v, want reserved 0", fn.Concurrency.ReservedConcurrentExecutions)
		}
		var versions struct{ Versions []struct{ Version string } }
		decode(t, s.AWS(t, "lambda", "list-versions-by-function", "--function-name", f.Function), &versions)
		var got []string
		for _, v := range versions.Versions {
			got = append(got, v.Version)
		}
		if strings.Join(got, ",") != "$LATEST,"+version {
			t.Errorf("versions after restart: %v, want $LATEST and %s", got, version)
		}
		var alias struct{ Name, FunctionVersion string }
		decode(t, s.AWS(t, "lambda", "get-alias", "--function-name", f.Function, "--name", "live"), &alias)
		if alias.FunctionVersion != version {
			t.Errorf("alias live after restart points at %q, want %s", alias.FunctionVersion, version)
		}
		var conc struct{ ReservedConcurrentExecutions *int }
		decode(t, s.AWS(t, "lambda", "get-function-concurrency", "--function-name", f.Function), &conc)
		if conc.ReservedConcurrentExecutions == nil || *conc.ReservedConcurrentExecutions != 0 {
			t.Errorf("get-function-concurrency after restart: %v, want 0", conc.ReservedConcurrentExecutions)
		}
		var pc struct{ RequestedProvisionedConcurrentExecutions int }
		decode(t, s.AWS(t, "lambda", "get-provisioned-concurrency-config", "--function-name", f.Function,
			"--qualifier", version), &pc)
		if pc.RequestedProvisionedConcurrentExecutions != 1 {
			t.Errorf("provisioned concurrency of %s after restart: %d requested, want 1", version, pc.RequestedProvisionedConcurrentExecutions)
		}
	})

	t.Run("an Event invocation queued before the restart is delivered after it", func(t *testing.T) {
		host := mountFS(t, s, f.FileSystemID)
		marker := filepath.Join(host, "fn", "event-marker")
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s exists before reserved concurrency allows the delivery", marker)
		}
		s.AWS(t, "lambda", "put-function-concurrency", "--function-name", f.Function,
			"--reserved-concurrent-executions", strconv.Itoa(reserved))
		eventually(t, "the queued Event invocation's marker on the host mount", func() error {
			b, err := os.ReadFile(marker)
			if err != nil {
				return err
			}
			if len(b) == 0 {
				return fmt.Errorf("%s is empty", marker)
			}
			return nil
		})
		// The function sees it too.
		r, err := invoke(ctx, sdk(s), f.Function, "live", map[string]any{"op": "read", "name": "event-marker"}, false)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(marker); r.Payload["content"] != string(b) {
			t.Errorf("the function reads event-marker as %v, the host as %q", r.Payload["content"], b)
		}
	})
}

// TestEightEnvironmentsAppendUnderFlockToOneFile is the shared-file story
// through Lambda: eight environments running at once append 1,000 lines each
// to one file, each line under flock(2); the host sees exactly 8,000 intact
// lines through `tarn mount`.
func TestEightEnvironmentsAppendUnderFlockToOneFile(t *testing.T) {
	testserver.Require(t, true, true)
	const envs, lines = 8, 1000
	s := testserver.Start(t, filepath.Join(t.TempDir(), "data"))
	f := setup(t, s, "appender")
	s.AWS(t, "lambda", "put-function-concurrency", "--function-name", f.Function,
		"--reserved-concurrent-executions", strconv.Itoa(envs))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := sdk(s)
	ran := &set{}
	var wg sync.WaitGroup
	errs := make([]error, envs)
	for i := 0; i < envs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			throttles := 0
			r, err := invokeUntilRun(ctx, c, f.Function, map[string]any{"op": "story", "envs": envs, "lines": lines}, &throttles)
			if err != nil {
				errs[i] = err
				return
			}
			env, _ := r.Payload["env"].(string)
			ran.add(env)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
	}
	counts := ran.counts()
	if len(counts) != envs {
		t.Fatalf("the invocations ran in %d environments %v, want %d", len(counts), counts, envs)
	}

	host := mountFS(t, s, f.FileSystemID)
	b, err := os.ReadFile(filepath.Join(host, "fn", "story.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "\n") {
		t.Errorf("story.log does not end with a newline")
	}
	all := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(all) != envs*lines {
		t.Errorf("story.log has %d lines, want %d", len(all), envs*lines)
	}
	next := map[string]int{} // per environment, the next line number expected
	bad := 0
	for _, l := range all {
		fields := strings.Fields(l)
		if len(fields) != 3 || counts[fields[0]] == 0 || fields[2] != strings.Repeat("x", 40) || len(l) != 32+1+4+1+40 {
			bad++
			if bad <= 5 {
				t.Errorf("torn or foreign line %q", l)
			}
			continue
		}
		n, _ := strconv.Atoi(fields[1])
		if n != next[fields[0]] {
			t.Errorf("environment %s wrote line %d after %d: lost or reordered", fields[0], n, next[fields[0]]-1)
		}
		next[fields[0]] = n + 1
	}
	for env := range counts {
		if next[env] != lines {
			t.Errorf("environment %s has %d lines, want %d", env, next[env], lines)
		}
	}
	t.Logf("story.log: %d bytes, %d lines from %d environments", len(b), len(all), len(counts))
}
