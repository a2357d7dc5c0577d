package runtimes

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tarn.dev/tarn/internal/runtimeapi"
)

const benchEvent = `{"path": "/items/42", "query": {"q": "tarn"}, "n": 1}`

const benchHandler = `
def handler(event, context):
    return {"statusCode": 200, "body": event["path"]}
`

// BenchmarkWarmInvoke measures a warm invocation's round trip through the
// Runtime API with the real Python bootstrap, next to the same handler called
// in-process by Python (decode event, call, encode result) and to an
// in-process Go runtime on the same Runtime API. It reports p50/p99 in µs and
// the p50 overhead of the Runtime API path over the direct call.
func BenchmarkWarmInvoke(b *testing.B) {
	if _, err := os.Stat(PythonInterpreter); err != nil {
		b.Skipf("%s not installed", PythonInterpreter)
	}
	dir := writeFiles(b, map[string]string{"app.py": benchHandler})

	b.Run("python-runtimeapi", func(b *testing.B) {
		f := start(b, "python3.12", "app.handler", dir, nil)
		for i := range 50 { // warm up
			f.invoke("warm-"+strconv.Itoa(i), benchEvent)
		}
		direct := pythonDirectP50(b, dir)
		lat := make([]time.Duration, 0, b.N)
		ids := make([]string, b.N)
		for i := range ids {
			ids[i] = "req-" + strconv.Itoa(i)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			res, err := f.env.Invoke(context.Background(), runtimeapi.Invocation{RequestID: ids[i], Payload: []byte(benchEvent)})
			lat = append(lat, time.Since(t0))
			if err != nil || res.Error != nil {
				b.Fatalf("Invoke: %v %v", err, res.Error)
			}
		}
		b.StopTimer()
		p50 := report(b, lat)
		b.ReportMetric(float64(direct)/1e3, "direct-p50-µs")
		b.ReportMetric(float64(p50-direct)/1e3, "overhead-p50-µs")
	})

	b.Run("go-runtime-loopback", func(b *testing.B) {
		w := newLoopbackGoRuntime(b)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			res, err := w.Invoke(context.Background(), runtimeapi.Invocation{RequestID: "req-" + strconv.Itoa(i), Payload: []byte(benchEvent)})
			lat = append(lat, time.Since(t0))
			if err != nil || res.Error != nil {
				b.Fatalf("Invoke: %v %v", err, res.Error)
			}
		}
		b.StopTimer()
		report(b, lat)
	})
}

// report adds p50 and p99 metrics and returns p50.
func report(b *testing.B, lat []time.Duration) time.Duration {
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50)/1e3, "p50-µs")
	b.ReportMetric(float64(p99)/1e3, "p99-µs")
	return p50
}

// pythonDirectP50 times the in-process reference: the same event decoded,
// handled and encoded by Python without the Runtime API.
func pythonDirectP50(b *testing.B, dir string) time.Duration {
	script := `
import json, sys, time
sys.path.insert(0, sys.argv[1])
import app
event = sys.argv[2]
lat = []
for i in range(3000):
    t0 = time.perf_counter_ns()
    json.dumps(app.handler(json.loads(event), None)).encode()
    lat.append(time.perf_counter_ns() - t0)
lat.sort()
print(lat[len(lat)//2])
`
	out, err := exec.Command(PythonInterpreter, "-c", script, dir, benchEvent).Output()
	if err != nil {
		b.Fatalf("direct reference: %v", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		b.Fatalf("direct reference output %q: %v", out, err)
	}
	return time.Duration(ns)
}

// newLoopbackGoRuntime serves an Environment on loopback with an in-process
// Go runtime loop echoing events over HTTP, as a floor for the Runtime API's
// own cost.
func newLoopbackGoRuntime(b *testing.B) *runtimeapi.Environment {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	env := runtimeapi.New(runtimeapi.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	go env.Serve(ctx, ln)
	b.Cleanup(func() { env.RuntimeExited(nil); cancel() })
	base := "http://" + ln.Addr().String() + "/2018-06-01/runtime/invocation/"
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
	go func() {
		for {
			resp, err := client.Get(base + "next")
			if err != nil {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return
			}
			id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
			resp, err = client.Post(base+id+"/response", "application/json", bytes.NewReader(body))
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	return env
}
