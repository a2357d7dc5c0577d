package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"tarn.dev/tarn/internal/lambdalog"
	"tarn.dev/tarn/internal/logs"
	"tarn.dev/tarn/internal/runtimeapi"
	"tarn.dev/tarn/internal/runtimes"
	"tarn.dev/tarn/internal/sandbox"
)

// ErrorTypeOutOfMemory is the error type of an invocation whose environment
// ran out of memory.
const ErrorTypeOutOfMemory = "Runtime.OutOfMemory"

var errResetAfterLargeResponse = errors.New("reset after an oversized response")

// env is one execution environment: a sandbox running the runtime, its own
// Runtime API on a loopback port, and its log stream.
type env struct {
	fn          Function
	provisioned bool
	stream      string
	api         *runtimeapi.Environment
	sb          Sandbox
	out         *output
	stopServe   context.CancelFunc
	served      chan struct{}
	exited      chan struct{} // closed once the sandbox is gone
	initDur     time.Duration
	destroyOnce sync.Once

	mu       sync.Mutex
	request  string // the request in flight, for the out-of-memory message
	reported bool   // the first REPORT is written

	// Guarded by Scheduler.mu.
	busy     bool
	dead     bool // taken out of its pool
	lastUsed time.Time
}

// startEnv starts an environment for fn and waits for its runtime to be
// ready. A non-nil env with an error means the sandbox started but init
// failed: the error wraps the *runtimeapi.FunctionError for the invoker,
// and the caller destroys the env after logging.
func (s *Scheduler) startEnv(ctx context.Context, fn Function, provisioned bool) (*env, error) {
	argv, err := runtimes.Command(fn.Runtime, runtimes.DefaultTaskRoot)
	if err != nil {
		return nil, fmt.Errorf("start environment of %q: %w", fn.Name, err)
	}
	var runtimeDir []sandbox.Bind
	if kind, _ := runtimes.Lookup(fn.Runtime); kind == runtimes.Python && s.cfg.RuntimeDir != "" {
		argv = runtimes.PythonCommand()
		runtimeDir = []sandbox.Bind{{Source: s.cfg.RuntimeDir, Target: runtimes.DefaultRuntimeDir, ReadOnly: true}}
	}
	started := time.Now()
	e := &env{fn: fn, provisioned: provisioned, served: make(chan struct{}), exited: make(chan struct{})}
	e.stream = runtimes.LogStreamName(started, fn.Version)
	var stream *logs.Stream
	if s.cfg.Logs != nil {
		if stream, err = s.cfg.Logs.OpenStream(fn.Name, e.stream); err != nil {
			return nil, fmt.Errorf("start environment of %q: %w", fn.Name, err)
		}
	}
	out, w, err := newOutput(stream)
	if err != nil {
		if stream != nil {
			stream.Close()
		}
		return nil, fmt.Errorf("start environment of %q: %w", fn.Name, err)
	}
	e.out = out
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.Close()
		out.close()
		return nil, fmt.Errorf("start environment of %q: runtime api: %w", fn.Name, err)
	}
	e.api = runtimeapi.New(runtimeapi.Config{Start: started})
	serveCtx, stop := context.WithCancel(context.Background())
	e.stopServe = stop
	go func() {
		defer close(e.served)
		_ = e.api.Serve(serveCtx, ln)
	}()

	initType := "on-demand"
	if provisioned {
		initType = "provisioned-concurrency"
	}
	spec := sandbox.Spec{
		Code:         fn.CodeDir,
		TmpSize:      int64(fn.EphemeralMB) << 20,
		MemoryBytes:  int64(fn.MemoryMB) << 20,
		PidsMax:      s.cfg.PidsMax,
		CgroupParent: s.cfg.CgroupParent,
		Argv:         argv,
		Env: runtimes.Environment(runtimes.FunctionInfo{
			Name: fn.Name, Version: fn.Version, MemoryMB: fn.MemoryMB, Runtime: fn.Runtime,
			Handler: fn.Handler, Region: s.cfg.Region, RuntimeAPI: ln.Addr().String(),
			LogStreamName: e.stream, InitializationType: initType, UserEnv: fn.Env,
		}),
		Stdout: w,
		Stderr: w,
	}
	spec.Mounts = append(spec.Mounts, runtimeDir...)
	for _, m := range fn.Mounts {
		spec.Mounts = append(spec.Mounts, sandbox.Bind{Source: m.HostPath, Target: m.LocalMountPath, ReadOnly: m.ReadOnly})
	}
	sb, err := s.cfg.Sandboxes.Start(ctx, spec)
	w.Close() // the sandbox holds its own copy
	if err != nil {
		stop()
		<-e.served
		out.close()
		return nil, fmt.Errorf("start environment of %q: %w", fn.Name, err)
	}
	e.sb = sb
	go e.wait()

	ictx, cancel := context.WithTimeout(ctx, s.cfg.InitTimeout)
	defer cancel()
	e.initDur, err = e.api.WaitReady(ictx)
	if err != nil {
		var fe *runtimeapi.FunctionError
		if !errors.As(err, &fe) {
			// Init ran out of time (or the caller gave up).
			fe = newFunctionError(runtimeapi.ErrorTypeTimedOut, fmt.Sprintf("Init timed out after %.2f seconds", time.Since(started).Seconds()))
		}
		if e.initDur == 0 {
			e.initDur = time.Since(started)
		}
		return e, fmt.Errorf("init %q: %w", fn.Name, fe)
	}
	return e, nil
}

