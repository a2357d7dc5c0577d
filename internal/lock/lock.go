package lock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sync"
)

// ToEOF is the End of a range that extends to the end of the file, whatever
// its size (l_len == 0 in fcntl(2), OFFSET_MAX in the kernel).
const ToEOF = math.MaxUint64

// KernelEOF is the kernel's OFFSET_MAX (math.MaxInt64). Linux sends it as the
// End of a range that runs to the end of the file, and fails F_GETLK with EIO
// if a FUSE server replies with a Start or End above it. See EndFromKernel and
// EndToKernel.
const KernelEOF = math.MaxInt64

// EndFromKernel converts a range end received from the kernel to the
// table's convention: OFFSET_MAX (or above) becomes ToEOF.
func EndFromKernel(end uint64) uint64 {
	if end >= KernelEOF {
		return ToEOF
	}
	return end
}

// EndToKernel converts a range end from the table for a reply to the kernel:
// ToEOF (or anything above OFFSET_MAX) becomes OFFSET_MAX.
func EndToKernel(end uint64) uint64 {
	return min(end, KernelEOF)
}

// DefaultMaxPerFile is the number of lock records one file may hold, counting
// POSIX ranges and flocks of all owners and sessions, as on EFS.
const DefaultMaxPerFile = 512

// Errors returned (wrapped) by the table. The FUSE adapter maps them to
// EAGAIN, EDEADLK, ENOLCK and EINTR; context errors from SetLkw map to EINTR
// and fs.ErrInvalid to EINVAL.
var (
	// ErrWouldBlock means a non-blocking request conflicts with a lock held
	// by another owner (EAGAIN).
	ErrWouldBlock = errors.New("lock held by another owner")
	// ErrDeadlock means a blocking POSIX request would wait, directly or
	// through other waiters, for a lock its own owner holds (EDEADLK).
	ErrDeadlock = errors.New("lock wait would deadlock")
	// ErrNoLocks means granting the request would leave the file with more
	// lock records than the per-file limit (ENOLCK).
	ErrNoLocks = errors.New("too many locks on file")
	// ErrSessionReleased is returned to a waiter whose session was released
	// while it waited.
	ErrSessionReleased = errors.New("lock session released")
)

// Type is the kind of lock requested or held.
type Type uint8

// Lock types. For flock, Read is LOCK_SH and Write is LOCK_EX.
const (
	Read   Type = iota + 1 // F_RDLCK, LOCK_SH
	Write                  // F_WRLCK, LOCK_EX
	Unlock                 // F_UNLCK, LOCK_UN
)

