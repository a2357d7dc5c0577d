package fuse

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofuse "github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"tarn.dev/tarn/internal/lock"
	"tarn.dev/tarn/internal/vfs"
)

// DefaultTimeout is the entry and attribute cache lifetime used when
// Options leaves them nil. It is long because changes are pushed to the
// kernel as invalidations.
const DefaultTimeout = time.Hour

// Options configures a mount. Locks is required; the zero value of the rest
// means the defaults.
type Options struct {
	// Locks is the server's one lock table, shared by all mounts.
	Locks *lock.Table
	// ReadOnly fails every modifying operation with EROFS and mounts the
	// file system read-only.
	ReadOnly bool
	// FSName is shown as the source in /proc/mounts, e.g. "tarn:fs-123".
	// Default "tarn".
	FSName string
	// EntryTimeout and AttrTimeout are how long the kernel caches names and
	// attributes; nil means DefaultTimeout.
	EntryTimeout, AttrTimeout *time.Duration
	// MaxBackground is the number of asynchronous requests (readahead,
	// writeback) the kernel keeps in flight. Default 64.
	MaxBackground int
	// ReadAheadKB sets the kernel readahead of the mount. Default 4096
	// (4 MiB); negative leaves the kernel's default.
	ReadAheadKB int
	// ServerPermissions leaves every permission check to the file system
	// instead of letting the kernel check cached attributes first
	// (default_permissions). Use it for file systems that change the
	// caller's identity, such as access points. The kernel then revalidates
	// every cached name with a LOOKUP (EntryTimeout defaults to 0), because
	// it would otherwise let one user walk a path that another user's
	// lookup put in its cache, without search permission.
	ServerPermissions bool
	// Log receives errors that cannot be returned (unknown errors, failed
	// notifications). Default discards.
	Log *slog.Logger
}

// sessions numbers lock sessions process-wide, so that mounts sharing a
// lock table never share a session.
var sessions atomic.Uint64

// Server serves one mounted file system.
type Server struct {
	fsys     vfs.FileSystem
	opts     Options
	srv      *gofuse.Server
	session  lock.Session
	groups   *groupCache
	errs     errorLog
	notes    *notifier
	cancel   func()
	entryTTL time.Duration
	attrTTL  time.Duration
	dir      string

	// ctx is the context of this mount's calls into the core: it carries
	// the mount's origin id, so that the mount skips invalidating its own
	// kernel caches for changes it made itself (the kernel has already
	// updated them from the replies).
	ctx    context.Context
	origin uint64

	mu        sync.Mutex // serialises Unmount
	unmounted bool
}

// Mount mounts fsys at mountpoint and serves it until Unmount. watch
// subscribes to the file system's change feed (vfs.FS.Watch); every change
// is turned into kernel cache invalidations for this mount. It must run as
// root: the mount is made with mount(2) directly, with allow_other.
func Mount(fsys vfs.FileSystem, watch func(func(vfs.Change)) (cancel func()), mountpoint string, opts Options) (*Server, error) {
	if opts.Locks == nil {
		return nil, fmt.Errorf("mount %s: no lock table", mountpoint)
	}
	if opts.FSName == "" {
		opts.FSName = "tarn"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBackground <= 0 {
		opts.MaxBackground = 64
	}
	if opts.ReadAheadKB == 0 {
		opts.ReadAheadKB = 4096
	}
	m := &Server{fsys: fsys, opts: opts, session: lock.Session(sessions.Add(1)), groups: newGroupCache(),
		errs: errorLog{log: opts.Log}, entryTTL: DefaultTimeout, attrTTL: DefaultTimeout, dir: mountpoint}
	m.origin = uint64(m.session)
	m.ctx = vfs.WithOrigin(background, m.origin)
	if opts.ServerPermissions {
		m.entryTTL = 0
	}
	if opts.EntryTimeout != nil {
		m.entryTTL = *opts.EntryTimeout
	}
	if opts.AttrTimeout != nil {
		m.attrTTL = *opts.AttrTimeout
	}
	flags := uintptr(syscall.MS_NOSUID | syscall.MS_NODEV)
	if opts.ReadOnly {
		flags |= syscall.MS_RDONLY
	}
	mo := &gofuse.MountOptions{
		AllowOther:           true,
		FsName:               opts.FSName,
		Name:                 "tarn",
		EnableLocks:          true,
		EnableSymlinkCaching: true,
		DirectMountStrict:    true,
		DirectMountFlags:     flags,
		DisabledCapabilities: gofuse.CAP_PASSTHROUGH,
		// Read replies come from memory, not file descriptors: splicing them
		// through a pipe only adds a copy (and a 1 MiB reply plus its header
		// does not fit the default pipe).
		DisableSplice: true,
		MaxWrite:      1 << 20,
		MaxReadAhead:  1 << 20,
		MaxBackground: opts.MaxBackground,
		Logger:        log.New(slogWriter{opts.Log}, "", 0),
	}
	if !opts.ServerPermissions {
		mo.Options = append(mo.Options, "default_permissions")
	}
	srv, err := gofuse.NewServer(&raw{RawFileSystem: gofuse.NewDefaultRawFileSystem(), m: m}, mountpoint, mo)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", mountpoint, err)
	}
	m.srv = srv
	m.notes = newNotifier(srv, m.origin, opts.Log)
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		m.notes.close()
		srv.Unmount()
		return nil, fmt.Errorf("mount %s: %w", mountpoint, err)
	}
	m.cancel = watch(m.notes.change)
	if opts.ReadAheadKB > 0 {
		m.setReadAhead(opts.ReadAheadKB)
	}
	return m, nil
}

