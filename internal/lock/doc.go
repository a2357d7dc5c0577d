// Package lock is the file server's own table of advisory file locks: flock(2)
// whole-file locks and fcntl(2) POSIX byte-range ("record") locks, served to
// every FUSE mount and remote client of one server process. It never
// delegates to the kernel or to backing files: a lock taken through one mount
// is seen by all of them, and a waiter is woken by the server, not by a
// kernel that may not know the holder has gone.
//
// # Model
//
// A lock is held by an owner within a session. A session is one mount or
// client connection; owner numbers come from the kernel of that mount and are
// only unique within it, so the table keys every lock by (inode, session,
// owner, kind). For flock the owner is the open file description; for POSIX
// locks it is the process's file table (all threads of a process share it).
// Owners never conflict with themselves.
//
// flock and POSIX locks are independent, as on a local Linux file system:
// they never conflict with each other. (EFS over NFS differs: Linux NFS
// clients emulate flock as a whole-file byte-range lock, so there flock and
// fcntl locks do conflict.)
//
// flock: one lock per owner per file, shared (Read) or exclusive (Write).
// Converting an owner's lock between shared and exclusive is not atomic, as
// on Linux: if the new type can be granted at once it replaces the old lock
// in place; otherwise the old lock is released first (waking whoever it
// blocked, who may then take the file), and the request then waits or, when
// non-blocking, fails with ErrWouldBlock having lost the old lock.
//
// POSIX: each owner holds a set of non-overlapping ranges [Start, End], both
// inclusive, End == ToEOF meaning to the end of the file. A request replaces
// the owner's locks on its range exactly as fcntl(2) does: ranges of the same
// type that overlap or touch merge into one, parts of ranges of the other
// type are converted (upgrade, downgrade), and an unlock in the middle of a
// range splits it in two. A request that conflicts changes nothing.
//
// A request conflicts with a lock of the same kind held by another owner
// when their ranges overlap and either is exclusive.
//
// # Waiting
//
// SetLkw queues a request that cannot be granted. Waiters of a file are
// served in FIFO order: whenever locks change, the queue is scanned from the
// front and every waiter that conflicts with nothing held and with no earlier
// waiter is granted. A new blocking request also queues behind an earlier
// conflicting waiter rather than overtaking it, so a stream of readers cannot
// starve a writer — unless that earlier waiter itself waits, directly or
// through others, for the new request's owner (a reader upgrading while a
// writer waits for it); then the request goes ahead instead of deadlocking.
// Waiters are woken by the releasing call, never by polling. Cancelling the
// context (a FUSE interrupt) removes the waiter and lets those queued behind
// it move up.
//
// A blocking POSIX request that would wait for a lock whose owner waits,
// transitively, for the requester fails with ErrDeadlock (EDEADLK), as on
// Linux. Cycles that run through a FIFO queue edge are not deadlocks: the
// waiter behind the edge is allowed to go first. Blocking flock requests are
// not checked, as on Linux.
//
// # FUSE mapping
//
//	GETLK                              GetLk
//	SETLK, SETLKW                      SetLk, SetLkw (Flock from FUSE_LK_FLOCK)
//	FLUSH (FlushIn.LockOwner)          ReleasePOSIX
//	RELEASE with FUSE_RELEASE_FLOCK_UNLOCK (ReleaseIn.LockOwner)
//	                                   ReleaseFlock
//	unmount, lost client connection    ReleaseSession
//	interrupt of a SETLKW              cancel the ctx given to SetLkw
//
// The kernel marks a range that runs to the end of the file with End =
// OFFSET_MAX (math.MaxInt64), not ToEOF, and answers EIO to a GETLK reply
// whose End is above OFFSET_MAX: the adapter converts ends with
// EndFromKernel on the way in and EndToKernel on the way out. flock requests
// arrive with the range [0, OFFSET_MAX], which the table ignores.
//
// The kernel sends no unlock when a process closes a file or dies: POSIX
// locks must be dropped on FLUSH and flocks on RELEASE. POSIX owner numbers
// are pointer hashes that later processes reuse, so stale entries must not
// survive. Errors map to errnos at the adapter: ErrWouldBlock → EAGAIN,
// ErrDeadlock → EDEADLK, ErrNoLocks → ENOLCK, context errors → EINTR,
// fs.ErrInvalid → EINVAL.
//
// # Limits
//
// A file holds at most Config.MaxPerFile lock records (512 by default, as on
// EFS), counting every owner's POSIX ranges and flocks. A request whose result
// would exceed it fails with ErrNoLocks; so does a queued request that finds,
// when its turn comes, that granting it would.
//
// # Deviations
//
//   - Non-blocking requests (SetLk) ignore the wait queue: they succeed when
//     nothing held conflicts, as F_GETLK would predict. Only blocking
//     requests are kept in FIFO order.
//   - Deadlocks are detected when a request is about to wait. A cycle formed
//     later, for example by a non-blocking grant to an owner that has another
//     thread waiting elsewhere, is not broken.
//   - GetLk reports the conflicting lock with the lowest start, where Linux
//     reports the first in its list.
//   - Locks are in memory: they do not survive a server restart, and
//     multi-node lock state is a separate layer.
package lock
