package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"tarn.dev/tarn/internal/logs"
	"tarn.dev/tarn/internal/runtimeapi"
	"tarn.dev/tarn/internal/runtimes"
	"tarn.dev/tarn/internal/sandbox"
)

// Defaults for Config's and Function's zero fields.
const (
	DefaultAccountLimit  = 1000
	DefaultUnreservedMin = 100
	DefaultIdleTimeout   = 10 * time.Minute
	DefaultInitTimeout   = 10 * time.Second
	DefaultPidsMax       = 1024
	DefaultTimeout       = 3 * time.Second
	DefaultEphemeralMB   = 512
)

// Throttle reasons, as Lambda reports them in TooManyRequestsException.
const (
	ReasonReserved = "ReservedFunctionConcurrentInvocationLimitExceeded"
	ReasonAccount  = "ConcurrentInvocationLimitExceeded"
)

// ErrClosed is returned by a closed Scheduler.
var ErrClosed = errors.New("scheduler closed")

// ThrottleError is an invocation refused for lack of concurrency: Lambda's
// 429 TooManyRequestsException.
type ThrottleError struct {
	Function string
	Reason   string
}

func (e *ThrottleError) Error() string {
	return fmt.Sprintf("invoke %q: rate exceeded (%s)", e.Function, e.Reason)
}

// Mount is a host directory (a FUSE mount of a file system, through its
// access point) bound into every environment of a function.
type Mount struct {
	HostPath       string
	LocalMountPath string // e.g. /mnt/efs
	ReadOnly       bool
}

// Function is one function version as the scheduler sees it. Zero fields
// take Lambda's defaults: version $LATEST, 128 MB, 512 MB of /tmp, 3 s.
type Function struct {
	Name, Version, ARN string
	Runtime, Handler   string
	CodeDir            string // host directory seen as /var/task
	MemoryMB           int
	EphemeralMB        int
	Timeout            time.Duration
	Env                map[string]string
	Mounts             []Mount
	// Revision changes whenever code or configuration change; environments
	// of another revision of the same version are drained.
	Revision string
	// Reserved is the function's reserved concurrency (all versions); nil
	// means none, 0 throttles every invocation.
	Reserved *int
	// Provisioned is the number of environments SetProvisioned keeps
	// initialized for this version.
	Provisioned int
}

// Request is one invocation.
type Request struct {
	RequestID     string
	Payload       []byte
	ContentType   string // "" = application/json
	ClientContext string // JSON
	Identity      string // Cognito identity JSON
	TraceID       string
}

// Response is the outcome of an invocation that ran (or whose init failed).
type Response struct {
	Payload     []byte
	ContentType string
	// FunctionError is "Unhandled" when the invocation failed (the payload
	// is then the error), "" otherwise.
	FunctionError string
	ErrorType     string
	// LogTail is the last 4 KB of the invocation's log, START to REPORT.
	LogTail      []byte
	LogStream    string
	InitDuration time.Duration // non-zero on an on-demand environment's first invocation
	Duration     time.Duration
	Cold         bool // the environment's first invocation
}

// Config configures a Scheduler. The zero value of each field means its
// default.
type Config struct {
	// Sandboxes starts the environments; nil = a sandbox.Starter owned by
	// the scheduler.
	Sandboxes Sandboxes
	// Logs receives each environment's log stream; nil = logs are only
	// returned as Response.LogTail.
	Logs          *logs.Store
	AccountLimit  int           // concurrent executions of the account; 0 = 1,000
	UnreservedMin int           // concurrency SetReserved leaves unreserved; 0 = 100
	IdleTimeout   time.Duration // idle on-demand environments are reclaimed after it; 0 = 10 min
	InitTimeout   time.Duration // limit of an environment's init; 0 = 10 s
	PidsMax       int           // processes and threads per environment; 0 = 1,024
	CgroupParent  string        // "" = sandbox.DefaultCgroupParent
	Region        string        // "" = us-east-1
	// RuntimeDir is a host directory prepared by runtimes.PrepareBootstrap;
	// Python environments see it as /var/runtime and run the compiled
	// bootstrap from it. "" runs the bootstrap from source.
	RuntimeDir string
	Log        *slog.Logger
}

// Scheduler runs invocations in pools of execution environments. It is safe
// for concurrent use.
type Scheduler struct {
	cfg     Config
	owned   *sandbox.Starter
	stop    chan struct{}
	stopped chan struct{}

	mu             sync.Mutex
	closed         bool
	funcs          map[string]*function
	unreservedBusy int
	reservedSum    int
	wg             sync.WaitGroup // environments being started or destroyed
}