func (t Type) String() string {
	switch t {
	case Read:
		return "read"
	case Write:
		return "write"
	case Unlock:
		return "unlock"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Session identifies one mount or client connection. Owner numbers are only
// meaningful within a session: two mounts may use the same owner number for
// different processes. The caller chooses session numbers; they must be
// unique among live sessions.
type Session uint64

// Request is one lock operation as FUSE delivers it.
type Request struct {
	Session Session
	Ino     uint64
	// Owner is the kernel's lock owner: the open file description for
	// flock, the process's file table for POSIX locks.
	Owner uint64
	// PID is reported to F_GETLK callers as the holder's pid.
	PID uint32
	// Start and End delimit the byte range, both inclusive; End == ToEOF
	// means to the end of the file. Ignored for flock, which is always
	// whole-file.
	Start, End uint64
	Type       Type
	// Flock is set for flock(2) requests (FUSE_LK_FLOCK); otherwise the
	// request is a POSIX record lock (fcntl(2) F_SETLK and friends).
	Flock bool
}

// Lock describes a held lock.
type Lock struct {
	Session    Session
	Owner      uint64
	PID        uint32
	Start, End uint64
	Type       Type
	Flock      bool
}

// Config configures a Table. The zero value means the defaults.
type Config struct {
	// MaxPerFile bounds the lock records on one file; 0 means
	// DefaultMaxPerFile.
	MaxPerFile int
}

const shardBits = 6

// Table is the lock table of one file server. It is safe for concurrent use.
type Table struct {
	max    int
	shards [1 << shardBits]shard

	// graphMu guards the wait-for graph: waiting and every waiter's
	// blockers. It is only taken when waiters exist, always after a shard
	// lock and never before one.
	graphMu sync.Mutex
	waiting map[owner][]*waiter
	seen    []owner // scratch for reachesLocked
	stack   []owner // scratch for reachesLocked
}

// shard holds the files whose inode numbers hash to it. Unrelated files in
// different shards never contend.
type shard struct {
	mu    sync.Mutex
	files map[uint64]*file
	free  []*file // recycled files, to keep the hot path allocation-free
	_     [64]byte
}

// file is the lock state of one inode.
type file struct {
	ino     uint64
	locks   []record
	waiters []*waiter // FIFO
}

// New returns an empty lock table.
func New(cfg Config) *Table {
	t := &Table{max: cfg.MaxPerFile, waiting: make(map[owner][]*waiter)}
	if t.max <= 0 {
		t.max = DefaultMaxPerFile
	}
	for i := range t.shards {
		t.shards[i].files = make(map[uint64]*file)
	}
	return t
}

func (t *Table) shard(ino uint64) *shard {
	return &t.shards[(ino*0x9E3779B97F4A7C15)>>(64-shardBits)]
}

// get returns the state of ino, creating it if needed. Called with sh.mu held.
func (sh *shard) get(ino uint64) *file {
	if f := sh.files[ino]; f != nil {
		return f
	}
	var f *file
	if n := len(sh.free); n > 0 {
		f = sh.free[n-1]
		sh.free[n-1] = nil
		sh.free = sh.free[:n-1]
	} else {
		f = &file{}
	}
	f.ino = ino
	sh.files[ino] = f
	return f
}

// tidy forgets f if it holds no locks and has no waiters. Called with sh.mu
// held.
func (sh *shard) tidy(f *file) {
	if f == nil || len(f.locks) > 0 || len(f.waiters) > 0 {
		return
	}
	delete(sh.files, f.ino)
	if len(sh.free) >= 32 {
		return
	}
	if cap(f.locks) > 64 {
		f.locks = nil
	}
	if cap(f.waiters) > 64 {
		f.waiters = nil
	}
	f.locks, f.waiters = f.locks[:0], f.waiters[:0]
	sh.free = append(sh.free, f)
}

func (r *Request) record(op string) (record, error) {
	rec := record{
		o:     owner{s: r.Session, id: r.Owner, flock: r.Flock},
		pid:   r.PID,
		start: r.Start,
		end:   r.End,
		typ:   r.Type,
	}
	if r.Flock {
		rec.start, rec.end = 0, ToEOF
	}
	if rec.typ < Read || rec.typ > Unlock {
		return rec, fmt.Errorf("%s ino %d: lock type %v: %w", op, r.Ino, r.Type, fs.ErrInvalid)
	}
	if rec.start > rec.end {
		return rec, fmt.Errorf("%s ino %d: range [%d,%d]: %w", op, r.Ino, r.Start, r.End, fs.ErrInvalid)
	}
	return rec, nil
}

func (r *Request) err(op string, err error) error {
	if r.Flock {
		return fmt.Errorf("%s flock ino %d owner %#x: %w", op, r.Ino, r.Owner, err)
	}
	return fmt.Errorf("%s ino %d owner %#x range [%d,%d]: %w", op, r.Ino, r.Owner, r.Start, r.End, err)
}

// GetLk reports the first lock (lowest start) held by another owner of the
// same kind that conflicts with r, as F_GETLK does. If there is none it
// returns a Lock with Type Unlock. r.Type must be Read or Write.
func (t *Table) GetLk(r Request) (Lock, error) {
	rec, err := r.record("getlk")
	if err != nil {
		return Lock{}, err
	}
	if rec.typ == Unlock {
		return Lock{}, r.err("getlk", fmt.Errorf("lock type unlock: %w", fs.ErrInvalid))
	}
	sh := t.shard(r.Ino)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f := sh.files[r.Ino]
	if f == nil {
		return Lock{Type: Unlock}, nil
	}
	var first *record
	for i := range f.locks {
		h := &f.locks[i]
		if conflicts(&rec, h) && (first == nil || h.start < first.start) {
			first = h
		}
	}
	if first == nil {
		return Lock{Type: Unlock}, nil
	}
	return first.lock(), nil
}

// SetLk acquires, changes or releases a lock without waiting (F_SETLK,
// flock with LOCK_NB). A conflicting lock held by another owner makes it
// fail with ErrWouldBlock and leaves the table unchanged, except that a
// flock conversion has already dropped the old lock (see the package
// documentation). Queued waiters do not block it.
func (t *Table) SetLk(r Request) error {
	return t.set(nil, r, false)
}

// SetLkw is SetLk that waits for conflicting locks to go away (F_SETLKW,
// flock without LOCK_NB). Waiters are served in FIFO order per file. It
// returns ErrDeadlock instead of waiting when a POSIX request would close a
// cycle of waiters, and ctx's error, with nothing acquired, when ctx ends
// first.
func (t *Table) SetLkw(ctx context.Context, r Request) error {
	return t.set(ctx, r, true)
}

func (t *Table) set(ctx context.Context, r Request, wait bool) error {
	op := "setlk"
	if wait {
		op = "setlkw"
	}
	rec, err := r.record(op)
	if err != nil {
		return err
	}
	sh := t.shard(r.Ino)
	sh.mu.Lock()
	if rec.typ == Unlock {
		f := sh.files[r.Ino]
		if f != nil {
			err = t.apply(f, &rec)
			sh.tidy(f)
		}
		sh.mu.Unlock()
		if err != nil {
			return r.err(op, err)
		}
		return nil
	}
	f := sh.get(r.Ino)

	// Fast path: nothing held conflicts and, for a blocking request, nobody
	// is queued ahead.
	if !heldConflict(f, &rec) && (!wait || len(f.waiters) == 0) {
		err = t.apply(f, &rec)
		sh.tidy(f)
		sh.mu.Unlock()
		if err != nil {
			return r.err(op, err)
		}
		return nil
	}
	w, err := t.slow(sh, f, &rec, wait)
	if w == nil {
		sh.mu.Unlock()
		if err != nil {
			return r.err(op, err)
		}
		return nil
	}
	// Queued. Give cycles that run through queue edges a chance to break
	// before sleeping; see cycleInodes.
	retry := t.cycleInodes(w)
	sh.mu.Unlock()
	for _, ino := range retry {
		t.reprocess(ino)
	}

	select {
	case err := <-w.done:
		if err != nil {
			return r.err(op, err)
		}
		return nil
	case <-ctx.Done():
	}
	sh.mu.Lock()
	if w.queued {
		f := w.f
		t.dequeue(f, w)
		t.process(f)
		sh.tidy(f)
		sh.mu.Unlock()
		return r.err(op, ctx.Err())
	}
	sh.mu.Unlock()
	// Granted (or failed) before the cancellation was seen: report that, so
	// a granted lock is never leaked.
	if err := <-w.done; err != nil {
		return r.err(op, err)
	}
	return nil
}

// slow handles a lock request that conflicts with something. It returns a
// queued waiter, or nil and the request's result. Called with the shard lock
// held; returns with it held.
func (t *Table) slow(sh *shard, f *file, rec *record, wait bool) (*waiter, error) {
	if wait && !heldConflict(f, rec) && !t.queueBlocked(f, rec) {
		err := t.apply(f, rec)
		sh.tidy(f)
		return nil, err
	}
	if rec.o.flock {
		// Conversion: like Linux, drop the old lock first, let waiters it
		// blocked in, then try the new type.
		if i := f.ownFlock(rec.o); i >= 0 && f.locks[i].typ != rec.typ {
			// Dropping its own lock cannot remove what blocks the request
			// (an owner never blocks itself), so it still cannot be granted.
			f.remove(i)
			t.process(f)
		}
	}
	if !wait {
		sh.tidy(f)
		return nil, ErrWouldBlock
	}
	w := &waiter{rec: *rec, f: f, done: make(chan error, 1)}
	t.graphMu.Lock()
	w.blockers = t.blockersLocked(f, rec, f.waiters, w.blockers)
	if len(w.blockers) == 0 {
		// Not expected (the request was blocked above and nothing since
		// removed a blocker), but granting is the right answer.
		t.graphMu.Unlock()
		err := t.apply(f, rec)
		sh.tidy(f)
		return nil, err
	}
	if !rec.o.flock && t.deadlockLocked(w) {
		t.graphMu.Unlock()
		sh.tidy(f)
		return nil, ErrDeadlock
	}
	w.queued = true
	f.waiters = append(f.waiters, w)
	t.waiting[rec.o] = append(t.waiting[rec.o], w)
	t.graphMu.Unlock()
	return w, nil
}

// apply performs a grantable change and wakes the waiters it unblocks.
// Called with the shard lock held.
func (t *Table) apply(f *file, rec *record) error {
	if err := t.change(f, rec); err != nil {
		return err
	}
	t.process(f)
	return nil
}

// change applies a request that conflicts with nothing held, or an unlock.
func (t *Table) change(f *file, r *record) error {
	if r.o.flock {
		i := f.ownFlock(r.o)
		switch {
		case r.typ == Unlock:
			if i >= 0 {
				f.remove(i)
			}
		case i >= 0:
			f.locks[i].typ, f.locks[i].pid = r.typ, r.pid
		case len(f.locks) >= t.max:
			return ErrNoLocks
		default:
			f.locks = append(f.locks, *r)
		}
		return nil
	}
	if d := posixDelta(f.locks, r); d > 0 && len(f.locks)+d > t.max {
		return ErrNoLocks
	}
	f.locks = applyPOSIX(f.locks, r)
	return nil
}

// ReleasePOSIX drops every POSIX lock owner holds on ino in session s. The
// FUSE adapter calls it on FLUSH with FlushIn.LockOwner: the kernel sends no
// unlock when a process closes the file or dies.
func (t *Table) ReleasePOSIX(s Session, ino, owner uint64) {
	t.release(ino, &record{o: ownerOf(s, owner, false), start: 0, end: ToEOF, typ: Unlock})
}

// ReleaseFlock drops the flock owner holds on ino in session s. The FUSE
// adapter calls it on RELEASE when ReleaseFlags has
// FUSE_RELEASE_FLOCK_UNLOCK, with ReleaseIn.LockOwner.
func (t *Table) ReleaseFlock(s Session, ino, owner uint64) {
	t.release(ino, &record{o: ownerOf(s, owner, true), start: 0, end: ToEOF, typ: Unlock})
}

func (t *Table) release(ino uint64, rec *record) {
	sh := t.shard(ino)
	sh.mu.Lock()
	if f := sh.files[ino]; f != nil {
		_ = t.apply(f, rec) // removing whole ranges never splits, so never fails
		sh.tidy(f)
	}
	sh.mu.Unlock()
}

// ReleaseSession drops every lock held in session s and fails its waiters
// with ErrSessionReleased. Call it when a mount or client connection ends,
// after its in-flight requests have returned; a request of s that arrives
// afterwards starts afresh.
func (t *Table) ReleaseSession(s Session) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, f := range sh.files {
			n := 0
			for _, h := range f.locks {
				if h.o.s != s {
					f.locks[n] = h
					n++
				}
			}
			clear(f.locks[n:])
			f.locks = f.locks[:n]
			var gone []*waiter
			for _, w := range f.waiters {
				if w.rec.o.s == s {
					gone = append(gone, w)
				}
			}
			for _, w := range gone {
				t.dequeue(f, w)
				w.done <- ErrSessionReleased
			}
			t.process(f)
			sh.tidy(f)
		}
		sh.mu.Unlock()
	}
}

// reprocess re-evaluates the waiters of ino.
func (t *Table) reprocess(ino uint64) {
	sh := t.shard(ino)
	sh.mu.Lock()
	if f := sh.files[ino]; f != nil {
		t.process(f)
		sh.tidy(f)
	}
	sh.mu.Unlock()
}
