package runtimeapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultMaxResponseSize is the largest response a runtime may post: 6 MiB
// plus 100 bytes, as Lambda and the Runtime Interface Emulator allow.
const DefaultMaxResponseSize = 6*1024*1024 + 100

// Config configures an Environment. The zero value means the defaults.
type Config struct {
	// Start is when the runtime process was started; Init Duration runs from
	// Start to the first /next. Zero means the time New was called.
	Start time.Time
	// MaxResponseSize caps response and error bodies posted by the runtime.
	// Zero means DefaultMaxResponseSize.
	MaxResponseSize int64
}

// Invocation is one event handed to the runtime.
type Invocation struct {
	RequestID string
	Payload   []byte
	// ContentType of the payload; empty means application/json.
	ContentType string
	// Deadline is sent as Lambda-Runtime-Deadline-Ms; Invoke also stops
	// waiting when it passes. Zero means no deadline beyond ctx.
	Deadline time.Time
	// Timeout is the function's configured timeout, used only in the
	// "Task timed out after N seconds" message. Zero means the time from the
	// call to Invoke until Deadline.
	Timeout       time.Duration
	FunctionARN   string
	ClientContext string // JSON, sent only when not empty
	Identity      string // Cognito identity JSON, sent only when not empty
	TraceID       string
	TenantID      string
}

// Result is the outcome of an invocation. Payload is what the invoker gets:
// the response body, or Error.Body when the invocation failed.
type Result struct {
	Payload     []byte
	ContentType string
	Error       *FunctionError
	// Duration runs from delivery of the event to the runtime until its
	// answer (REPORT's Duration); zero when the event was never delivered.
	Duration time.Duration
}

// state is the runtime's position in the Runtime API state machine; the
// names are the Runtime Interface Emulator's, used in 403 messages.
type state int

const (
	stStarted      state = iota // process started, no /next yet
	stReady                     // init done, polling /next
	stRunning                   // an invocation is delivered and unanswered
	stResponding                // its response or error body is being read
	stResponseSent              // answered, waiting for the next /next
	stInitError                 // init/error posted
	stExited                    // the process is gone
	stTimedOut                  // an invocation timed out: the environment must be reset
)

var stateNames = [...]string{
	stStarted:      "Started",
	stReady:        "Ready",
	stRunning:      "Running",
	stResponding:   "InvocationResponse",
	stResponseSent: "RuntimeResponseSentState",
	stInitError:    "InitError",
	stExited:       "Exited",
	stTimedOut:     "TimedOut",
}

func (s state) String() string { return stateNames[s] }

// call is one Invoke in flight.
type call struct {
	inv       Invocation
	done      chan struct{} // closed when answered
	answered  bool
	abandoned bool // Invoke gave up before an answer
	delivered time.Time
	result    Result
}

// Environment is the Runtime API of one execution environment. It is safe for
// concurrent use; see the package documentation for its lifecycle.
type Environment struct {
	maxResponse int64
	start       time.Time
	handler     http.Handler

	next  chan *call    // the queued invocation, capacity 1
	ready chan struct{} // closed at the first /next
	dead  chan struct{} // closed when the environment becomes unusable

	mu           sync.Mutex
	state        state
	pending      *call // queued or outstanding invocation
	current      *call // delivered invocation
	initDuration time.Duration
	initErr      *FunctionError // posted to init/error
	exitErr      error          // what RuntimeExited reported
	exited       bool
}

// New returns an Environment in the Started state.
func New(cfg Config) *Environment {
	e := &Environment{
		maxResponse: cfg.MaxResponseSize,
		start:       cfg.Start,
		next:        make(chan *call, 1),
		ready:       make(chan struct{}),
		dead:        make(chan struct{}),
	}
	if e.maxResponse <= 0 {
		e.maxResponse = DefaultMaxResponseSize
	}
	if e.start.IsZero() {
		e.start = time.Now()
	}
	e.handler = e.routes()
	return e
}

// Handler returns the HTTP handler serving the Runtime API under /2018-06-01.
func (e *Environment) Handler() http.Handler { return e.handler }

// Serve serves the Runtime API on ln until ctx ends, then closes the server
// and its connections. It returns nil when ctx ended.
func (e *Environment) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: e.handler}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	err := srv.Serve(ln)
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("serve runtime api: %w", err)
}

// WaitReady waits until the runtime finishes init (its first /next) and
// returns the Init Duration. It fails with ErrInitFailed (wrapping the posted
// *FunctionError) after an init/error, ErrRuntimeExited when the process
// exited first, or ctx's error.
func (e *Environment) WaitReady(ctx context.Context) (time.Duration, error) {
	select {
	case <-e.ready:
	case <-e.dead:
	case <-ctx.Done():
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.ready:
		return e.initDuration, nil
	default:
	}
	switch {
	case e.initErr != nil:
		return 0, fmt.Errorf("wait ready: %w: %w", ErrInitFailed, e.initErr)
	case e.exited:
		return 0, fmt.Errorf("wait ready: %w: %w", ErrRuntimeExited, ExitError("", e.exitErr))
	}
	return 0, fmt.Errorf("wait ready: %w", ctx.Err())
}

