// Package gatewaybench measures what the HTTP API gateway adds to a
// function's latency: requests per second and p50/p99 latency of GETs
// through the gateway to a trivial Python function, next to signed Lambda
// Invoke calls of the same function on the same server, at 1, 8 and 64
// concurrent keep-alive clients. The two paths alternate within each level
// so that both see the same machine and the same warm environments.
//
// It starts a real server in-process on loopback ports and needs what
// functions need: root (sandboxes) and /usr/bin/python3.
package gatewaybench

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"tarn.dev/tarn/internal/server"
)

const (
	function = "gatewaybench"
	region   = "us-east-1"
	rounds   = 3 // alternate the two paths this many times per level
	perRound = time.Second
	warmUp   = time.Second // per level and path, not measured
	// memoryMB gives the function a whole core (Lambda's 1,769 MB per
	// vCPU): at the default 128 MB its CPU quota stalls it for most of
	// every CFS period, and the benchmark would measure the quota.
	memoryMB = 1769
	// source is the trivial function: what is measured is the path to it.
	source = "def handler(event, context):\n    return \"ok\"\n"
)

// levels are the numbers of concurrent clients.
var levels = []int{1, 8, 64}

// bench is a server with the function and its API.
type bench struct {
	endpoint   string // control API
	gatewayURL string // the function's URL through the gateway
	creds      aws.Credentials
	stop       func()
}

// path is one way to call the function.
type path struct {
	name string
	call func(ctx context.Context, c *http.Client) error
}

type result struct {
	latencies []time.Duration
	elapsed   time.Duration
}

func (r *result) add(o result) {
	r.latencies = append(r.latencies, o.latencies...)
	r.elapsed += o.elapsed
}

func (r *result) rate() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r *result) quantile(q float64) time.Duration {
	return r.latencies[int(float64(len(r.latencies)-1)*q)]
}

// Run runs the benchmark and prints its figures.
func Run(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return errors.New("functions run in sandboxes: run the gateway benchmark as root")
	}
	b, err := start(ctx)
	if err != nil {
		return err
	}
	defer b.stop()
	paths := []path{{"gateway", b.viaGateway}, {"invoke", b.invoke}}

	fmt.Printf("HTTP API gateway: GET through the gateway vs signed Lambda Invoke of the same trivial Python function\n"+
		"  (%d MB), keep-alive clients, %d × %s per path and level after a %s warm-up\n", memoryMB, rounds, perRound, warmUp)
	fmt.Printf("  %7s  %-8s %8s %9s %9s\n", "clients", "path", "req/s", "p50 ms", "p99 ms")
	for _, clients := range levels {
		totals := make([]result, len(paths))
		for _, p := range paths {
			if _, err := load(ctx, p, clients, warmUp); err != nil {
				return fmt.Errorf("warm up %s at %d clients: %w", p.name, clients, err)
			}
		}
		for round := range rounds {
			for i := range paths {
				// Alternate which path goes first.
				k := (i + round) % len(paths)
				r, err := load(ctx, paths[k], clients, perRound)
				if err != nil {
					return fmt.Errorf("%s at %d clients: %w", paths[k].name, clients, err)
				}
				totals[k].add(r)
			}
		}
		for i, p := range paths {
			r := &totals[i]
			slices.Sort(r.latencies)
			fmt.Printf("  %7d  %-8s %8.0f %9.3f %9.3f\n", clients, p.name, r.rate(), ms(r.quantile(0.5)), ms(r.quantile(0.99)))
		}
		ratio := float64(totals[0].quantile(0.5)) / float64(totals[1].quantile(0.5))
		fmt.Printf("  %7s  p50 gateway/invoke %.2f   (target ≤ 1.15: the gateway adds ≤ 15%%)\n", "", ratio)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// load runs clients concurrent callers of p for d and returns every
// latency; the first error ends the run.
func load(ctx context.Context, p path, clients int, d time.Duration) (result, error) {
	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	httpc := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		res      result
	)
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if err := p.call(ctx, httpc); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr == nil && len(res.latencies) == 0 {
		firstErr = errors.New("no request finished")
	}
	return res, firstErr
}

