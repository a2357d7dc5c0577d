// Package vfs is the kernel-free core of Tarn's file system: POSIX semantics
// over inodes, with the caller's identity explicit on every call. It knows
// nothing of FUSE, SQL or HTTP; the FUSE adapter translates requests into
// calls on FileSystem and errors into errnos (see Sentinels), and access
// points and other policies are decorators of the same interface.
//
// # Metadata and transactions
//
// Every namespace operation (create, link, unlink, rename, setattr, xattrs)
// is one meta.Store transaction, so it is atomic and isolated: a rename moves
// a whole directory tree at once, and concurrent renames cannot create cycles
// because the ancestry check runs inside the transaction that moves the
// entry. The POSIX rules (permissions, sticky bit, setgid inheritance, link
// counts, name limits) live here, once, above every metadata backend.
//
// # Data layout
//
// A file is divided into chunks of ChunkSize (64 MiB). Written data is
// stored in immutable slices in the blob store, each slice as blocks of at
// most BlockSize (4 MiB) under "chunks/<fs id>/<id/1e6>/<id>_<block>". The
// metadata maps each chunk to an ordered list of extents, each placing a
// window of a slice at a position in the chunk; later extents overlay
// earlier ones, and positions no extent covers are holes that read as
// zeros. A write therefore costs its own size plus one metadata row: a
// 4 KiB write into a 10 GiB file writes 4 KiB. One flush packs every
// buffered range of a file into a single slice (one blob Put per 4 MiB),
// with one extent per range, so many small random writes cost one object.
// Truncation trims and drops extents; punching a hole appends a zero extent.
//
// Slices are reference-counted by the metadata store. When a transaction
// drops the last extent of a slice, the slice moves to a dead list; the
// garbage collector deletes its blocks after that transaction committed.
// A chunk whose extent list grows long (Options.CompactExtents) is compacted
// in the background: its visible data is rewritten as one slice, and the old
// slices become garbage. Reads cache whole blocks in a bounded LRU when they
// look sequential, and read just the needed bytes otherwise. A read is
// planned under its file's lock and its blocks are fetched without it, so
// the kernel's parallel readahead requests are served in parallel; a
// sequential reader starts fetching the blocks ahead of it, and concurrent
// readers of one block share a single fetch.
//
// # Attribute cache
//
// The attributes of recently used inodes are kept in memory (attrCache),
// so GETATTR and the parent checks of lookups need no database read. The
// cache sits under every transaction: write transactions run one at a time,
// drop each inode they change and put the committed value back, and a read
// only adds to the cache if no writer ran during it.
//
// # Buffering, consistency and durability
//
// Writes are buffered per inode (not per handle), up to
// Options.MaxDirtyPerFile per file and Options.MaxDirty overall, and flushed
// as one slice when the buffer fills, on Fsync, on Flush (every close) and on
// Release. A full buffer is flushed behind the writer: it is stored in the
// background while the next one fills (one such flush per file at a time;
// reads see its data until it is recorded, and truncation and other flushes
// wait for it). Every handle of this process reads through the same buffer and
// GetAttr reports the buffered size and mtime, so all local clients get
// read-after-write consistency. Data is durable once Fsync or Flush returns
// (Options.Sync, when set, is the sync that makes it so): the blocks are
// stored before the metadata transaction that
// references them commits. A crash loses at most unflushed writes; blocks
// written by a flush whose transaction never committed are orphans that
// Fsck finds and deletes.
//
// A file unlinked while open keeps its inode (with link count 0) and data
// until its last handle is released. New deletes such inodes left behind by
// a crash.
//
// # Deviations from POSIX and Linux
//
//   - atime is not updated by reads (as with noatime); it changes only by
//     SetAttr.
//   - Fallocate does not reserve space: ENOSPC can still happen on a later
//     write or flush.
//   - Blocks in Attr is the size rounded up to 512-byte units, holes
//     included.
//   - ACLs (system.posix_acl_*) are not supported; xattrs in the user.,
//     trusted. and security. namespaces are.
//   - Hard links to directories are refused with EPERM, and the 177-link
//     limit of EFS applies to files only; directories may hold any number of
//     subdirectories.
//   - The in-memory state (buffers, cached extents and attributes, open
//     counts) assumes that this process is the only writer of the file
//     system; several servers on one database will need sessions and
//     change notification to keep caches coherent and to reap
//     unlinked-open files safely.
package vfs
