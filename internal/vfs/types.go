package vfs

import (
	"context"
	"time"

	"tarn.dev/tarn/internal/meta"
)

// Ino is an inode number; RootIno is the root directory.
type Ino = meta.Ino

// RootIno is the root directory.
const RootIno = meta.RootIno

// File type and special permission bits of Attr.Mode, as in stat(2).
const (
	ModeType    = 0o170000
	ModeSocket  = 0o140000
	ModeSymlink = 0o120000
	ModeRegular = 0o100000
	ModeBlock   = 0o060000
	ModeDir     = 0o040000
	ModeChar    = 0o020000
	ModeFIFO    = 0o010000
	ModeSetuid  = 0o4000
	ModeSetgid  = 0o2000
	ModeSticky  = 0o1000
	ModePerm    = 0o7777
)

// Limits, matching Amazon EFS.
const (
	MaxNameLen    = 255
	MaxSymlinkLen = 4080
	MaxLinks      = 177
	MaxFileSize   = 52673613135872
	MaxXattrName  = 255
	MaxXattrValue = 65536
)

// Access masks for Access.
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

// Rename flags, as in renameat2(2).
const (
	RenameNoReplace = 1
	RenameExchange  = 2
	RenameWhiteout  = 4
)

// Fallocate modes, as in fallocate(2).
const (
	FallocKeepSize  = 0x01
	FallocPunchHole = 0x02
	FallocZeroRange = 0x10
)

// SetXattr flags, as in setxattr(2).
const (
	XattrCreate  = 1
	XattrReplace = 2
)

// Caller is the identity a request runs as. Groups are the supplementary
// groups; GID is always a member.
type Caller struct {
	UID    uint32
	GID    uint32
	Groups []uint32
	PID    uint32
}

// Root is the superuser.
var Root = Caller{}

func (c Caller) member(gid uint32) bool {
	if c.GID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// Attr is what stat(2) reports. Times have nanosecond precision.
type Attr struct {
	Ino     Ino
	Mode    uint32
	Nlink   uint32
	UID     uint32
	GID     uint32
	Rdev    uint32
	Size    uint64
	Blocks  uint64 // 512-byte units
	Blksize uint32
	Atime   time.Time
	Mtime   time.Time
	Ctime   time.Time
}

// IsDir reports whether the attributes are a directory's.
func (a Attr) IsDir() bool { return a.Mode&ModeType == ModeDir }

// SetAttrIn selects the attributes SetAttr changes: nil fields stay.
// AtimeNow and MtimeNow set the time to now (utimensat UTIME_NOW), which
// needs only write permission; explicit times need ownership.
type SetAttrIn struct {
	Mode     *uint32 // permission bits (type bits are ignored)
	UID      *uint32
	GID      *uint32
	Size     *uint64
	Atime    *time.Time
	Mtime    *time.Time
	AtimeNow bool
	MtimeNow bool
	// Handle, if non-zero, is the open file the change is made through
	// (ftruncate), which waives the write-permission check for Size.
	Handle Handle
}

// Handle identifies an open file or directory.
type Handle uint64

// DirEntry is one entry returned by ReadDir. Cookie is the position to resume
// after; "." and ".." have cookies 1 and 2.
type DirEntry struct {
	Name   string
	Ino    Ino
	Mode   uint32 // type bits
	Cookie uint64
}

// StatFS is what statfs(2) reports.
type StatFS struct {
	Bsize   uint32
	Frsize  uint32
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	NameLen uint32
}

// ChangeKind says what a Change touched.
type ChangeKind int

const (
	// ChangeAttr: the attributes of Ino changed.
	ChangeAttr ChangeKind = iota + 1
	// ChangeData: the contents (and maybe size) of Ino changed.
	ChangeData
	// ChangeEntry: the entry Name in directory Parent appeared, went or now
	// points elsewhere; Ino is the inode it pointed to, if known.
	ChangeEntry
)

// Change is emitted to watchers after a change is committed, so that kernel
// caches of other mounts can be invalidated.
type Change struct {
	// Origin is the id the change's call carried (WithOrigin), or 0.
	Origin uint64
	Kind   ChangeKind
	Ino    Ino
	Parent Ino
	Name   string
}

// FileSystem is the method set of the core that the FUSE adapter calls and
// that decorators (access points, root squash, read-only) wrap. *FS
// implements it.
type FileSystem interface {
	Lookup(ctx context.Context, c Caller, parent Ino, name string) (Attr, error)
	GetAttr(ctx context.Context, c Caller, ino Ino) (Attr, error)
	SetAttr(ctx context.Context, c Caller, ino Ino, in SetAttrIn) (Attr, error)
	Access(ctx context.Context, c Caller, ino Ino, mask uint32) error
	Mknod(ctx context.Context, c Caller, parent Ino, name string, mode, rdev, umask uint32) (Attr, error)
	Mkdir(ctx context.Context, c Caller, parent Ino, name string, mode, umask uint32) (Attr, error)
	Create(ctx context.Context, c Caller, parent Ino, name string, mode uint32, flags int, umask uint32) (Attr, Handle, error)
	Symlink(ctx context.Context, c Caller, parent Ino, name, target string) (Attr, error)
	Readlink(ctx context.Context, c Caller, ino Ino) (string, error)
	Link(ctx context.Context, c Caller, ino, newParent Ino, newName string) (Attr, error)
	Unlink(ctx context.Context, c Caller, parent Ino, name string) error
	Rmdir(ctx context.Context, c Caller, parent Ino, name string) error
	Rename(ctx context.Context, c Caller, oldParent Ino, oldName string, newParent Ino, newName string, flags uint32) error

	Open(ctx context.Context, c Caller, ino Ino, flags int) (Handle, error)
	Read(ctx context.Context, h Handle, p []byte, off int64) (int, error)
	Write(ctx context.Context, h Handle, p []byte, off int64) (int, error)
	Fallocate(ctx context.Context, h Handle, off, length int64, mode uint32) error
	Fsync(ctx context.Context, h Handle) error
	Flush(ctx context.Context, h Handle) error
	Release(ctx context.Context, h Handle) error

	OpenDir(ctx context.Context, c Caller, ino Ino) (Handle, error)
	ReadDir(ctx context.Context, h Handle, after uint64, fn func(DirEntry) bool) error
	ReleaseDir(ctx context.Context, h Handle) error

	StatFS(ctx context.Context, c Caller) (StatFS, error)
	GetXattr(ctx context.Context, c Caller, ino Ino, name string) ([]byte, error)
	SetXattr(ctx context.Context, c Caller, ino Ino, name string, value []byte, flags int) error
	ListXattr(ctx context.Context, c Caller, ino Ino) ([]string, error)
	RemoveXattr(ctx context.Context, c Caller, ino Ino, name string) error
}
