package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tarn.dev/tarn/internal/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:MessageWall"

// fakeSource serves fixed definitions and counts loads.
type fakeSource struct {
	mu    sync.Mutex
	defs  []store.APIDefinition
	loads atomic.Int32
}

func (s *fakeSource) APIDefinitions(context.Context) ([]store.APIDefinition, error) {
	s.loads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.APIDefinition(nil), s.defs...), nil
}

func (s *fakeSource) set(defs ...store.APIDefinition) {
	s.mu.Lock()
	s.defs = defs
	s.mu.Unlock()
}

// invokerFunc adapts a function to Invoker.
type invokerFunc func(ctx context.Context, fn string, payload []byte) ([]byte, string, error)

func (f invokerFunc) InvokeFunction(ctx context.Context, fn string, payload []byte) ([]byte, string, error) {
	return f(ctx, fn, payload)
}

// returning is an invoker that records the last payload and returns result.
type returning struct {
	mu      sync.Mutex
	payload []byte
	fn      string
	result  string
}

func (r *returning) InvokeFunction(_ context.Context, fn string, payload []byte) ([]byte, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.payload, r.fn = append([]byte(nil), payload...), fn
	return []byte(r.result), "", nil
}

func (r *returning) last() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.payload
}

// zeros is a deterministic source of ids.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}

var fixedNow = time.Date(2020, 4, 21, 15, 8, 21, 67_000_000, time.UTC)

// api returns the definition of an API with one AWS_PROXY integration
// (payload format version) on every given route key, and the given stages.
func apiDef(id, version string, routeKeys []string, stages ...store.Stage) store.APIDefinition {
	d := store.APIDefinition{
		API:          store.API{ID: id, Name: id, ProtocolType: "HTTP"},
		Integrations: []store.Integration{{ID: "int" + id, APIID: id, Type: "AWS_PROXY", URI: testARN, PayloadFormatVersion: version}},
	}
	for n, k := range routeKeys {
		d.Routes = append(d.Routes, store.Route{ID: "r" + string(rune('a'+n)), APIID: id, RouteKey: k, Target: "integrations/int" + id})
	}
	for _, s := range stages {
		s.APIID = id
		d.Stages = append(d.Stages, s)
	}
	return d
}

func newHandler(t testing.TB, inv Invoker, defs ...store.APIDefinition) (*Handler, *fakeSource) {
	t.Helper()
	src := &fakeSource{defs: defs}
	h := New(Config{Source: src, Invoker: inv, AccountID: "123456789012", Region: "us-east-1",
		Log: quiet, Now: func() time.Time { return fixedNow }, Rand: zeros{}})
	return h, src
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
