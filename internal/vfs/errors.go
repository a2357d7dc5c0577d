package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"tarn.dev/tarn/internal/blob"
)

// Errors returned (wrapped in *Error) by the file system. Where io/fs has a
// sentinel with the same meaning it is used instead: fs.ErrNotExist (ENOENT),
// fs.ErrExist (EEXIST), fs.ErrPermission (EACCES or EPERM, see ErrNotOwner).
var (
	ErrNotEmpty     = errors.New("directory not empty")         // ENOTEMPTY
	ErrNotDir       = errors.New("not a directory")             // ENOTDIR
	ErrIsDir        = errors.New("is a directory")              // EISDIR
	ErrNameTooLong  = errors.New("file name too long")          // ENAMETOOLONG
	ErrLoop         = errors.New("too many levels of symlinks") // ELOOP
	ErrInvalid      = errors.New("invalid argument")            // EINVAL
	ErrCrossDevice  = errors.New("cross-device link")           // EXDEV
	ErrNoSpace      = errors.New("no space left on device")     // ENOSPC
	ErrTooManyLinks = errors.New("too many links")              // EMLINK
	ErrFileTooBig   = errors.New("file too large")              // EFBIG
	ErrNotSupported = errors.New("operation not supported")     // EOPNOTSUPP
	ErrReadOnly     = errors.New("read-only file system")       // EROFS
	ErrNoData       = errors.New("no such attribute")           // ENODATA
	ErrRange        = errors.New("result out of range")         // ERANGE
	ErrStale        = errors.New("stale file handle")           // ESTALE
	ErrBadHandle    = errors.New("bad file handle")             // EBADF
	ErrBusy         = errors.New("resource busy")               // EBUSY
	ErrTooBig       = errors.New("argument list too long")      // E2BIG (xattr value too large)
	// ErrNotOwner is an fs.ErrPermission for operations reserved to the
	// owner or root (EPERM rather than EACCES).
	ErrNotOwner = fmt.Errorf("operation not permitted: %w", fs.ErrPermission) // EPERM
)

// Sentinels lists every sentinel the file system returns, most specific
// first, so that an edge translator can build its errno table with
// errors.Is. ErrNotOwner precedes fs.ErrPermission, which it wraps.
var Sentinels = []error{
	ErrNotOwner, fs.ErrPermission, fs.ErrNotExist, fs.ErrExist,
	ErrNotEmpty, ErrNotDir, ErrIsDir, ErrNameTooLong, ErrLoop, ErrInvalid, ErrCrossDevice, ErrNoSpace,
	ErrTooManyLinks, ErrFileTooBig, ErrNotSupported, ErrReadOnly, ErrNoData, ErrRange, ErrStale, ErrBadHandle,
	ErrBusy, ErrTooBig,
}

// Error records an operation, the inode and name it concerned, and the cause.
type Error struct {
	Op   string
	Ino  Ino
	Name string
	Err  error
}

func (e *Error) Error() string {
	s := e.Op + " " + strconv.FormatUint(uint64(e.Ino), 10)
	if e.Name != "" {
		s += "/" + strconv.Quote(e.Name)
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func opErr(op string, ino Ino, name string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, blob.ErrNoSpace) && !errors.Is(err, ErrNoSpace) {
		err = fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return &Error{Op: op, Ino: ino, Name: name, Err: err}
}
