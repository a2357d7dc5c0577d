// Package lambdabench measures warm invocations of a trivial Python handler
// through the Lambda API of an in-process server: p50 and p99 latency and
// invocations per second with 1, 8 and 64 concurrent clients, every request
// signed with SigV4 and verified by the server. Next to them, in the same
// run, the reference: the same handler in one environment fed directly by a
// scheduler of its own (scheduler.Invoke in a loop, which is the Runtime API
// round trip and nothing else: no HTTP, no signature, no records).
//
// The load replays one signed request per client level, as the controlapi
// benchmark does, so the figures are the server's cost and not the client's
// signing; one extra line gives the Go SDK's own Invoke (signing each
// request) at one client.
//
// Last, 200 environments: a second function with reserved concurrency 250
// is brought to 200 environments in flight together (clients started over
// a ramp, see wide), then invoked by 200 clients at once with a handler that
// sleeps one second, three rounds, and the process's peak resident memory
// (VmRSS, sampled) is reported against the 500 MiB target. The environments themselves are
// separate processes and are not counted in it; the benchmark process holds
// the server and its load clients.
//
// Functions get 1,769 MB, one vCPU's worth, so their CPU quota does not
// throttle the measured round trips.
package lambdabench

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"tarn.dev/tarn/internal/sandbox"
	"tarn.dev/tarn/internal/scheduler"
	"tarn.dev/tarn/internal/server"
)

// The benchmark starts sandboxes from this process, so the process must run
// as the sandbox init when started as one. Package initialization runs
// before main, which keeps bench/main.go free of it.
func init() { sandbox.MaybeRunInit() }

const (
	region   = "us-east-1"
	memoryMB = 1769
	warmup   = time.Second
	measure  = 3 * time.Second
	payload  = `{"k":1}`

	wideEnvs     = 200
	wideReserved = 250
	wideRounds   = 3
	wideRamp     = 20 * time.Second
	rssTargetMiB = 500
)

var levels = []int{1, 8, 64}

// handler returns its event, or sleeps and names its environment.
const handler = `import time, uuid

ENV_ID = uuid.uuid4().hex


def handler(event, context):
    if "sleep" in event:
        time.sleep(event["sleep"])
        return {"env": ENV_ID}
    return event
`

type stats struct {
	n         int
	latencies []time.Duration
	elapsed   time.Duration
}

func (s stats) String() string {
	if len(s.latencies) == 0 {
		return "no invocations"
	}
	sort.Slice(s.latencies, func(i, j int) bool { return s.latencies[i] < s.latencies[j] })
	return fmt.Sprintf("%8.0f inv/s   p50 %7.3f ms   p99 %7.3f ms", float64(s.n)/s.elapsed.Seconds(),
		ms(s.latencies[len(s.latencies)/2]), ms(s.latencies[len(s.latencies)*99/100]))
}

