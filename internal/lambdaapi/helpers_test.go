package lambdaapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"tarn.dev/tarn/internal/lambdaapi"
	"tarn.dev/tarn/internal/store"
)

const (
	account = "123456789012"
	role    = "arn:aws:iam::123456789012:role/lambda-exec"
)

// fakeRunner echoes payloads; {"fail":true} makes the function fail and
// {"throttle":true} makes the runner throttle. run, when set, replaces it.
type fakeRunner struct {
	mu         sync.Mutex
	calls      []lambdaapi.InvokeRequest
	versions   []lambdaapi.FunctionVersion
	drains     []string
	configures []lambdaapi.FunctionVersion
	run        func(ctx context.Context, fn lambdaapi.FunctionVersion, req lambdaapi.InvokeRequest) (lambdaapi.InvokeResult, error)
	called     chan struct{}
}

func newFakeRunner() *fakeRunner { return &fakeRunner{called: make(chan struct{}, 100)} }

func (f *fakeRunner) Run(ctx context.Context, fn lambdaapi.FunctionVersion, req lambdaapi.InvokeRequest) (lambdaapi.InvokeResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	f.versions = append(f.versions, fn)
	run := f.run
	f.mu.Unlock()
	select {
	case f.called <- struct{}{}:
	default:
	}
	if run != nil {
		return run(ctx, fn, req)
	}
	var in struct{ Fail, Throttle bool }
	json.Unmarshal(req.Payload, &in)
	if in.Throttle {
		return lambdaapi.InvokeResult{}, &lambdaapi.ThrottleError{Reason: lambdaapi.ReasonAccountLimit, RetryAfter: time.Second}
	}
	log := fmt.Sprintf("START RequestId: %s Version: %s\n%s\nEND RequestId: %s\nREPORT RequestId: %s\tDuration: 1.00 ms\t\n",
		req.RequestID, fn.Version, strings.Repeat("x", 5000), req.RequestID, req.RequestID)
	if in.Fail {
		return lambdaapi.InvokeResult{Payload: []byte(`{"errorType":"Boom","errorMessage":"boom"}`), FunctionError: "Unhandled", Log: []byte(log)}, nil
	}
	out, _ := json.Marshal(map[string]any{"version": fn.Version, "env": fn.Env, "payload": json.RawMessage(orNull(req.Payload))})
	return lambdaapi.InvokeResult{Payload: out, Log: []byte(log)}, nil
}

func orNull(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("null")
	}
	return b
}

func (f *fakeRunner) Configure(ctx context.Context, fn lambdaapi.FunctionVersion) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configures = append(f.configures, fn)
	return nil
}

func (f *fakeRunner) Drain(ctx context.Context, name, version string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drains = append(f.drains, name+":"+version)
	return nil
}

func (f *fakeRunner) snapshot() (calls []lambdaapi.InvokeRequest, drains []string, configures []lambdaapi.FunctionVersion) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]lambdaapi.InvokeRequest(nil), f.calls...), append([]string(nil), f.drains...),
		append([]lambdaapi.FunctionVersion(nil), f.configures...)
}

// world is a Lambda API on a fresh store with a fake runner and a Go SDK
// client pointed at it.
type world struct {
	t        *testing.T
	dir      string
	store    *store.Store
	api      *lambdaapi.API
	runner   *fakeRunner
	client   *lambda.Client
	url      string
	mutate   func(*lambdaapi.Config)
	closeSrv func()
}

func newWorld(t *testing.T, mutate ...func(*lambdaapi.Config)) *world {
	t.Helper()
	w := &world{t: t, dir: t.TempDir(), runner: newFakeRunner()}
	if len(mutate) > 0 {
		w.mutate = mutate[0]
	}
	w.open()
	t.Cleanup(w.close)
	return w
}

func (w *world) open() {
	st, err := store.Open(context.Background(), filepath.Join(w.dir, "tarn.db"))
	if err != nil {
		w.t.Fatal(err)
	}
	w.store = st
	settle := time.Millisecond
	cfg := lambdaapi.Config{Store: st, AccountID: account, Region: "us-east-1", CodeRoot: filepath.Join(w.dir, "code"),
		Runner: w.runner, SettleDelay: &settle, RetryDelays: []time.Duration{time.Millisecond, 2 * time.Millisecond},
		ThrottleDelay: &settle}
	if w.mutate != nil {
		w.mutate(&cfg)
	}
	w.api = lambdaapi.New(cfg)
	srv := httptest.NewServer(w.api)
	w.closeSrv = srv.Close
	w.url = srv.URL
	w.client = lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func (w *world) close() {
	if w.api == nil {
		return
	}
	w.closeSrv()
	w.api.Close()
	w.store.Close()
	w.api = nil
}

// restart closes the API and the store and opens them again on the same
// data.
func (w *world) restart() {
	w.close()
	w.open()
}

// code returns the AWS error code of err, or "" when err is nil.
func code(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "non-API error: " + err.Error()
}

func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// zipOf builds a zip archive of name → content.
func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var appZip = map[string]string{"app.py": "def handler(event, context):\n    return event\n"}

func (w *world) create(name string, mutate ...func(*lambda.CreateFunctionInput)) *lambda.CreateFunctionOutput {
	w.t.Helper()
	in := &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimePython312,
		Handler: aws.String("app.handler"), Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zipOf(w.t, appZip)}}
	for _, m := range mutate {
		m(in)
	}
	out, err := w.client.CreateFunction(context.Background(), in)
	if err != nil {
		w.t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	return out
}

// waitSettled polls until the function is Active with its last update
// done.
func (w *world) waitSettled(name string) *lambda.GetFunctionConfigurationOutput {
	w.t.Helper()
	for range 2000 {
		c, err := w.client.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		if err != nil {
			w.t.Fatal(err)
		}
		if c.State == types.StateActive && c.LastUpdateStatus == types.LastUpdateStatusSuccessful {
			return c
		}
		time.Sleep(2 * time.Millisecond)
	}
	w.t.Fatalf("function %s never settled", name)
	return nil
}

// zipOfStored builds a zip with one uncompressed entry.
func zipOfStored(t testing.TB, name string, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	f.Write(content)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
