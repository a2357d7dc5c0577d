package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/filesvc"
	"tarn.dev/tarn/internal/iam"
	"tarn.dev/tarn/internal/lambdaapi"
	"tarn.dev/tarn/internal/logs"
	"tarn.dev/tarn/internal/scheduler"
	"tarn.dev/tarn/internal/store"
)

// functions runs the Lambda API's invocations on the scheduler: it turns a
// resolved function version into what the scheduler runs, and mounts the
// function's file systems on this host, once per function and access point,
// with the permissions its execution role has (lambdaapi.Runner).
type functions struct {
	sched *scheduler.Scheduler
	srv   *Server
	root  string // where function mounts live: <data>/mounts/<function>/<access point>

	mu     sync.Mutex
	mounts map[string]string // "<function>/<access point id>" → host mount point
}

var _ lambdaapi.Runner = (*functions)(nil)

func (f *functions) Run(ctx context.Context, fv lambdaapi.FunctionVersion, req lambdaapi.InvokeRequest) (lambdaapi.InvokeResult, error) {
	fn, err := f.function(ctx, fv)
	if err != nil {
		return lambdaapi.InvokeResult{}, err
	}
	resp, err := f.sched.Invoke(ctx, fn, scheduler.Request{RequestID: req.RequestID, Payload: req.Payload,
		ClientContext: string(req.ClientContext)})
	var te *scheduler.ThrottleError
	if errors.As(err, &te) {
		return lambdaapi.InvokeResult{}, &lambdaapi.ThrottleError{Reason: te.Reason}
	}
	if err != nil {
		return lambdaapi.InvokeResult{}, err
	}
	return lambdaapi.InvokeResult{Payload: resp.Payload, FunctionError: resp.FunctionError, Log: resp.LogTail,
		ExecutedVersion: fv.Version}, nil
}

func (f *functions) Configure(ctx context.Context, fv lambdaapi.FunctionVersion) error {
	fn, err := f.function(ctx, fv)
	if err != nil {
		return err
	}
	if err := f.sched.SetReserved(ctx, fn); err != nil {
		return err
	}
	return f.sched.SetProvisioned(ctx, fn)
}

func (f *functions) Drain(ctx context.Context, name, version string) error {
	f.sched.Drain(name)
	return nil
}

// function converts a resolved version for the scheduler, mounting its file
// systems first.
func (f *functions) function(ctx context.Context, fv lambdaapi.FunctionVersion) (scheduler.Function, error) {
	fn := scheduler.Function{Name: fv.Name, Version: fv.Version, ARN: fv.ARN, Runtime: fv.Runtime, Handler: fv.Handler,
		CodeDir: fv.CodeDir, MemoryMB: fv.MemoryMB, EphemeralMB: fv.EphemeralMB, Timeout: fv.Timeout, Env: fv.Env,
		Revision: fv.RevisionID + "/" + fv.CodeSha256, Reserved: fv.Reserved, Provisioned: fv.Provisioned}
	for _, m := range fv.FileSystems {
		host, readOnly, err := f.mount(ctx, fv.Name, fv.Role, m.AccessPointARN)
		if err != nil {
			return fn, err
		}
		fn.Mounts = append(fn.Mounts, scheduler.Mount{HostPath: host, LocalMountPath: m.LocalMountPath, ReadOnly: readOnly})
	}
	return fn, nil
}

// mount returns the host mount point of an access point for a function,
// mounting it as the function's execution role on first use.
func (f *functions) mount(ctx context.Context, function, role, apArn string) (string, bool, error) {
	apID := apArn[strings.LastIndexByte(apArn, '/')+1:]
	key := function + "/" + apID
	f.mu.Lock()
	defer f.mu.Unlock()
	if mp, ok := f.mounts[key]; ok {
		for _, m := range f.srv.files.Mounts() {
			if m.MountPoint == mp {
				return mp, m.ReadOnly, nil
			}
		}
	}
	fail := func(format string, args ...any) (string, bool, error) {
		return "", false, awsapi.Errorf(http.StatusForbidden, "EFSMountFailureException", format, args...)
	}
	ap, err := f.srv.store.AccessPoint(ctx, apID)
	if err != nil {
		return fail("access point %s: %v", apArn, err)
	}
	mount, write, root, err := f.srv.roleClientAccess(ctx, role, ap.FileSystemID, apArn)
	if err != nil {
		return fail("EFS mount of %s as %s: %v", apArn, role, err)
	}
	if !mount {
		return fail("the execution role %s is not authorized to perform elasticfilesystem:ClientMount on %s", role, apArn)
	}
	mp := filepath.Join(f.root, function, apID)
	if err := os.MkdirAll(mp, 0o755); err != nil {
		return fail("mount point %s: %v", mp, err)
	}
	opts := filesvc.MountOptions{ReadOnly: !write, SquashRoot: !root, AccessPoint: filesvc.AccessPointOf(ap)}
	if _, err := f.srv.files.MountWith(ctx, ap.FileSystemID, mp, opts); err != nil {
		return fail("mount %s: %v", apArn, err)
	}
	f.mounts[key] = mp
	return mp, !write, nil
}

// roleClientAccess evaluates, as EFS does when Lambda mounts for a function,
// what an execution role may do with a file system through an access point.
// Lambda always mounts with TLS, so the transport counts as secure.
func (s *Server) roleClientAccess(ctx context.Context, role, fsID, apArn string) (mount, write, root bool, err error) {
	identity, err := s.auth.IdentityPolicies(ctx, role)
	if err != nil {
		return false, false, false, err
	}
	fsPolicy, err := s.fileSystemPolicy(ctx, fsID)
	if err != nil {
		return false, false, false, err
	}
	mount, write, root = iam.ClientAccess(identity, fsPolicy, role, s.efsARN("file-system", fsID), apArn, true)
	return mount, write, root, nil
}

