package fuse

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"sync"
	"syscall"

	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"tarn.dev/tarn/internal/lock"
	"tarn.dev/tarn/internal/vfs"
)

// errnos is the one table that turns errors from the file system and the
// lock table into errnos, most specific first (vfs.ErrNotOwner wraps
// fs.ErrPermission).
var errnos = []struct {
	err error
	no  syscall.Errno
}{
	{vfs.ErrNotOwner, syscall.EPERM},
	{fs.ErrPermission, syscall.EACCES},
	{fs.ErrNotExist, syscall.ENOENT},
	{fs.ErrExist, syscall.EEXIST},
	{vfs.ErrNotEmpty, syscall.ENOTEMPTY},
	{vfs.ErrNotDir, syscall.ENOTDIR},
	{vfs.ErrIsDir, syscall.EISDIR},
	{vfs.ErrNameTooLong, syscall.ENAMETOOLONG},
	{vfs.ErrLoop, syscall.ELOOP},
	{vfs.ErrInvalid, syscall.EINVAL},
	{vfs.ErrCrossDevice, syscall.EXDEV},
	{vfs.ErrNoSpace, syscall.ENOSPC},
	{vfs.ErrTooManyLinks, syscall.EMLINK},
	{vfs.ErrFileTooBig, syscall.EFBIG},
	{vfs.ErrNotSupported, syscall.EOPNOTSUPP},
	{vfs.ErrReadOnly, syscall.EROFS},
	{vfs.ErrNoData, syscall.ENODATA},
	{vfs.ErrRange, syscall.ERANGE},
	{vfs.ErrStale, syscall.ESTALE},
	{vfs.ErrBadHandle, syscall.EBADF},
	{vfs.ErrBusy, syscall.EBUSY},
	{vfs.ErrTooBig, syscall.E2BIG},
	{lock.ErrWouldBlock, syscall.EAGAIN},
	{lock.ErrDeadlock, syscall.EDEADLK},
	{lock.ErrNoLocks, syscall.ENOLCK},
	{lock.ErrSessionReleased, syscall.EINTR},
	{context.Canceled, syscall.EINTR},
	{context.DeadlineExceeded, syscall.EINTR},
	{fs.ErrInvalid, syscall.EINVAL},
	{fs.ErrClosed, syscall.EBADF},
}

// errorLog logs each operation's first unknown error, so that a broken
// backend does not flood the log.
type errorLog struct {
	log    *slog.Logger
	logged sync.Map // op → struct{}
}

// Errno returns the errno for err: the first match in the table, the errno
// itself if err wraps a syscall.Errno, and EIO otherwise.
func Errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	for _, e := range errnos {
		if errors.Is(err, e.err) {
			return e.no
		}
	}
	var no syscall.Errno
	if errors.As(err, &no) {
		return no
	}
	return syscall.EIO
}

// status converts err for a reply to the kernel; unknown errors become EIO
// and are logged once per op.
func (l *errorLog) status(op string, err error) gofuse.Status {
	if err == nil {
		return gofuse.OK
	}
	no := Errno(err)
	if no == syscall.EIO {
		if _, seen := l.logged.LoadOrStore(op, struct{}{}); !seen {
			l.log.Error("fuse request failed with an unexpected error; further ones of this op are not logged",
				"op", op, "err", err)
		}
	}
	return gofuse.Status(no)
}
