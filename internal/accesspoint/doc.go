// Package accesspoint restricts a vfs.FileSystem the way an Amazon EFS
// access point and the EFS IAM client actions do: FS is a decorator of the
// core interface (like upspin's perm.WrapStore), so the core knows nothing of
// access points and one FUSE mount serves one view.
//
// # Identity
//
// With Config.PosixUser set, every request runs as that user (uid, gid and
// secondary groups) whatever the caller's identity; only the PID is kept.
// Permission checks use that identity alone and new files, directories,
// nodes and symlinks are owned by it. With SquashRoot, the superuser (the
// caller's uid 0, or a PosixUser of uid 0) acts as NobodyID:NobodyID with no
// secondary groups, and a non-root caller's gid 0 becomes NobodyID too, as
// NFS root_squash does; EFS leaves the squashed id unconfirmed.
//
// # Re-rooting and confinement
//
// Config.Root is presented as vfs.RootIno and translated back in every
// argument and result (Attr.Ino, DirEntry.Ino, Change). ".." at the root,
// by Lookup or in ReadDir, is the root itself.
//
// The FUSE adapter maps node ids 1:1 to inode numbers, so a client could
// name any inode (open_by_handle_at, guessed node ids). A confined view
// therefore accepts only inode numbers it handed out itself, through
// Lookup, Create, Mkdir, Mknod, Symlink, Link and ReadDir of a directory in
// the tree; any other number fails with vfs.ErrStale (ESTALE), and so does
// the core number of the root (it is only ever 1). Handing out starts at
// the root and proceeds by name, so every accepted number was beneath the
// root when it was handed out. Rename and Link take their parents as inode
// numbers, so they can only name directories of the tree: nothing can be
// moved or linked into or out of it through the view.
//
// The handed-out set is a hash set of inode numbers sharded under
// read-write locks, measured at about 24 bytes per inode
// (BenchmarkKnownSetMemory; a sync.Map costs 120): a client that walks a
// million files costs some 24 MB until the view is dropped with its mount.
// Checking is one read-locked map probe, which does not show beside a
// metadata transaction (BenchmarkGetAttr, BenchmarkCreate); walking the
// ".." chain through the metadata instead costs a transaction per level,
// about 7 times a GetAttr four levels down (BenchmarkConfinementCheck), and
// vfs.FileSystem offers no way to find the parent of a file. Entries are
// never forgotten; the kernel's FORGET could bound the set to the inodes it
// caches if the adapter passed it on.
//
// An entry is accepted as long as the view remembers it: a directory that a
// client with a wider view moves out of the tree stays reachable through the
// numbers this view handed out before (as an NFS file handle stays valid
// across a rename), but ".." from it never reaches its new parent.
//
// Handles need no such check: the kernel hands a client only the handles
// Open and Create returned to it, and Read, Write and the other handle
// operations pass straight through. Directory handles are remembered by
// OpenDir so that ReadDir knows which directory it lists.
//
// # Symbolic links
//
// Symlinks are stored and returned verbatim and resolved by the client's
// kernel. An absolute target therefore resolves on the client's host (in a
// sandbox, inside its own mount namespace), never inside another part of
// this file system, and a relative target's ".." chain stops at the mount
// root, because Lookup(root, "..") is the root.
//
// # Read-only
//
// With ReadOnly every modifying operation fails with vfs.ErrReadOnly
// (EROFS): SetAttr, Mknod, Mkdir, Create, Symlink, Link, Unlink, Rmdir,
// Rename, Write, Fallocate, SetXattr, RemoveXattr, Open for writing or with
// O_TRUNC, and Access asking for write permission on a file, directory or
// symlink. Reads, Fsync, Flush and Release pass through.
//
// # Root directory creation
//
// EnsureRoot resolves an access point's root path at mount time and creates
// it from CreationInfo when it is missing; see its documentation for the
// owner and mode of missing parent directories, which EFS leaves
// unconfirmed.
//
// # Cost
//
// A view whose Root is the file system's root does no translation and keeps
// no set, and with no PosixUser and no SquashRoot the caller passes through
// unchanged. Measured against a core that answers instantly
// (BenchmarkViewOverhead), a pass-through view adds about 30 ns to a call,
// root squash with read-only 40 ns and a full access point 45 ns, without
// allocating; a GetAttr on the SQLite core takes 15-25 µs.
package accesspoint