func (s stats) p50() time.Duration {
	sort.Slice(s.latencies, func(i, j int) bool { return s.latencies[i] < s.latencies[j] })
	return s.latencies[len(s.latencies)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Run runs the benchmark and prints its figures.
func Run(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return errors.New("functions run in sandboxes, which need root")
	}
	peak := &rssSampler{}
	stopSampling := peak.start()
	defer stopSampling()

	srv, err := start(ctx)
	if err != nil {
		return err
	}
	defer srv.stop()
	if err := srv.createFunction(ctx, "bench", nil); err != nil {
		return err
	}

	fmt.Printf("lambda: warm Invoke of a trivial python3.12 handler (%d MB), payload %s, %s per level\n", memoryMB, payload, measure)
	results := map[int]stats{}
	for _, c := range levels {
		if _, err := srv.load(ctx, "bench", c, warmup); err != nil {
			return fmt.Errorf("warm %d clients: %w", c, err)
		}
		r, err := srv.load(ctx, "bench", c, measure)
		if err != nil {
			return fmt.Errorf("%d clients: %w", c, err)
		}
		results[c] = r
		fmt.Printf("  Lambda API, signed, %2d clients   %s\n", c, r)
	}
	sdkStats, err := srv.loadSDK(ctx, "bench", measure)
	if err != nil {
		return fmt.Errorf("sdk: %w", err)
	}
	fmt.Printf("  Go SDK Invoke (signs each),  1   %s\n", sdkStats)

	ref, err := reference(ctx)
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	fmt.Printf("  reference: one environment fed directly (scheduler.Invoke loop)   %s\n", ref)
	fmt.Printf("  p50 at 1 client %.3f ms (target ≤ 1.0 ms); %.0f inv/s at 8 clients (target ≥ 1,500); API/reference p50 %.2f\n",
		ms(results[1].p50()), float64(results[8].n)/results[8].elapsed.Seconds(), float64(results[1].p50())/float64(ref.p50()))

	return srv.wide(ctx, peak)
}

// bench is a server serving in this process, with its clients.
type bench struct {
	endpoint      string
	keyID, secret string
	lambda        *lambda.Client
	stop          func()
}

// start opens a server on a fresh data directory and free loopback ports.
func start(ctx context.Context) (*bench, error) {
	dir, err := os.MkdirTemp("", "tarn-lambdabench-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv, err := server.Open(ctx, server.Config{DataDir: dir, Listen: addr, GatewayListen: "127.0.0.1:0", Out: io.Discard,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(sctx); close(done) }()
	creds := srv.RootCredentials()
	b := &bench{endpoint: "http://" + addr, keyID: creds.AccessKeyID, secret: creds.SecretAccessKey, stop: func() {
		cancel()
		<-done
		srv.Close()
		os.RemoveAll(dir)
	}}
	b.lambda = lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(b.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(b.keyID, b.secret, ""), Retryer: aws.NopRetryer{}})
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, err := b.lambda.ListFunctions(ctx, &lambda.ListFunctionsInput{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.stop()
			return nil, fmt.Errorf("server did not come up: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return b, nil
}

// createFunction creates the execution role on first use and a function
// running the handler, with reserved concurrency when given.
func (b *bench) createFunction(ctx context.Context, name string, reserved *int32) error {
	iamc := iam.New(iam.Options{Region: region, BaseEndpoint: aws.String(b.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(b.keyID, b.secret, "")})
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name + "-role"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		return fmt.Errorf("create role: %w", err)
	}
	code, err := zipHandler()
	if err != nil {
		return err
	}
	if _, err := b.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name),
		Runtime: types.RuntimePython312, Handler: aws.String("lambda_function.handler"), Role: role.Role.Arn,
		MemorySize: aws.Int32(memoryMB), Timeout: aws.Int32(30), Code: &types.FunctionCode{ZipFile: code}}); err != nil {
		return fmt.Errorf("create function %s: %w", name, err)
	}
	if reserved != nil {
		if _, err := b.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name),
			ReservedConcurrentExecutions: reserved}); err != nil {
			return fmt.Errorf("reserved concurrency of %s: %w", name, err)
		}
	}
	return nil
}

func zipHandler() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("lambda_function.py")
	if err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte(handler)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// signedInvoke returns an Invoke request of function with body, signed for
// the server's root key.
func (b *bench) signedInvoke(ctx context.Context, function string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", b.endpoint+"/2015-03-31/functions/"+function+"/invocations", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: b.keyID, SecretAccessKey: b.secret}, req,
		hex.EncodeToString(sum[:]), "lambda", region, time.Now())
	return req, err
}

// load replays one signed Invoke from clients concurrent clients over
// keep-alive connections for d; responses must be 200 without a function
// error.
func (b *bench) load(ctx context.Context, function string, clients int, d time.Duration) (stats, error) {
	body := []byte(payload)
	tmpl, err := b.signedInvoke(ctx, function, body)
	if err != nil {
		return stats{}, err
	}
	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	httpc := &http.Client{Transport: transport}
	return run(ctx, clients, d, func() error {
		req := tmpl.Clone(ctx)
		req.Body = io.NopCloser(bytes.NewReader(body))
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
			return fmt.Errorf("status %d %s: %s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), out)
		}
		return nil
	})
}

// loadSDK invokes with the Go SDK from one client, which signs each request.
func (b *bench) loadSDK(ctx context.Context, function string, d time.Duration) (stats, error) {
	in := &lambda.InvokeInput{FunctionName: aws.String(function), Payload: []byte(payload)}
	return run(ctx, 1, d, func() error {
		out, err := b.lambda.Invoke(ctx, in)
		if err == nil && out.FunctionError != nil {
			err = fmt.Errorf("function error %s: %s", *out.FunctionError, out.Payload)
		}
		return err
	})
}

