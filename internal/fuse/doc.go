// Package fuse serves a vfs.FileSystem to the Linux kernel through FUSE
// (go-fuse's raw protocol API). It is a translator only: every permission,
// POSIX rule and limit lives in vfs, and every lock decision in the lock
// table. Requests become vfs calls with the caller's identity, and errors
// become errnos through one errors.Is table (Errno).
//
// # Inodes
//
// FUSE node ids are vfs inode numbers, root 1 in both. vfs inodes are
// persistent, so the adapter keeps no inode table and FORGET is a no-op;
// invalidations name inodes directly.
//
// # Identity
//
// The request header carries uid, gid and pid. Supplementary groups are read
// from /proc/PID/status and cached per pid for two seconds; a process that
// has exited meanwhile is served with its primary group only.
//
// By default the kernel checks permissions on its cached attributes first
// (default_permissions) and vfs checks them again on every request that
// reaches it. This is needed because the kernel walks cached names without
// asking the server: one user's lookup would otherwise let another user
// through a directory it may not search. Options.ServerPermissions turns
// the kernel's checks off for file systems that change the caller's
// identity (access points) and then revalidates every name with a LOOKUP.
//
// The kernel clears setuid and setgid bits when a non-owner writes a file
// by sending a SETATTR of the mode as that user, which vfs refuses to a
// non-owner; the adapter recognises a mode change that only clears those
// bits, from a caller with write permission, and applies it as root, as
// Linux does.
//
// # Caching and consistency
//
// Entries and attributes are cached by the kernel for a long time (an hour
// by default), names that do not exist too (negative entries), and file
// pages are kept across opens (FOPEN_KEEP_CACHE),
// because every change is pushed: each mount subscribes to the file
// system's change feed and turns every vfs.Change into a kernel
// notification for its own mount (NOTIFY_INVAL_ENTRY for names,
// NOTIFY_INVAL_INODE for attributes and pages). Notifications are written
// by one goroutine per mount from a queue that merges duplicates, never from
// inside a request handler, where the kernel may hold the very locks the
// invalidation needs. A modifying request waits, before it replies, until
// every other mount has delivered the notifications its change caused, so
// that a write, rename or unlink through one mount is seen by the others as
// soon as the system call returns (read-after-write across local mounts).
// The wait is bounded (half a second): two mounts writing the same file at
// the same moment could otherwise each wait for page locks the other
// holds. The mount that made a change skips the notification: its kernel
// already updated its caches from the reply.
//
// # Locks
//
// Locks are forwarded (EnableLocks) and kept in the server's lock table,
// shared by every mount; each mount is its own lock session. flock requests
// carry FUSE_LK_FLOCK; the rest are POSIX record locks. The kernel never
// sends an unlock when a process closes a file or dies, so POSIX locks of
// the closing process are dropped on every FLUSH and flocks on the RELEASE
// that carries FUSE_RELEASE_FLOCK_UNLOCK. A blocked SETLKW is cancelled by
// the kernel's INTERRUPT (the waiter was signalled or killed) and answers
// EINTR. Unmount releases the session's locks. Other requests ignore
// interrupts: Go programs receive signals all the time, and failing their
// reads and writes with EINTR would surprise them.
//
// # Mounting and failure
//
// Mount uses mount(2) directly (no fusermount) and therefore needs root;
// the mount is allow_other so that sandboxed users reach it, nosuid and
// nodev, and read-only with Options.ReadOnly. Passthrough is disabled so
// that every read and write reaches the server, which meters and throttles
// data. Writes are up to 1 MiB, and readahead is raised to 4 MiB through
// the mount's bdi in sysfs.
//
// If the serving process dies, the kernel closes its /dev/fuse descriptor,
// which aborts the connection: pending and later requests on the mount fail
// with ENOTCONN (or EIO) rather than hang, until the dead mount is removed
// with umount -l.
//
// # Deviations
//
//   - Lseek with SEEK_DATA/SEEK_HOLE, copy_file_range and O_TMPFILE answer
//     ENOSYS or EOPNOTSUPP; the kernel falls back to its generic code where
//     it has one.
//   - Generation numbers are 0: vfs never reuses inode numbers.
package fuse