// viaGateway GETs the function's URL and checks the answer.
func (b *bench) viaGateway(ctx context.Context, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, "GET", b.gatewayURL, nil)
	if err != nil {
		return err
	}
	return expect(c, req, "ok")
}

var emptyEvent = []byte("{}")

// invoke calls Lambda's Invoke, signed for each request as any client
// signs it, and checks the answer.
func (b *bench) invoke(ctx context.Context, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, "POST", b.endpoint+"/2015-03-31/functions/"+function+"/invocations",
		bytes.NewReader(emptyEvent))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(emptyEvent)
	if err := v4.NewSigner().SignHTTP(ctx, b.creds, req, hex.EncodeToString(sum[:]), "lambda", region, time.Now()); err != nil {
		return err
	}
	return expect(c, req, `"ok"`)
}

func expect(c *http.Client, req *http.Request, want string) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(body) != want {
		return fmt.Errorf("%s %s: %s %q, want 200 %q", req.Method, req.URL.Path, resp.Status, body, want)
	}
	return nil
}

// start runs a server on a fresh data directory and loopback ports, and
// creates the function (with its role) and an HTTP API for it.
func start(ctx context.Context) (*bench, error) {
	dir, err := os.MkdirTemp("", "tarn-bench-gateway-")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv, err := server.Open(ctx, server.Config{DataDir: dir, Listen: ports[0], GatewayListen: ports[1], Region: region,
		Out: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(sctx); close(done) }()
	b := &bench{endpoint: "http://" + ports[0], stop: func() {
		cancel()
		<-done
		srv.Close()
		os.RemoveAll(dir)
	}}
	root := srv.RootCredentials()
	b.creds = aws.Credentials{AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey}
	if err := b.deploy(ctx); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

func (b *bench) deploy(ctx context.Context) error {
	cfg := aws.Config{Region: region, BaseEndpoint: aws.String(b.endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(b.creds.AccessKeyID, b.creds.SecretAccessKey, "")}
	iamc, lambdac, apigw := iam.NewFromConfig(cfg), lambda.NewFromConfig(cfg), apigatewayv2.NewFromConfig(cfg)

	const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
		`"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	var role *iam.CreateRoleOutput
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		role, err = iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(function),
			AssumeRolePolicyDocument: aws.String(trust)})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server did not come up: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, err := zipSource()
	if err != nil {
		return err
	}
	fn, err := lambdac.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(function),
		Runtime: lambdatypes.RuntimePython312, Handler: aws.String("app.handler"), Role: role.Role.Arn,
		MemorySize: aws.Int32(memoryMB), Code: &lambdatypes.FunctionCode{ZipFile: code}})
	if err != nil {
		return fmt.Errorf("create function: %w", err)
	}
	if err := lambda.NewFunctionActiveV2Waiter(lambdac, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
	}).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(function)}, time.Minute); err != nil {
		return fmt.Errorf("wait for the function: %w", err)
	}
	// Quick create: the $default stage and route send every path to the function.
	api, err := apigw.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String(function),
		ProtocolType: "HTTP", Target: fn.FunctionArn})
	if err != nil {
		return fmt.Errorf("create api: %w", err)
	}
	if _, err := lambdac.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(function),
		StatementId: aws.String("gateway"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("apigateway.amazonaws.com")}); err != nil {
		return fmt.Errorf("add permission: %w", err)
	}
	b.gatewayURL = aws.ToString(api.ApiEndpoint) + "/hello"
	return nil
}

// zipSource is the function's code as a zip of app.py.
func zipSource() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "app.py", Method: zip.Deflate}
	h.SetMode(0o644)
	f, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write([]byte(source)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// freePorts returns n loopback addresses that were free a moment ago.
func freePorts(n int) ([]string, error) {
	var addrs []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}
