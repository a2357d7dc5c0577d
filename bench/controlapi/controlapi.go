// Package controlapi measures what SigV4 verification costs the control API:
// DescribeFileSystems requests per second against a server that verifies
// every signature, next to the same server with verification skipped, in the
// same run.
//
// The load is one SDK-signed request replayed by concurrent clients over
// keep-alive connections, so that the figure is the server's cost and not
// the client's signing. The signature stays valid for the 15-minute window.
package controlapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/efs"

	"tarn.dev/tarn/internal/server"
)

const (
	clients     = 8
	rounds      = 3 // alternate the two servers this many times
	perRound    = 2 * time.Second
	fileSystems = 10
)

type target struct {
	name          string
	endpoint      string
	keyID, secret string
	stop          func()
}

type result struct {
	requests  int
	latencies []time.Duration
	elapsed   time.Duration
}

// Run runs the benchmark and prints its figures.
func Run(ctx context.Context) error {
	verified, err := start(ctx, "SigV4 verified", false)
	if err != nil {
		return err
	}
	defer verified.stop()
	skipped, err := start(ctx, "verification off", true)
	if err != nil {
		return err
	}
	defer skipped.stop()

	totals := map[string]*result{verified.name: {}, skipped.name: {}}
	for i := 0; i < rounds; i++ {
		for _, t := range []*target{verified, skipped} {
			r, err := load(ctx, t)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			tot := totals[t.name]
			tot.requests += r.requests
			tot.elapsed += r.elapsed
			tot.latencies = append(tot.latencies, r.latencies...)
		}
	}
	fmt.Printf("control API: DescribeFileSystems (%d file systems), %d concurrent clients, %d × %s per server\n",
		fileSystems, clients, rounds, perRound)
	rate := map[string]float64{}
	for _, t := range []*target{verified, skipped} {
		r := totals[t.name]
		rate[t.name] = float64(r.requests) / r.elapsed.Seconds()
		sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
		fmt.Printf("  %-18s %8.0f req/s   p50 %6.3f ms   p99 %6.3f ms\n", t.name, rate[t.name],
			ms(r.latencies[len(r.latencies)/2]), ms(r.latencies[len(r.latencies)*99/100]))
	}
	ratio := rate[verified.name] / rate[skipped.name]
	fmt.Printf("  ratio verified/off %.2f   (target ≥ 0.80: verification costs < 20%%)\n", ratio)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// start runs a server on a fresh data directory and loopback port and
// creates the file systems to describe.
func start(ctx context.Context, name string, skip bool) (*target, error) {
	dir, err := os.MkdirTemp("", "tarn-bench-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv, err := server.Open(ctx, server.Config{DataDir: dir, Listen: addr, GatewayListen: "127.0.0.1:0", SkipSignatures: skip, Out: io.Discard,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(sctx); close(done) }()
	t := &target{name: name, endpoint: "http://" + addr, stop: func() {
		cancel()
		<-done
		srv.Close()
		os.RemoveAll(dir)
	}}
	creds := srv.RootCredentials()
	t.keyID, t.secret = creds.AccessKeyID, creds.SecretAccessKey
	client := efs.New(efs.Options{Region: "us-east-1", BaseEndpoint: aws.String(t.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, err := client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.stop()
			return nil, fmt.Errorf("server did not come up: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 0; i < fileSystems; i++ {
		if _, err := client.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String(fmt.Sprint("bench-", i))}); err != nil {
			t.stop()
			return nil, err
		}
	}
	return t, nil
}

// signedRequest returns a DescribeFileSystems request signed for the server's root key.
func signedRequest(ctx context.Context, t *target, id, secret string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", t.endpoint+"/2015-02-01/file-systems", nil)
	if err != nil {
		return nil, err
	}
	empty := sha256.Sum256(nil)
	err = v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, req,
		hex.EncodeToString(empty[:]), "elasticfilesystem", "us-east-1", time.Now())
	return req, err
}

func load(ctx context.Context, t *target) (*result, error) {
	// Both servers get a request signed with real credentials; the one with
	// verification off simply does not check it.
	tmpl, err := signedRequest(ctx, t, t.keyID, t.secret)
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	httpc := &http.Client{Transport: transport}
	res := &result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	start := time.Now()
	deadline := start.Add(perRound)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req := tmpl.Clone(ctx)
				t0 := time.Now()
				resp, err := httpc.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
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
			res.requests += len(lat)
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res, firstErr
}