// setReadAhead raises the kernel readahead of the mount's backing device
// info, which FUSE otherwise caps at 128 KiB. Failure only costs speed.
func (m *Server) setReadAhead(kb int) {
	var st syscall.Stat_t
	if err := syscall.Stat(m.dir, &st); err != nil {
		return
	}
	path := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", major(st.Dev), minor(st.Dev))
	if err := os.WriteFile(path, []byte(fmt.Sprint(kb)), 0); err != nil {
		m.opts.Log.Debug("cannot set readahead", "path", path, "err", err)
	}
}

func major(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func minor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }

// Unmount detaches the file system, stops serving it and releases every
// lock held through this mount. It fails with EBUSY while files are open on
// the mount.
func (m *Server) Unmount() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unmounted {
		return nil
	}
	// go-fuse's Unmount returns once the kernel ends the connection. A
	// mount namespace that still holds a copy of the mount (a sandbox
	// whose processes have not all died yet) keeps it alive; after a grace
	// period the connection is aborted through the fusectl file system, so
	// that shutdown never hangs.
	var st syscall.Stat_t
	statErr := syscall.Stat(m.dir, &st)
	done := make(chan error, 1)
	go func() { done <- m.srv.Unmount() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(unmountGrace):
		if statErr == nil {
			abortConnection(st.Dev, m.opts.Log)
		}
		err = <-done
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", m.dir, err)
	}
	m.unmounted = true
	m.stop()
	return nil
}

// unmountGrace is how long Unmount waits for the kernel to end a
// connection before aborting it.
const unmountGrace = 5 * time.Second

// abortConnection aborts the FUSE connection of the file system on device
// dev (/sys/fs/fuse/connections/<minor>/abort), mounting fusectl if needed.
func abortConnection(dev uint64, log *slog.Logger) {
	const ctl = "/sys/fs/fuse/connections"
	path := fmt.Sprintf("%s/%d/abort", ctl, unix.Minor(dev))
	if _, err := os.Stat(path); err != nil {
		syscall.Mount("fusectl", ctl, "fusectl", 0, "")
	}
	if err := os.WriteFile(path, []byte("1"), 0); err != nil {
		log.Warn("abort FUSE connection", "path", path, "err", err)
	}
}

// stop ends the change subscription and the lock session.
func (m *Server) stop() {
	if m.cancel != nil {
		m.cancel()
	}
	m.notes.close()
	m.opts.Locks.ReleaseSession(m.session)
}

// Wait blocks until the file system is unmounted, by Unmount or by
// umount(8).
func (m *Server) Wait() {
	m.srv.Wait()
}

// Dir returns the mount point.
func (m *Server) Dir() string { return m.dir }

// Session returns the lock session of this mount.
func (m *Server) Session() lock.Session { return m.session }

// slogWriter adapts go-fuse's *log.Logger output to slog.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn("go-fuse: " + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// background is the context of requests that must not be cut short by the
// signals a process receives while it waits (the kernel turns every signal
// into an INTERRUPT): only lock waits are interruptible.
var background = context.Background()

// reqCtx is a context cancelled by a FUSE interrupt, without a goroutine
// per request.
type reqCtx struct{ cancel <-chan struct{} }

func (c reqCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c reqCtx) Done() <-chan struct{}       { return c.cancel }
func (c reqCtx) Value(any) any               { return nil }
func (c reqCtx) Err() error {
	select {
	case <-c.cancel:
		return context.Canceled
	default:
		return nil
	}
}
