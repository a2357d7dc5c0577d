// Package posixtest is a POSIX conformance suite that runs against any
// directory: a plain local directory (to validate the suite itself) or a
// Tarn FUSE mount. It checks what a program sees through system calls, not
// how the file system implements it: every operation, its error cases,
// permissions for owner, group, supplementary group and others, sticky and
// setgid directories, rename variants, link counts, truncation, sparse
// files, O_APPEND, O_EXCL, unlinked open files, symlinks, xattrs,
// nanosecond times, statfs, fallocate and mmap.
//
// Checks that must run as another user (permissions) and mmap run in a
// child process: /usr/bin/python3 started with SysProcAttr.Credential. A
// process must not fault on pages of a FUSE mount it serves itself (a
// garbage collection can stop the serving goroutines mid-fault), and
// credentials cannot be changed for one goroutine. They are skipped, with a
// message, when the test does not run as root or python3 is missing.
package posixtest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Options says what the target supports. The zero value suits a local
// Linux file system reached by other users.
type Options struct {
	// NameMax is the longest file name; default 255.
	NameMax int
	// MaxLinks is the hard-link limit of a file, checked when non-zero
	// (177 on Tarn, as on EFS).
	MaxLinks int
	// NoXattrs skips the extended-attribute cases.
	NoXattrs bool
	// NoFallocate skips the fallocate cases.
	NoFallocate bool
	// OtherFS is a directory on another file system, for EXDEV; empty
	// skips that case.
	OtherFS string
	// Python is the interpreter used for child processes; default
	// /usr/bin/python3.
	Python string
}

func (o *Options) defaults() {
	if o.NameMax == 0 {
		o.NameMax = 255
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
}

// env is one case's world: a fresh directory inside the target.
type env struct {
	t     *testing.T
	dir   string
	opts  Options
	umask int
}

func (e *env) path(names ...string) string {
	return filepath.Join(append([]string{e.dir}, names...)...)
}

type testCase struct {
	name string
	fn   func(e *env)
}

// Run runs every case against dir, each in its own subdirectory, in
// parallel. dir must be empty or at least have no entries named like the
// cases.
func Run(t *testing.T, dir string, opts Options) {
	opts.defaults()
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatalf("chmod %s: %v", dir, err)
	}
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := filepath.Join(dir, c.name)
			if err := os.Mkdir(d, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := os.RemoveAll(d); err != nil {
					t.Errorf("remove case directory: %v", err)
				}
			})
			c.fn(&env{t: t, dir: d, opts: opts, umask: umask})
		})
	}
}

func cases() []testCase {
	var all []testCase
	all = append(all, fileCases...)
	all = append(all, dirCases...)
	all = append(all, linkCases...)
	all = append(all, renameCases...)
	all = append(all, attrCases...)
	all = append(all, dataCases...)
	all = append(all, permCases...)
	return all
}

// errnoOf extracts the errno from err, 0 for nil.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var no syscall.Errno
	if errors.As(err, &no) {
		return no
	}
	return syscall.Errno(^uintptr(0))
}

// want checks that err carries the errno want (0 for success).
func (e *env) want(what string, err error, want syscall.Errno) {
	e.t.Helper()
	if got := errnoOf(err); got != want {
		if want == 0 {
			e.t.Errorf("%s = %v, want success", what, err)
		} else {
			e.t.Errorf("%s = %v, want %v (%s)", what, err, want, errName(want))
		}
	}
}

func (e *env) ok(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) writeFile(name string, data []byte) string {
	e.t.Helper()
	p := e.path(name)
	e.ok(os.WriteFile(p, data, 0o644))
	return p
}

func (e *env) readFile(p string) []byte {
	e.t.Helper()
	b, err := os.ReadFile(p)
	e.ok(err)
	return b
}

func (e *env) lstat(p string) syscall.Stat_t {
	e.t.Helper()
	var st syscall.Stat_t
	e.ok(syscall.Lstat(p, &st))
	return st
}

func (e *env) stat(p string) syscall.Stat_t {
	e.t.Helper()
	var st syscall.Stat_t
	e.ok(syscall.Stat(p, &st))
	return st
}