// fileSystemPolicy returns the parsed policy of a file system, nil when
// none is set.
func (s *Server) fileSystemPolicy(ctx context.Context, fsID string) (*iam.Policy, error) {
	doc, set, err := s.store.FileSystemPolicy(ctx, fsID)
	if err != nil || !set {
		return nil, err
	}
	p, err := iam.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("policy of %s: %w", fsID, err)
	}
	return p, nil
}

func (s *Server) efsARN(kind, id string) string {
	return fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:%s/%s", s.cfg.Region, s.accountID, kind, id)
}

// checkRole is the Lambda API's check of an execution role: it exists,
// trusts lambda.amazonaws.com, and may mount each access point.
func (s *Server) checkRole(ctx context.Context, roleArn string, accessPoints []string) error {
	role, err := s.store.RoleByARN(ctx, roleArn)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: the role %s does not exist", lambdaapi.ErrRoleNotAssumable, roleArn)
		}
		return err
	}
	trust, err := iam.ParseAs(role.AssumeRolePolicy, iam.Trust)
	if err != nil {
		return fmt.Errorf("%w: the trust policy of %s does not parse: %v", lambdaapi.ErrRoleNotAssumable, roleArn, err)
	}
	if !trustsLambda(trust) {
		return fmt.Errorf("%w: the trust policy of %s does not allow lambda.amazonaws.com", lambdaapi.ErrRoleNotAssumable, roleArn)
	}
	for _, apArn := range accessPoints {
		ap, err := s.store.AccessPoint(ctx, apArn[strings.LastIndexByte(apArn, '/')+1:])
		if err != nil {
			return fmt.Errorf("access point %s does not exist", apArn)
		}
		mount, _, _, err := s.roleClientAccess(ctx, roleArn, ap.FileSystemID, apArn)
		if err != nil {
			return err
		}
		if !mount {
			return fmt.Errorf("the role %s is not authorized to perform elasticfilesystem:ClientMount on %s", roleArn, apArn)
		}
	}
	return nil
}

func trustsLambda(p *iam.Policy) bool {
	for _, st := range p.Statements {
		if st.Effect != iam.Allow || st.Principal == nil || st.NotPrincipal {
			continue
		}
		for _, svc := range st.Principal.Service {
			if svc == "lambda.amazonaws.com" {
				return true
			}
		}
	}
	return false
}

// functionLogs serves the Lambda API's log reads from the log store: every
// stream of a function merged in time order. A cursor is the time of the
// last event returned, in nanoseconds.
type functionLogs struct{ store *logs.Store }

var _ lambdaapi.Logs = functionLogs{}

// clockSlack covers the coarse clock behind file modification times: a
// stream's last event may be stamped up to a tick after its file's mtime.
const clockSlack = time.Second

// events returns the events of function after since (all if zero), in time
// order; with last > 0 only the last ones, at least last of them. Streams
// last written before since are not read, and for the last events streams
// are read newest first until the older ones cannot matter, so that a
// function with a long history costs what its recent streams hold.
func (l functionLogs) events(function string, since time.Time, last int) ([]lambdaapi.LogEvent, error) {
	streams, err := l.store.Streams(function)
	if err != nil {
		return nil, nil // no log yet
	}
	slices.SortFunc(streams, func(a, b logs.StreamInfo) int { return b.LastEvent.Compare(a.LastEvent) })
	var out []lambdaapi.LogEvent
	for i, st := range streams {
		if !since.IsZero() && st.LastEvent.Before(since.Add(-clockSlack)) {
			break // this stream and the older ones hold nothing newer
		}
		if last > 0 && len(out) >= last {
			sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
			if st.LastEvent.Before(out[len(out)-last].Time.Add(-clockSlack)) {
				break // nothing here is among the last events
			}
		}
		evs, err := l.store.Read(function, streams[i].Name, logs.Query{Start: since, Limit: last})
		if err != nil {
			continue
		}
		for _, e := range evs {
			if e.Time.After(since) || since.IsZero() {
				out = append(out, lambdaapi.LogEvent{Time: e.Time, Stream: st.Name, Message: e.Message})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

func cursorOf(evs []lambdaapi.LogEvent, old string) string {
	if len(evs) == 0 {
		return old
	}
	return fmt.Sprint(evs[len(evs)-1].Time.UnixNano())
}

func cursorTime(c string) time.Time {
	var ns int64
	if _, err := fmt.Sscan(c, &ns); err != nil || c == "" {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func (l functionLogs) Tail(ctx context.Context, function string, n int) ([]lambdaapi.LogEvent, string, error) {
	evs, err := l.events(function, time.Time{}, n)
	if err != nil {
		return nil, "", err
	}
	if n > 0 && len(evs) > n {
		evs = evs[len(evs)-n:]
	}
	return evs, cursorOf(evs, ""), nil
}

func (l functionLogs) Read(ctx context.Context, function, cursor string, limit int) ([]lambdaapi.LogEvent, string, error) {
	evs, err := l.events(function, cursorTime(cursor), 0)
	if err != nil {
		return nil, cursor, err
	}
	if limit > 0 && len(evs) > limit {
		evs = evs[:limit]
	}
	return evs, cursorOf(evs, cursor), nil
}

func (l functionLogs) Wait(ctx context.Context, function, cursor string) error {
	since := cursorTime(cursor)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan struct{}, 1)
	err := l.store.Follow(ctx, function, since, func(e logs.StreamEvent) {
		if e.Time.After(since) {
			select {
			case got <- struct{}{}:
			default:
			}
			cancel()
		}
	})
	select {
	case <-got:
		return nil
	default:
	}
	return err
}
