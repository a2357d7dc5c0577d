package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// world is an Environment served over loopback HTTP with a scripted fake
// runtime speaking the Runtime API to it.
type world struct {
	t   *testing.T
	env *Environment
	srv *httptest.Server
	rt  *fakeRuntime
}

func newWorld(t *testing.T, cfg Config) *world {
	t.Helper()
	env := New(cfg)
	srv := httptest.NewServer(env.Handler())
	t.Cleanup(func() {
		env.RuntimeExited(nil) // releases long-polls so Close does not wait
		srv.Close()
	})
	return &world{t: t, env: env, srv: srv, rt: &fakeRuntime{t: t, base: srv.URL + "/2018-06-01/runtime", client: srv.Client()}}
}

// fakeRuntime is a scripted runtime: each method is one Runtime API call.
type fakeRuntime struct {
	t      *testing.T
	base   string
	client *http.Client
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// apiError decodes a Runtime API error body.
func (r reply) apiError() errorBody {
	var e errorBody
	json.Unmarshal(r.body, &e)
	return e
}

func (f *fakeRuntime) do(req *http.Request) reply {
	f.t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (f *fakeRuntime) next() reply {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.base+"/invocation/next", nil)
	return f.do(req)
}

func (f *fakeRuntime) post(path string, body []byte, header map[string]string) reply {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.base+path, bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return f.do(req)
}

func (f *fakeRuntime) respond(id string, body []byte) reply {
	f.t.Helper()
	return f.post("/invocation/"+id+"/response", body, nil)
}

// invokeAsync runs Invoke in the background and returns a channel with its outcome.
type outcome struct {
	res Result
	err error
}

func (w *world) invokeAsync(ctx context.Context, inv Invocation) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := w.env.Invoke(ctx, inv)
		ch <- outcome{res, err}
	}()
	return ch
}

func (w *world) wait(ch <-chan outcome) outcome {
	w.t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(10 * time.Second):
		w.t.Fatal("Invoke did not return")
		return outcome{}
	}
}

// started runs an invocation up to delivery: it returns once the fake runtime
// holds the event.
func (w *world) started(inv Invocation) (<-chan outcome, reply) {
	w.t.Helper()
	ch := w.invokeAsync(context.Background(), inv)
	r := w.rt.next()
	if r.status != http.StatusOK {
		w.t.Fatalf("next: status %d %s", r.status, r.body)
	}
	return ch, r
}