// run calls do from clients goroutines for d and collects the latencies.
func run(ctx context.Context, clients int, d time.Duration, do func() error) (stats, error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var res stats
	var firstErr error
	start := time.Now()
	deadline := start.Add(d)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var err error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if err = do(); err != nil {
					break
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			res.n += len(lat)
			res.latencies = append(res.latencies, lat...)
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return res, firstErr
}

// reference runs the handler in one environment of a scheduler of its own
// and feeds it invocations in a loop.
func reference(ctx context.Context) (stats, error) {
	dir, err := os.MkdirTemp("", "tarn-lambdabench-ref-")
	if err != nil {
		return stats{}, err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return stats{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "lambda_function.py"), []byte(handler), 0o644); err != nil {
		return stats{}, err
	}
	s := scheduler.New(scheduler.Config{CgroupParent: "tarn-lambdabench-" + strconv.Itoa(os.Getpid())})
	defer s.Close()
	fn := scheduler.Function{Name: "reference", Runtime: "python3.12", Handler: "lambda_function.handler", CodeDir: dir,
		MemoryMB: memoryMB, Timeout: 30 * time.Second, Revision: "1"}
	var seq atomic.Int64
	do := func() error {
		resp, err := s.Invoke(ctx, fn, scheduler.Request{RequestID: "ref-" + strconv.FormatInt(seq.Add(1), 10), Payload: []byte(payload)})
		if err == nil && resp.FunctionError != "" {
			err = fmt.Errorf("function error %s: %s", resp.FunctionError, resp.Payload)
		}
		return err
	}
	if _, err := run(ctx, 1, warmup, do); err != nil {
		return stats{}, err
	}
	return run(ctx, 1, measure, do)
}

// wide brings up wideEnvs environments of a function at once and reports the
// process's peak resident memory against the target. The clients start
// spaced over wideRamp, each with an invocation that lasts until every
// client has started, so that all are in flight together: 200 cold starts in
// one instant on a small machine would run into the 10 s init limit. Then
// every client invokes a 1 s handler at once, wideRounds times, which the
// warm environments serve.
func (b *bench) wide(ctx context.Context, peak *rssSampler) error {
	reserved := int32(wideReserved)
	if err := b.createFunction(ctx, "wide", &reserved); err != nil {
		return err
	}
	before := rssMiB()
	peak.reset()
	var mu sync.Mutex
	var errs []error
	round := func(sleep func(c int) time.Duration, stagger time.Duration) map[string]int {
		envs := map[string]int{}
		var wg sync.WaitGroup
		for c := 0; c < wideEnvs; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(c) * stagger)
				body := fmt.Sprintf(`{"sleep":%.3f}`, sleep(c).Seconds())
				out, err := b.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("wide"), Payload: []byte(body)})
				var r struct{ Env string }
				if err == nil && out.FunctionError != nil {
					err = fmt.Errorf("function error %s: %s", *out.FunctionError, out.Payload)
				}
				if err == nil {
					err = json.Unmarshal(out.Payload, &r)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				envs[r.Env]++
			}()
		}
		wg.Wait()
		return envs
	}
	t0 := time.Now()
	stagger := wideRamp / wideEnvs
	ramped := round(func(c int) time.Duration { return wideRamp - time.Duration(c)*stagger + 2*time.Second }, stagger)
	rampTime := time.Since(t0)
	warm := map[string]int{}
	for i := 0; i < wideRounds; i++ {
		for env, n := range round(func(int) time.Duration { return time.Second }, 0) {
			warm[env] += n
		}
	}
	newInWarm := 0
	for env := range warm {
		if ramped[env] == 0 {
			newInWarm++
		}
	}
	idle := rssMiB()
	fmt.Printf("lambda: %d environments of a sleeping handler (reserved concurrency %d)\n", wideEnvs, wideReserved)
	fmt.Printf("  ramp: %d clients started over %s, all in flight together: %d distinct environments (%.1f s)\n",
		wideEnvs, wideRamp, len(ramped), rampTime.Seconds())
	fmt.Printf("  then %d rounds of %d concurrent 1 s invocations: %d distinct environments, %d of them new\n",
		wideRounds, wideEnvs, len(warm), newInWarm)
	fmt.Printf("  %d invocations failed\n", len(errs))
	if len(errs) > 0 {
		fmt.Printf("  first failure: %v\n", errs[0])
	}
	fmt.Printf("  process RSS: %.0f MiB before, peak %.0f MiB, %.0f MiB with the environments idle (target < %d MiB)\n",
		before, peak.peakMiB(), idle, rssTargetMiB)
	return nil
}

// rssSampler records the peak VmRSS of this process.
type rssSampler struct{ peak atomic.Int64 } // KiB

func (r *rssSampler) start() (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if kib := vmRSS(); kib > r.peak.Load() {
				r.peak.Store(kib)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done) }
}

func (r *rssSampler) reset()           { r.peak.Store(vmRSS()) }
func (r *rssSampler) peakMiB() float64 { return float64(r.peak.Load()) / 1024 }

func rssMiB() float64 { return float64(vmRSS()) / 1024 }

// vmRSS returns VmRSS of /proc/self/status in KiB, 0 if unreadable.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