// wait reports the runtime's exit to the Runtime API.
func (e *env) wait() {
	info, _ := e.sb.Wait()
	var err error
	switch {
	case info.OOMKilled:
		e.mu.Lock()
		id := e.request
		e.mu.Unlock()
		err = newFunctionError(ErrorTypeOutOfMemory, "RequestId: "+id+" Error: Runtime exited with error: signal: killed")
	case info.Signal != 0:
		err = fmt.Errorf("signal: %v", info.Signal)
	case info.ExitCode != 0:
		err = fmt.Errorf("exit status %d", info.ExitCode)
	}
	e.api.RuntimeExited(err)
	close(e.exited)
}

func newFunctionError(typ, msg string) *runtimeapi.FunctionError {
	body, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
	return &runtimeapi.FunctionError{Type: typ, Message: msg, Body: body}
}

// alive reports whether the sandbox is still running.
func (e *env) alive() bool {
	select {
	case <-e.exited:
		return false
	default:
		return true
	}
}

// invoke runs one request. A non-nil error means the environment is broken
// and must be destroyed; the Response still holds what the invoker gets.
func (e *env) invoke(ctx context.Context, req Request) (Response, error) {
	fn := e.fn
	e.mu.Lock()
	e.request = req.RequestID
	first := !e.reported
	e.reported = true
	e.mu.Unlock()

	e.out.beginTail()
	e.out.log(lambdalog.Start(req.RequestID, fn.Version))
	deadline := time.Now().Add(fn.Timeout)
	res, err := e.api.Invoke(ctx, runtimeapi.Invocation{
		RequestID: req.RequestID, Payload: req.Payload, ContentType: req.ContentType,
		Deadline: deadline, Timeout: fn.Timeout, FunctionARN: fn.ARN,
		ClientContext: req.ClientContext, Identity: req.Identity, TraceID: req.TraceID,
	})
	status := ""
	if err != nil {
		// Stop whatever is left before accounting for it.
		e.sb.Kill()
	}
	e.out.drain()
	switch {
	case err == nil:
	case errors.Is(err, runtimeapi.ErrTimedOut) && ctx.Err() == nil:
		status = "timeout"
		e.out.log(lambdalog.TimedOut(time.Now(), req.RequestID, fn.Timeout))
	case res.Error != nil && res.Error.Type == ErrorTypeOutOfMemory:
		status = "error"
		e.out.log(res.Error.Message + "\n" + res.Error.Type)
	case errors.Is(err, runtimeapi.ErrRuntimeExited) && res.Error != nil:
		status = "error"
		e.out.log(res.Error.Message + "\n" + res.Error.Type)
	}
	resp := e.finish(req.RequestID, first, res, status)
	if err == nil && res.Error != nil && res.Error.Type == runtimeapi.ErrorTypeResponseSizeTooLarge {
		// The runtime may still be sending the body the Runtime API
		// refused; start afresh rather than guess its state.
		err = errResetAfterLargeResponse
	}
	if err != nil && ctx.Err() != nil {
		return resp, fmt.Errorf("invoke %q: %w", fn.Name, ctx.Err())
	}
	return resp, err
}

// finish writes END and REPORT and builds the response.
func (e *env) finish(requestID string, first bool, res runtimeapi.Result, status string) Response {
	rep := lambdalog.Report{
		RequestID:       requestID,
		Duration:        res.Duration,
		MemorySizeMB:    e.fn.MemoryMB,
		MaxMemoryUsedMB: int((e.sb.Stats().MaxMemoryBytes + 1<<20 - 1) >> 20),
		Status:          status,
	}
	resp := Response{
		Payload: res.Payload, ContentType: res.ContentType, Duration: res.Duration,
		LogStream: e.stream, Cold: first,
	}
	if first && !e.provisioned {
		rep.InitDuration = e.initDur
		resp.InitDuration = e.initDur
	}
	e.out.log(lambdalog.End(requestID), rep.String())
	resp.LogTail = e.out.endTail()
	if res.Error != nil {
		resp.FunctionError = "Unhandled"
		resp.ErrorType = res.Error.Type
	}
	return resp
}

// initFailed writes the log lines of an invocation that found init failed
// and returns its response.
func (e *env) initFailed(requestID string, fe *runtimeapi.FunctionError) Response {
	e.mu.Lock()
	e.reported = true
	e.mu.Unlock()
	e.out.drain()
	e.out.beginTail()
	e.out.log(lambdalog.Start(requestID, e.fn.Version))
	return e.finish(requestID, true, runtimeapi.Result{Payload: fe.Body, ContentType: "application/json", Error: fe}, "error")
}

// destroy kills the sandbox and releases everything the environment holds.
func (e *env) destroy() {
	e.destroyOnce.Do(func() {
		if e.sb != nil {
			e.sb.Kill()
			<-e.exited
		}
		e.stopServe()
		<-e.served
		e.out.close()
	})
}