// InitDuration is the time from start to the first /next, zero before it.
func (e *Environment) InitDuration() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.initDuration
}

// RuntimeExited tells the environment that the runtime process exited with
// err (nil for status 0; a *FunctionError such as Runtime.OutOfMemory is
// reported to the invoker as it is). A pending Invoke fails with
// Runtime.ExitError and long-polling /next requests return.
func (e *Environment) RuntimeExited(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exited {
		return
	}
	e.exited = true
	e.exitErr = err
	if e.state != stInitError && e.state != stTimedOut {
		e.state = stExited
	}
	e.kill()
}

// kill closes dead once; the caller holds mu.
func (e *Environment) kill() {
	select {
	case <-e.dead:
	default:
		close(e.dead)
	}
}

// Invoke hands inv to the runtime and waits for its answer. A function error
// posted by the runtime is a Result with Error set and a nil error. A non-nil
// error (ErrTimedOut, ErrRuntimeExited, ErrInitFailed) means the environment
// must be reset; the Result then holds the payload for the invoker. ErrBusy
// means another invocation is in flight and nothing was done.
func (e *Environment) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	started := time.Now()
	if !inv.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, inv.Deadline)
		defer cancel()
	}
	c := &call{inv: inv, done: make(chan struct{})}

	e.mu.Lock()
	if e.pending != nil {
		e.mu.Unlock()
		return Result{}, fmt.Errorf("invoke %s: %w", inv.RequestID, ErrBusy)
	}
	if res, err := e.deadResult(inv.RequestID); err != nil {
		e.mu.Unlock()
		return res, err
	}
	e.pending = c
	e.mu.Unlock()
	select {
	case e.next <- c:
	default:
		// Unreachable: only one call is pending at a time and a dead
		// environment never takes new ones.
		panic("runtimeapi: invocation queue full")
	}

	select {
	case <-c.done:
	case <-ctx.Done():
	case <-e.dead:
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if c.answered {
		return c.result, nil
	}
	c.abandoned = true
	e.pending = nil
	if e.current == c {
		e.current = nil
	}
	if res, err := e.deadResult(inv.RequestID); err != nil {
		if !c.delivered.IsZero() {
			res.Duration = time.Since(c.delivered)
		}
		return res, err
	}
	// ctx ended: a timeout, whatever the cause, leaves the runtime busy with
	// an event nobody waits for, so the environment must be reset.
	e.state = stTimedOut
	e.kill()
	timeout := inv.Timeout
	if timeout == 0 && !inv.Deadline.IsZero() {
		timeout = inv.Deadline.Sub(started)
	}
	fe := TimeoutError(inv.RequestID, timeout)
	res := Result{Payload: fe.Body, ContentType: "application/json", Error: fe}
	if !c.delivered.IsZero() {
		res.Duration = time.Since(c.delivered)
	}
	return res, fmt.Errorf("invoke %s: %w: %w", inv.RequestID, ErrTimedOut, ctx.Err())
}

// deadResult is the result of invoking requestID on an environment that can
// no longer run it, with a nil error when it still can. The caller holds mu.
func (e *Environment) deadResult(requestID string) (Result, error) {
	var fe *FunctionError
	var err error
	switch {
	case e.initErr != nil:
		fe, err = e.initErr, ErrInitFailed
	case e.exited:
		fe, err = ExitError(requestID, e.exitErr), ErrRuntimeExited
	case e.state == stTimedOut:
		fe, err = newFunctionError(ErrorTypeExit, "RequestId: "+requestID+" Error: environment was reset after a timeout"), ErrTimedOut
	default:
		return Result{}, nil
	}
	return Result{Payload: fe.Body, ContentType: "application/json", Error: fe},
		fmt.Errorf("invoke %s: %w: %w", requestID, err, fe)
}

// claim reserves the outstanding invocation id for a response or error post,
// so that a concurrent second post is rejected. On failure it renders the
// Runtime API error and returns nil.
func (e *Environment) claim(w http.ResponseWriter, id, to string) *call {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != stRunning {
		renderStateError(w, e.state.String(), to)
		return nil
	}
	if e.current == nil || id != e.current.inv.RequestID {
		renderInvalidRequestID(w)
		return nil
	}
	e.state = stResponding
	return e.current
}

// release returns a claimed invocation to Running after a failed read, so the
// runtime may post again.
func (e *Environment) release(c *call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.current == c && e.state == stResponding {
		e.state = stRunning
	}
}

// complete records the answer for a claimed invocation and wakes Invoke.
func (e *Environment) complete(c *call, res Result) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.current == c {
		e.current = nil
		if e.state == stResponding {
			e.state = stResponseSent
		}
	}
	if c.abandoned || c.answered {
		return
	}
	res.Duration = now.Sub(c.delivered)
	c.result = res
	c.answered = true
	if e.pending == c {
		e.pending = nil
	}
	close(c.done)
}
