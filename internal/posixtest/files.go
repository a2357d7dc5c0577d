package posixtest

import (
	"bytes"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

func errName(no syscall.Errno) string { return unix.ErrnoName(no) }

var fileCases = []testCase{
	{"CreateWriteRead", func(e *env) {
		p := e.path("f")
		fd, err := syscall.Open(p, syscall.O_CREAT|syscall.O_RDWR, 0o666)
		e.ok(err)
		defer syscall.Close(fd)
		st := e.stat(p)
		if st.Mode != syscall.S_IFREG|uint32(0o666&^e.umask) || st.Size != 0 || st.Nlink != 1 {
			e.t.Errorf("new file: mode %o size %d nlink %d, want %o 0 1", st.Mode, st.Size, st.Nlink, syscall.S_IFREG|0o666&^e.umask)
		}
		if st.Uid != uint32(os.Geteuid()) || st.Gid != uint32(os.Getegid()) {
			e.t.Errorf("new file owned by %d:%d, want %d:%d", st.Uid, st.Gid, os.Geteuid(), os.Getegid())
		}
		_, err = syscall.Pwrite(fd, []byte("hello world"), 0)
		e.ok(err)
		_, err = syscall.Pwrite(fd, []byte("W"), 6)
		e.ok(err)
		if got := string(e.readFile(p)); got != "hello World" {
			e.t.Errorf("content = %q, want %q", got, "hello World")
		}
		if st := e.stat(p); st.Size != 11 {
			e.t.Errorf("size = %d, want 11", st.Size)
		}
		buf := make([]byte, 10)
		n, err := syscall.Pread(fd, buf, 100)
		if n != 0 || err != nil {
			e.t.Errorf("pread past EOF = %d, %v, want 0, nil", n, err)
		}
	}},
	{"ExclusiveCreate", func(e *env) {
		p := e.writeFile("f", nil)
		_, err := syscall.Open(p, syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, 0o644)
		e.want("O_EXCL on existing file", err, syscall.EEXIST)
		e.ok(os.Symlink("missing", e.path("dangling")))
		_, err = syscall.Open(e.path("dangling"), syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, 0o644)
		e.want("O_EXCL on dangling symlink", err, syscall.EEXIST)
		if _, err := os.Lstat(e.path("missing")); !os.IsNotExist(err) {
			e.t.Errorf("O_EXCL followed the symlink: %v", err)
		}
		fd, err := syscall.Open(e.path("new"), syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, 0o644)
		e.want("O_EXCL on new name", err, 0)
		syscall.Close(fd)
	}},
	{"OpenErrors", func(e *env) {
		f := e.writeFile("f", []byte("x"))
		e.ok(os.Mkdir(e.path("d"), 0o755))
		long := strings.Repeat("n", e.opts.NameMax+1)
		for _, c := range []struct {
			what  string
			path  string
			flags int
			want  syscall.Errno
		}{
			{"missing file", e.path("missing"), syscall.O_RDONLY, syscall.ENOENT},
			{"missing parent", e.path("missing", "f"), syscall.O_CREAT | syscall.O_WRONLY, syscall.ENOENT},
			{"file as directory", e.path("f", "x"), syscall.O_RDONLY, syscall.ENOTDIR},
			{"create under file", e.path("f", "x"), syscall.O_CREAT | syscall.O_WRONLY, syscall.ENOTDIR},
			{"O_DIRECTORY on file", f, syscall.O_RDONLY | syscall.O_DIRECTORY, syscall.ENOTDIR},
			{"directory for writing", e.path("d"), syscall.O_WRONLY, syscall.EISDIR},
			{"directory for O_RDWR", e.path("d"), syscall.O_RDWR, syscall.EISDIR},
			{"name too long", e.path(long), syscall.O_CREAT | syscall.O_WRONLY, syscall.ENAMETOOLONG},
			{"name too long, lookup", e.path(long), syscall.O_RDONLY, syscall.ENAMETOOLONG},
			{"longest name", e.path(long[1:]), syscall.O_CREAT | syscall.O_WRONLY, 0},
			{"directory O_RDONLY", e.path("d"), syscall.O_RDONLY | syscall.O_DIRECTORY, 0},
		} {
			fd, err := syscall.Open(c.path, c.flags, 0o644)
			e.want("open "+c.what, err, c.want)
			if err == nil {
				syscall.Close(fd)
			}
		}
	}},
	{"Append", func(e *env) {
		p := e.writeFile("f", []byte("abc"))
		a, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		e.ok(err)
		defer a.Close()
		b, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		e.ok(err)
		defer b.Close()
		_, err = a.Seek(0, 0)
		e.ok(err)
		for _, w := range []struct {
			f *os.File
			s string
		}{{a, "1"}, {b, "22"}, {a, "333"}} {
			_, err := w.f.Write([]byte(w.s))
			e.ok(err)
		}
		if got := string(e.readFile(p)); got != "abc122333" {
			e.t.Errorf("content after O_APPEND writes = %q, want %q", got, "abc122333")
		}
	}},
	{"Truncate", func(e *env) {
		p := e.writeFile("f", []byte("0123456789"))
		e.ok(os.Truncate(p, 4))
		if got := string(e.readFile(p)); got != "0123" {
			e.t.Errorf("after shrink: %q", got)
		}
		e.ok(os.Truncate(p, 8))
		if got := e.readFile(p); !bytes.Equal(got, []byte("0123\x00\x00\x00\x00")) {
			e.t.Errorf("after grow: %q, want zeros past the old end", got)
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		e.ok(err)
		defer f.Close()
		e.ok(f.Truncate(2))
		if st, _ := f.Stat(); st.Size() != 2 {
			e.t.Errorf("size after ftruncate = %d, want 2", st.Size())
		}
		e.want("truncate to a negative size", syscall.Truncate(p, -1), syscall.EINVAL)
		e.ok(os.Mkdir(e.path("d"), 0o755))
		e.want("truncate a directory", syscall.Truncate(e.path("d"), 0), syscall.EISDIR)
		r, err := os.Open(p)
		e.ok(err)
		defer r.Close()
		e.want("ftruncate a read-only descriptor", syscall.Ftruncate(int(r.Fd()), 0), syscall.EINVAL)
		e.ok(os.WriteFile(p, []byte("new"), 0))
		if got := string(e.readFile(p)); got != "new" {
			e.t.Errorf("after O_TRUNC rewrite: %q", got)
		}
	}},
	{"UnlinkedOpenFile", func(e *env) {
		p := e.writeFile("f", []byte("data"))
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		e.ok(err)
		defer f.Close()
		e.ok(os.Remove(p))
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			e.t.Errorf("Lstat after unlink = %v, want ENOENT", err)
		}
		_, err = f.WriteAt([]byte("more"), 4)
		e.ok(err)
		buf := make([]byte, 8)
		n, err := f.ReadAt(buf, 0)
		if n != 8 || string(buf) != "datamore" {
			e.t.Errorf("read unlinked file = %q, %v", buf[:n], err)
		}
		var st syscall.Stat_t
		e.ok(syscall.Fstat(int(f.Fd()), &st))
		if st.Nlink != 0 || st.Size != 8 {
			e.t.Errorf("fstat of unlinked file: nlink %d size %d, want 0 8", st.Nlink, st.Size)
		}
		e.writeFile("f", []byte("other"))
		n, _ = f.ReadAt(buf, 0)
		if string(buf[:n]) != "datamore" {
			e.t.Errorf("a new file with the name changed the unlinked one: %q", buf[:n])
		}
	}},
	{"Fifo", func(e *env) {
		p := e.path("fifo")
		e.ok(syscall.Mkfifo(p, 0o600))
		if st := e.lstat(p); st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
			e.t.Errorf("mkfifo made mode %o", st.Mode)
		}
		e.want("mkfifo over an existing name", syscall.Mkfifo(p, 0o600), syscall.EEXIST)
	}},
}
