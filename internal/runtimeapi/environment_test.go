package runtimeapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestWaitReadyEndsAtFirstNext(t *testing.T) {
	w := newWorld(t, Config{Start: time.Now().Add(-time.Second)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.env.WaitReady(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitReady before /next = %v, want context.Canceled", err)
	}
	go w.rt.next()
	d, err := w.env.WaitReady(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d < time.Second || w.env.InitDuration() != d {
		t.Errorf("init duration = %v (InitDuration %v), want ≥ 1s from Config.Start", d, w.env.InitDuration())
	}
}

func TestWarmInvocationsInSequence(t *testing.T) {
	w := newWorld(t, Config{})
	go func() {
		for i := 0; i < 3; i++ {
			r := w.rt.next()
			id := r.header.Get("Lambda-Runtime-Aws-Request-Id")
			w.rt.respond(id, append([]byte(id+":"), r.body...))
		}
	}()
	for _, id := range []string{"a", "b", "c"} {
		res, err := w.env.Invoke(context.Background(), Invocation{RequestID: id, Payload: []byte(`"p"`)})
		if err != nil || string(res.Payload) != id+`:"p"` {
			t.Fatalf("Invoke(%s) = %q, %v", id, res.Payload, err)
		}
	}
}

func TestInvokeBusy(t *testing.T) {
	w := newWorld(t, Config{})
	ch, _ := w.started(Invocation{RequestID: "id-1"})
	if _, err := w.env.Invoke(context.Background(), Invocation{RequestID: "id-2"}); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Invoke = %v, want ErrBusy", err)
	}
	w.rt.respond("id-1", nil)
	w.wait(ch)
}

func TestTimeoutResetsEnvironment(t *testing.T) {
	tests := []struct {
		name      string
		delivered bool
	}{{"after delivery", true}, {"before delivery", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, Config{})
			ctx, cancel := context.WithCancel(context.Background())
			ch := w.invokeAsync(ctx, Invocation{RequestID: "id-1", Timeout: 3 * time.Second})
			if tt.delivered {
				w.rt.next()
			}
			cancel()
			o := w.wait(ch)
			if !errors.Is(o.err, ErrTimedOut) || !errors.Is(o.err, context.Canceled) {
				t.Fatalf("Invoke err = %v, want ErrTimedOut and context.Canceled", o.err)
			}
			want := `{"errorMessage":"RequestId: id-1 Error: Task timed out after 3.00 seconds","errorType":"Sandbox.Timedout"}`
			if string(o.res.Payload) != want || o.res.Error.Type != "Sandbox.Timedout" {
				t.Errorf("payload = %s, want %s", o.res.Payload, want)
			}
			if r := w.rt.respond("id-1", []byte("late")); r.status != http.StatusForbidden {
				t.Errorf("late response = %d, want 403", r.status)
			}
			if _, err := w.env.Invoke(context.Background(), Invocation{RequestID: "id-2"}); !errors.Is(err, ErrTimedOut) {
				t.Errorf("Invoke after timeout = %v, want ErrTimedOut (environment needs a reset)", err)
			}
		})
	}
}

func TestDeadlineTimesOut(t *testing.T) {
	w := newWorld(t, Config{})
	go w.rt.next()
	res, err := w.env.Invoke(context.Background(), Invocation{RequestID: "id-1", Deadline: time.Now().Add(10 * time.Millisecond)})
	if !errors.Is(err, ErrTimedOut) || !errors.Is(err, context.DeadlineExceeded) || res.Error == nil || res.Error.Type != ErrorTypeTimedOut {
		t.Fatalf("Invoke = %+v, %v; want Sandbox.Timedout", res, err)
	}
}

func TestRuntimeExit(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantMsg string
	}{
		{"exit status", errors.New("exit status 1"), "RequestId: id-1 Error: Runtime exited with error: exit status 1"},
		{"clean exit", nil, "RequestId: id-1 Error: Runtime exited without providing a reason"},
		{"out of memory", &FunctionError{Type: "Runtime.OutOfMemory", Message: "oom", Body: []byte(`{"errorType":"Runtime.OutOfMemory"}`)}, "oom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, Config{})
			ch, _ := w.started(Invocation{RequestID: "id-1"})
			w.env.RuntimeExited(tt.err)
			o := w.wait(ch)
			if !errors.Is(o.err, ErrRuntimeExited) || o.res.Error == nil || o.res.Error.Message != tt.wantMsg {
				t.Fatalf("Invoke = %+v, %v; want %q", o.res.Error, o.err, tt.wantMsg)
			}
		})
	}
}

func TestExitDuringInitFailsWaitReadyAndInvoke(t *testing.T) {
	w := newWorld(t, Config{})
	ch := w.invokeAsync(context.Background(), Invocation{RequestID: "id-1"})
	w.env.RuntimeExited(errors.New("exit status 2"))
	if _, err := w.env.WaitReady(context.Background()); !errors.Is(err, ErrRuntimeExited) {
		t.Errorf("WaitReady = %v, want ErrRuntimeExited", err)
	}
	o := w.wait(ch)
	if o.res.Error == nil || o.res.Error.Type != ErrorTypeExit || !strings.Contains(o.res.Error.Message, "exit status 2") {
		t.Errorf("Invoke = %+v, %v", o.res.Error, o.err)
	}
}

func TestAnswerWinsOverLaterExit(t *testing.T) {
	w := newWorld(t, Config{})
	ch, _ := w.started(Invocation{RequestID: "id-1"})
	w.rt.respond("id-1", []byte("done"))
	w.env.RuntimeExited(nil)
	if o := w.wait(ch); o.err != nil || string(o.res.Payload) != "done" {
		t.Errorf("Invoke = %q, %v; want the response posted before the exit", o.res.Payload, o.err)
	}
}

func TestNextReturnsWhenRuntimeExits(t *testing.T) {
	w := newWorld(t, Config{})
	done := make(chan reply, 1)
	go func() { done <- w.rt.next() }()
	if _, err := w.env.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.env.RuntimeExited(nil)
	select {
	case r := <-done:
		if r.status != http.StatusForbidden {
			t.Errorf("long-poll after exit = %d, want 403", r.status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("/next still blocked after RuntimeExited")
	}
}

func TestServeOnInjectedListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := New(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- env.Serve(ctx, ln) }()
	rt := &fakeRuntime{t: t, base: "http://" + ln.Addr().String() + "/2018-06-01/runtime", client: &http.Client{}}
	go func() {
		r := rt.next()
		rt.respond(r.header.Get("Lambda-Runtime-Aws-Request-Id"), []byte("pong"))
	}()
	res, err := env.Invoke(context.Background(), Invocation{RequestID: "id-1"})
	if err != nil || string(res.Payload) != "pong" {
		t.Fatalf("Invoke = %q, %v", res.Payload, err)
	}
	// A long-poll in flight must not keep Serve from returning.
	go rt.client.Get(rt.base + "/invocation/next")
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil after ctx ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
}
