package fuse

import (
	"context"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"tarn.dev/tarn/internal/lock"
	"tarn.dev/tarn/internal/vfs"
)

func TestErrno(t *testing.T) {
	for _, c := range []struct {
		err  error
		want syscall.Errno
	}{
		{nil, 0},
		{&vfs.Error{Op: "chmod", Err: vfs.ErrNotOwner}, syscall.EPERM},
		{&vfs.Error{Op: "open", Err: fs.ErrPermission}, syscall.EACCES},
		{&vfs.Error{Op: "lookup", Err: fs.ErrNotExist}, syscall.ENOENT},
		{&vfs.Error{Op: "rmdir", Err: vfs.ErrNotEmpty}, syscall.ENOTEMPTY},
		{&vfs.Error{Op: "write", Err: fmt.Errorf("flush: %w", vfs.ErrNoSpace)}, syscall.ENOSPC},
		{&vfs.Error{Op: "getxattr", Err: vfs.ErrNoData}, syscall.ENODATA},
		{fmt.Errorf("setlk: %w", lock.ErrWouldBlock), syscall.EAGAIN},
		{lock.ErrDeadlock, syscall.EDEADLK},
		{lock.ErrNoLocks, syscall.ENOLCK},
		{fmt.Errorf("setlkw: %w", context.Canceled), syscall.EINTR},
		{fmt.Errorf("getlk: %w", fs.ErrInvalid), syscall.EINVAL},
		{fmt.Errorf("raw: %w", syscall.EXDEV), syscall.EXDEV},
		{fmt.Errorf("database is on fire"), syscall.EIO},
	} {
		if got := Errno(c.err); got != c.want {
			t.Errorf("Errno(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// Every sentinel vfs documents has its own errno.
func TestErrnoCoversSentinels(t *testing.T) {
	for _, s := range vfs.Sentinels {
		if no := Errno(s); no == syscall.EIO {
			t.Errorf("vfs sentinel %q maps to EIO", s)
		}
	}
}

func TestParseGroups(t *testing.T) {
	status := []byte("Name:\tpython3\nUid:\t1000\t1000\t1000\t1000\nGroups:\t4 24 1000 \nNgid:\t0\n")
	got := parseGroups(status)
	if fmt.Sprint(got) != "[4 24 1000]" {
		t.Errorf("parseGroups = %v, want [4 24 1000]", got)
	}
	if got := parseGroups([]byte("Groups:\t\n")); len(got) != 0 {
		t.Errorf("no groups = %v", got)
	}
}