type function struct {
	reserved *int
	busy     int
	pools    map[string]*pool // by version
}

type pool struct {
	revision        string
	envs            []*env // idle ones are taken from the end (the most recently used)
	provisionedWant int
	fn              Function // the configuration provisioned environments start with
}

// New returns a scheduler; Close releases it.
func New(cfg Config) *Scheduler {
	if cfg.AccountLimit <= 0 {
		cfg.AccountLimit = DefaultAccountLimit
	}
	if cfg.UnreservedMin <= 0 {
		cfg.UnreservedMin = DefaultUnreservedMin
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	if cfg.PidsMax <= 0 {
		cfg.PidsMax = DefaultPidsMax
	}
	if cfg.Region == "" {
		cfg.Region = runtimes.DefaultRegion
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{cfg: cfg, funcs: map[string]*function{}, stop: make(chan struct{}), stopped: make(chan struct{})}
	if cfg.Sandboxes == nil {
		s.owned = &sandbox.Starter{}
		s.cfg.Sandboxes = FromStarter(s.owned)
	}
	go s.reclaimLoop()
	return s
}

func (s *Scheduler) defaults(fn Function) Function {
	if fn.Version == "" {
		fn.Version = runtimes.DefaultVersion
	}
	if fn.MemoryMB <= 0 {
		fn.MemoryMB = runtimes.DefaultMemoryMB
	}
	if fn.EphemeralMB <= 0 {
		fn.EphemeralMB = DefaultEphemeralMB
	}
	if fn.Timeout <= 0 {
		fn.Timeout = DefaultTimeout
	}
	if fn.ARN == "" {
		fn.ARN = "arn:aws:lambda:" + s.cfg.Region + ":000000000000:function:" + fn.Name
	}
	return fn
}

// function returns fn's state, applying its reserved concurrency; the
// caller holds mu.
func (s *Scheduler) function(fn Function) *function {
	f := s.funcs[fn.Name]
	if f == nil {
		f = &function{pools: map[string]*pool{}}
		s.funcs[fn.Name] = f
	}
	s.setReservedLocked(f, fn.Reserved)
	return f
}

func (s *Scheduler) setReservedLocked(f *function, r *int) {
	if f.reserved != nil {
		s.reservedSum -= *f.reserved
	}
	f.reserved = nil
	if r != nil {
		v := *r
		f.reserved = &v
		s.reservedSum += v
	}
}

// pool returns the pool of fn's version at fn's revision, draining one of
// an older revision; the caller holds mu. Environments to destroy are
// appended to dead.
func (s *Scheduler) poolLocked(f *function, fn Function, dead *[]*env) *pool {
	p := f.pools[fn.Version]
	if p != nil && p.revision != fn.Revision {
		*dead = append(*dead, s.drainPoolLocked(p)...)
		p = nil
	}
	if p == nil {
		p = &pool{revision: fn.Revision, fn: fn}
		f.pools[fn.Version] = p
	}
	return p
}

// drainPoolLocked takes every environment out of p: the idle ones are
// returned for destruction, busy ones are destroyed when released.
func (s *Scheduler) drainPoolLocked(p *pool) []*env {
	var idle []*env
	for _, e := range p.envs {
		e.dead = true
		if !e.busy {
			idle = append(idle, e)
		}
	}
	p.envs = nil
	p.provisionedWant = 0
	return idle
}

// slot is one admitted invocation's share of concurrency.
type slot struct {
	f          *function
	unreserved bool
}

// admitLocked takes a concurrency slot for f or says why not.
func (s *Scheduler) admitLocked(name string, f *function) (slot, error) {
	if f.reserved != nil {
		if f.busy >= *f.reserved {
			return slot{}, &ThrottleError{Function: name, Reason: ReasonReserved}
		}
		f.busy++
		return slot{f: f}, nil
	}
	if s.unreservedBusy >= s.cfg.AccountLimit-s.reservedSum {
		return slot{}, &ThrottleError{Function: name, Reason: ReasonAccount}
	}
	f.busy++
	s.unreservedBusy++
	return slot{f: f, unreserved: true}, nil
}

func (s *Scheduler) freeLocked(sl slot) {
	sl.f.busy--
	if sl.unreserved {
		s.unreservedBusy--
	}
}

// Invoke runs req on an environment of fn: an idle one of the same version
// and revision (provisioned first), else a new one. It returns a
// *ThrottleError when the function or the account is at its concurrency
// limit, and ErrClosed after Close. A function error, an init failure, a
// timeout, a runtime exit or running out of memory is a Response with
// FunctionError set and a nil error.
func (s *Scheduler) Invoke(ctx context.Context, fn Function, req Request) (Response, error) {
	fn = s.defaults(fn)
	var dead []*env
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Response{}, ErrClosed
	}
	f := s.function(fn)
	sl, err := s.admitLocked(fn.Name, f)
	if err != nil {
		s.mu.Unlock()
		return Response{}, err
	}
	p := s.poolLocked(f, fn, &dead)
	e := s.takeIdleLocked(p, &dead)
	if e == nil {
		s.wg.Add(1) // a start in progress
	}
	s.mu.Unlock()
	s.destroyAll(dead)

	if e == nil {
		var initErr error
		e, initErr = s.startEnv(ctx, fn, false)
		s.wg.Done()
		if e == nil {
			s.release(sl, nil, true)
			return Response{}, initErr
		}
		s.mu.Lock()
		e.busy = true
		if !s.closed {
			p.envs = append(p.envs, e)
		} else {
			e.dead = true
		}
		s.mu.Unlock()
		var fe *runtimeapi.FunctionError
		if initErr != nil && errors.As(initErr, &fe) {
			resp := e.initFailed(req.RequestID, fe)
			s.release(sl, e, true)
			return resp, nil
		}
	}
	resp, err := e.invoke(ctx, req)
	s.release(sl, e, err != nil)
	if err != nil && ctx.Err() != nil {
		return resp, err
	}
	return resp, nil
}

// takeIdleLocked returns an idle live environment of p, marked busy, or nil:
// provisioned ones first, then the most recently used.
func (s *Scheduler) takeIdleLocked(p *pool, dead *[]*env) *env {
	var pick *env
	for i := len(p.envs) - 1; i >= 0; i-- {
		e := p.envs[i]
		if e.busy {
			continue
		}
		if !e.alive() {
			e.dead = true
			p.envs = slices.Delete(p.envs, i, i+1)
			*dead = append(*dead, e)
			continue
		}
		if pick == nil || (e.provisioned && !pick.provisioned) {
			pick = e
		}
	}
	if pick != nil {
		pick.busy = true
	}
	return pick
}

// release returns the slot and the environment; a broken environment (or
// one drained meanwhile) is destroyed, and a provisioned one replaced.
func (s *Scheduler) release(sl slot, e *env, broken bool) {
	s.mu.Lock()
	s.freeLocked(sl)
	if e == nil {
		s.mu.Unlock()
		return
	}
	e.busy = false
	e.lastUsed = time.Now()
	destroy := broken || e.dead || s.closed
	var refill *pool
	if destroy && !e.dead {
		e.dead = true
		for _, p := range sl.f.pools {
			if i := slices.Index(p.envs, e); i >= 0 {
				p.envs = slices.Delete(p.envs, i, i+1)
				if e.provisioned {
					refill = p
				}
			}
		}
	}
	if destroy {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if destroy {
		e.destroy()
		s.wg.Done()
	}
	if refill != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.provision(context.Background(), sl.f, refill); err != nil {
				s.cfg.Log.Warn("replace provisioned environment", "function", e.fn.Name, "err", err)
			}
		}()
	}
}

