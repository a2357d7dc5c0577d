// Package meta defines the transactional metadata contract of one Tarn file
// system: inodes, directory entries, symlink targets, extended attributes, the
// file → chunk → extent map that places immutable data slices, usage counters,
// and the bookkeeping garbage collection needs (dead slices, unlinked inodes).
//
// The contract is deliberately mechanical: a Store runs transactions, and a Tx
// reads and writes records. It knows nothing of permissions, name rules or
// link-count policy; those POSIX rules live once, in package vfs, above every
// backend. Backends classify their own driver errors: a missing record is
// fs.ErrNotExist, a duplicate key fs.ErrExist, and a serialisation failure or
// lock timeout ErrConflict, which Store.Update retries by running the function
// again. Every backend must pass the conformance kit in package metatest.
package meta

import (
	"context"
	"errors"
	"time"
)

// ErrConflict reports that a transaction lost a race with another writer and
// may succeed if run again. Store.Update retries it before giving up.
var ErrConflict = errors.New("metadata transaction conflict")

// Ino is an inode number. RootIno is the root directory; 0 is never valid.
type Ino uint64

// RootIno is the inode number of the root directory.
const RootIno Ino = 1

// Inode is the stored attributes of one file-system object.
type Inode struct {
	Ino   Ino
	Mode  uint32 // file type bits (S_IFMT) and permission bits, as in stat(2)
	Nlink uint32
	UID   uint32
	GID   uint32
	Rdev  uint32
	Size  uint64
	Atime time.Time
	Mtime time.Time
	Ctime time.Time
	// Parent is the containing directory of a directory (the target of
	// ".."); for other types it is the directory the object was created in.
	Parent Ino
}

// Dirent is one directory entry. Cookie is a stable, strictly increasing
// position of the entry in its directory, assigned by the store when the entry
// is added; ReadDir resumes after a cookie.
type Dirent struct {
	Name   string
	Ino    Ino
	Mode   uint32 // type bits of the target
	Cookie uint64
}

// Slice is one immutable data object written to the blob store, stored as
// blocks. Extents reference windows of it; the store counts the references
// and moves a slice to the dead list when the last one goes.
type Slice struct {
	ID   uint64
	Size uint64 // bytes stored in the blob store for this slice
}

// Extent places bytes [Off, Off+Len) of slice Slice at byte Pos of chunk Chunk
// of a file. Slice 0 means zeros (a punched hole). Extents of a chunk are kept
// in the order they were written; later extents overlay earlier ones.
type Extent struct {
	Chunk uint64
	Pos   uint32
	Len   uint32
	Slice uint64
	Off   uint64
}

// End returns the chunk position just past the extent.
func (e Extent) End() uint32 { return e.Pos + e.Len }

// Usage is the metered size of a file system.
type Usage struct {
	Bytes  int64 // sum of regular file sizes plus metadata overhead
	Inodes int64 // number of inodes
}

// Counter names an allocation sequence.
type Counter int

const (
	// InoCounter allocates inode numbers. The first value allocated is 2.
	InoCounter Counter = iota + 1
	// SliceCounter allocates slice ids. The first value allocated is 1.
	SliceCounter
)

// Store is the metadata of one file system.
type Store interface {
	// View runs fn in a read-only transaction with a consistent snapshot.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Update runs fn in a read-write transaction and commits it if fn returns
	// nil. If the transaction conflicts with another writer, fn runs again,
	// so fn must not have side effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Close releases the store. It does not close a shared database.
	Close() error
}

// Tx reads and writes records of one file system within a transaction.
// Methods return fs.ErrNotExist (wrapped) for missing records and
// fs.ErrExist for duplicates, as documented per method.
type Tx interface {
	// Next reserves n consecutive values of counter c and returns the first.
	Next(c Counter, n uint64) (uint64, error)
	// Usage returns the usage counters.
	Usage() (Usage, error)
	// AddUsage adds the given deltas to the usage counters.
	AddUsage(bytes, inodes int64) error

	// Inode returns inode ino, or fs.ErrNotExist.
	Inode(ino Ino) (Inode, error)
	// CreateInode stores a new inode, or fails with fs.ErrExist.
	CreateInode(in Inode) error
	// UpdateInode replaces the attributes of an existing inode.
	UpdateInode(in Inode) error
	// DeleteInode removes an inode with its symlink target, xattrs and
	// extents (dropping their slice references). Entries pointing to it are
	// the caller's business.
	DeleteInode(ino Ino) error
	// Inodes calls fn for every inode in inode order.
	Inodes(fn func(Inode) error) error
	// Unlinked calls fn for every inode whose Nlink is 0.
	Unlinked(fn func(Ino) error) error

	// Lookup returns the entry name in directory parent, or fs.ErrNotExist.
	Lookup(parent Ino, name string) (Dirent, error)
	// AddEntry adds an entry, or fails with fs.ErrExist. The cookie of d is
	// ignored and assigned by the store.
	AddEntry(parent Ino, d Dirent) error
	// RemoveEntry removes an entry, or fails with fs.ErrNotExist.
	RemoveEntry(parent Ino, name string) error
	// ReadDir calls fn for the entries of parent with a cookie greater than
	// after, in cookie order, until fn returns false.
	ReadDir(parent Ino, after uint64, fn func(Dirent) bool) error
	// HasEntries reports whether directory parent has any entry.
	HasEntries(parent Ino) (bool, error)
	// Entries calls fn for every entry of the file system.
	Entries(fn func(parent Ino, d Dirent) error) error

	// Symlink returns the target of a symbolic link, or fs.ErrNotExist.
	Symlink(ino Ino) (string, error)
	// SetSymlink stores the target of a symbolic link.
	SetSymlink(ino Ino, target string) error

	// Xattr returns an extended attribute, or fs.ErrNotExist.
	Xattr(ino Ino, name string) ([]byte, error)
	// SetXattr creates or replaces an extended attribute.
	SetXattr(ino Ino, name string, value []byte) error
	// RemoveXattr removes an extended attribute, or fails with fs.ErrNotExist.
	RemoveXattr(ino Ino, name string) error
	// Xattrs returns the names of the extended attributes of ino, sorted.
	Xattrs(ino Ino) ([]string, error)

	// AddSlice records a new slice with no references yet; extents added in
	// the same transaction reference it.
	AddSlice(s Slice) error
	// Extents returns the extents of one chunk in write order.
	Extents(ino Ino, chunk uint64) ([]Extent, error)
	// AppendExtents adds extents after the existing ones of their chunks.
	AppendExtents(ino Ino, ext []Extent) error
	// SetExtents replaces all extents of one chunk (all of ext must be in
	// that chunk).
	SetExtents(ino Ino, chunk uint64, ext []Extent) error
	// DeleteExtents removes the extents of all chunks >= from.
	DeleteExtents(ino Ino, from uint64) error
	// ChunkExtents calls fn with the number of extents of every chunk of ino
	// that has any.
	ChunkExtents(ino Ino, fn func(chunk uint64, n int) error) error
	// AllExtents calls fn for every extent of the file system.
	AllExtents(fn func(ino Ino, e Extent) error) error
	// Slices calls fn for every live slice with its reference count.
	Slices(fn func(s Slice, refs int64) error) error
	// SetSliceRefs corrects the reference count of a live slice; a count of
	// 0 moves it to the dead list.
	SetSliceRefs(id uint64, refs int64) error
	// DeadSlices returns up to limit slices that lost their last reference.
	// Their blocks may be deleted once this transaction has committed.
	DeadSlices(limit int) ([]Slice, error)
	// ForgetSlices removes slices from the dead list after their blocks are
	// deleted.
	ForgetSlices(ids []uint64) error
}