func (s *Scheduler) destroyAll(envs []*env) {
	if len(envs) == 0 {
		return
	}
	var wg sync.WaitGroup
	for _, e := range envs {
		wg.Add(1)
		go func() { defer wg.Done(); e.destroy() }()
	}
	wg.Wait()
}

// SetReserved sets fn's reserved concurrency (fn.Reserved; nil removes
// it). It fails when the account would keep less than UnreservedMin
// unreserved.
func (s *Scheduler) SetReserved(ctx context.Context, fn Function) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if fn.Reserved != nil && *fn.Reserved < 0 {
		return fmt.Errorf("reserve concurrency of %q: %d: negative", fn.Name, *fn.Reserved)
	}
	old := 0
	if f := s.funcs[fn.Name]; f != nil && f.reserved != nil {
		old = *f.reserved
	}
	if fn.Reserved != nil {
		if left := s.cfg.AccountLimit - (s.reservedSum - old + *fn.Reserved); left < s.cfg.UnreservedMin {
			return fmt.Errorf("reserve %d for %q: the account would keep %d unreserved, below its minimum of %d",
				*fn.Reserved, fn.Name, left, s.cfg.UnreservedMin)
		}
	}
	s.function(fn)
	return nil
}

// SetProvisioned keeps fn.Provisioned environments of fn's version
// initialized (0 stops keeping them) and returns once they are ready. Like
// Lambda, it refuses more provisioned than reserved concurrency.
func (s *Scheduler) SetProvisioned(ctx context.Context, fn Function) error {
	fn = s.defaults(fn)
	var dead []*env
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	f := s.function(fn)
	if f.reserved != nil && fn.Provisioned > *f.reserved {
		s.mu.Unlock()
		return fmt.Errorf("provision %d for %q: more than its reserved concurrency %d", fn.Provisioned, fn.Name, *f.reserved)
	}
	p := s.poolLocked(f, fn, &dead)
	p.provisionedWant = max(fn.Provisioned, 0)
	p.fn = fn
	// Stop keeping the surplus: idle ones go now, busy ones when released.
	n := 0
	for i := len(p.envs) - 1; i >= 0; i-- {
		e := p.envs[i]
		if !e.provisioned {
			continue
		}
		if n++; n > p.provisionedWant {
			e.provisioned = false
			if !e.busy {
				e.dead = true
				p.envs = slices.Delete(p.envs, i, i+1)
				dead = append(dead, e)
			}
		}
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	s.destroyAll(dead)
	return s.provision(ctx, f, p)
}

// provision starts the provisioned environments p lacks.
func (s *Scheduler) provision(ctx context.Context, f *function, p *pool) error {
	s.mu.Lock()
	have := 0
	for _, e := range p.envs {
		if e.provisioned {
			have++
		}
	}
	missing := p.provisionedWant - have
	fn := p.fn
	if s.closed || f.pools[fn.Version] != p {
		missing = 0
	}
	s.mu.Unlock()
	errs := make([]error, max(missing, 0))
	var wg sync.WaitGroup
	for i := range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := s.startEnv(ctx, fn, true)
			if err != nil {
				if e != nil {
					e.destroy()
				}
				errs[i] = err
				return
			}
			s.mu.Lock()
			ok := !s.closed && f.pools[fn.Version] == p
			if ok {
				p.envs = append(p.envs, e)
			}
			s.mu.Unlock()
			if !ok {
				e.destroy()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("provision %q: %w", fn.Name, err)
	}
	return nil
}

// Drain takes every environment of the function name out of service (for
// a deletion or an update of all its versions): idle ones are destroyed
// now, busy ones when their invocation ends. Provisioned concurrency is
// forgotten.
func (s *Scheduler) Drain(name string) {
	var dead []*env
	s.mu.Lock()
	if f := s.funcs[name]; f != nil {
		for v, p := range f.pools {
			dead = append(dead, s.drainPoolLocked(p)...)
			delete(f.pools, v)
		}
	}
	s.mu.Unlock()
	s.destroyAll(dead)
}

// Stats returns the number of environments of the function name (idle and
// busy, all versions) and of invocations in flight.
func (s *Scheduler) Stats(name string) (envs, busy int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.funcs[name]
	if f == nil {
		return 0, 0
	}
	for _, p := range f.pools {
		envs += len(p.envs)
	}
	return envs, f.busy
}

// reclaimLoop destroys on-demand environments idle for IdleTimeout.
func (s *Scheduler) reclaimLoop() {
	defer close(s.stopped)
	tick := time.NewTicker(min(max(s.cfg.IdleTimeout/4, 10*time.Millisecond), 30*time.Second))
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-tick.C:
			s.destroyAll(s.reclaim(now))
		}
	}
}

func (s *Scheduler) reclaim(now time.Time) []*env {
	s.mu.Lock()
	defer s.mu.Unlock()
	var dead []*env
	for _, f := range s.funcs {
		for _, p := range f.pools {
			p.envs = slices.DeleteFunc(p.envs, func(e *env) bool {
				if e.busy || (e.provisioned && e.alive()) {
					return false
				}
				if e.alive() && now.Sub(e.lastUsed) < s.cfg.IdleTimeout {
					return false
				}
				e.dead = true
				dead = append(dead, e)
				return true
			})
		}
	}
	return dead
}

// Close destroys every environment (invocations in flight fail) and waits
// until they are gone.
func (s *Scheduler) Close() error {
	var all []*env
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, f := range s.funcs {
		for _, p := range f.pools {
			for _, e := range p.envs {
				e.dead = true
				all = append(all, e)
			}
			p.envs = nil
		}
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.stopped
	s.destroyAll(all)
	s.wg.Wait()
	if s.owned != nil {
		return s.owned.Close()
	}
	return nil
}
