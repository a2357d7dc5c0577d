package posixtest

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

var renameCases = []testCase{
	{"RenameFiles", func(e *env) {
		a := e.writeFile("a", []byte("A"))
		b := e.writeFile("b", []byte("B"))
		ino := e.stat(a).Ino
		keep, err := os.Open(b)
		e.ok(err)
		defer keep.Close()
		e.ok(syscall.Rename(a, b))
		if _, err := os.Lstat(a); !os.IsNotExist(err) {
			e.t.Errorf("old name still exists: %v", err)
		}
		if st := e.stat(b); st.Ino != ino || string(e.readFile(b)) != "A" {
			e.t.Errorf("target after replacing rename: ino %d (want %d)", st.Ino, ino)
		}
		var st syscall.Stat_t
		e.ok(syscall.Fstat(int(keep.Fd()), &st))
		if st.Nlink != 0 {
			e.t.Errorf("replaced file still has %d links", st.Nlink)
		}
		e.want("rename missing", syscall.Rename(e.path("missing"), e.path("x")), syscall.ENOENT)
		e.ok(os.Link(b, e.path("b2")))
		e.ok(syscall.Rename(b, e.path("b2")))
		if _, err := os.Lstat(b); err != nil {
			e.t.Errorf("rename between two links of one inode must do nothing: %v", err)
		}
		e.ok(syscall.Rename(b, b))
		e.ok(os.Mkdir(e.path("d"), 0o755))
		e.want("rename file over directory", syscall.Rename(b, e.path("d")), syscall.EISDIR)
		e.want("rename into missing directory", syscall.Rename(b, e.path("missing", "x")), syscall.ENOENT)
		e.ok(syscall.Rename(b, e.path("d", "moved")))
		if got := string(e.readFile(e.path("d", "moved"))); got != "A" {
			e.t.Errorf("moved file content %q", got)
		}
	}},
	{"RenameDirectories", func(e *env) {
		for _, d := range []string{"a", "a/sub", "b", "empty", "full", "full/x"} {
			e.ok(os.Mkdir(e.path(d), 0o755))
		}
		f := e.writeFile("f", nil)
		e.want("rename directory into itself", syscall.Rename(e.path("a"), e.path("a", "sub", "a")), syscall.EINVAL)
		e.want("rename directory over file", syscall.Rename(e.path("a"), f), syscall.ENOTDIR)
		e.want("rename directory over non-empty directory", syscall.Rename(e.path("a"), e.path("full")), syscall.ENOTEMPTY)
		before := e.stat(e.dir).Nlink
		e.ok(syscall.Rename(e.path("a"), e.path("b", "a")))
		if got := e.stat(e.dir).Nlink; got != before-1 {
			e.t.Errorf("old parent nlink = %d, want %d", got, before-1)
		}
		if got := e.stat(e.path("b")).Nlink; got != 3 {
			e.t.Errorf("new parent nlink = %d, want 3", got)
		}
		if st, parent := e.stat(e.path("b", "a", "..")), e.stat(e.path("b")); st.Ino != parent.Ino {
			e.t.Errorf(".. of moved directory is inode %d, want %d", st.Ino, parent.Ino)
		}
		if _, err := os.Stat(e.path("b", "a", "sub")); err != nil {
			e.t.Errorf("subtree did not move: %v", err)
		}
		e.ok(syscall.Rename(e.path("b", "a"), e.path("empty")))
		if _, err := os.Stat(e.path("empty", "sub")); err != nil {
			e.t.Errorf("rename over empty directory: %v", err)
		}
	}},
	{"RenameFlags", func(e *env) {
		a := e.writeFile("a", []byte("A"))
		b := e.writeFile("b", []byte("B"))
		e.ok(os.Mkdir(e.path("d"), 0o755))
		err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_NOREPLACE)
		if err == syscall.EINVAL {
			e.t.Skip("renameat2 flags not supported here")
		}
		e.want("RENAME_NOREPLACE onto existing", err, syscall.EEXIST)
		e.want("RENAME_NOREPLACE to new name", unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, e.path("c"), unix.RENAME_NOREPLACE), 0)
		c := e.path("c")
		e.want("RENAME_EXCHANGE file and directory", unix.Renameat2(unix.AT_FDCWD, c, unix.AT_FDCWD, e.path("d"), unix.RENAME_EXCHANGE), 0)
		if st := e.lstat(c); st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
			e.t.Errorf("after exchange, c is mode %o, want a directory", st.Mode)
		}
		if got := string(e.readFile(e.path("d"))); got != "A" {
			e.t.Errorf("after exchange, d holds %q", got)
		}
		e.want("RENAME_EXCHANGE with missing", unix.Renameat2(unix.AT_FDCWD, b, unix.AT_FDCWD, e.path("missing"), unix.RENAME_EXCHANGE), syscall.ENOENT)
		e.want("RENAME_EXCHANGE|RENAME_NOREPLACE", unix.Renameat2(unix.AT_FDCWD, b, unix.AT_FDCWD, c, unix.RENAME_EXCHANGE|unix.RENAME_NOREPLACE), syscall.EINVAL)
	}},
	{"CrossDevice", func(e *env) {
		if e.opts.OtherFS == "" {
			e.t.Skip("Options.OtherFS not set")
		}
		f := e.writeFile("f", nil)
		other, err := os.MkdirTemp(e.opts.OtherFS, "posixtest-")
		e.ok(err)
		defer os.RemoveAll(other)
		e.want("rename to another file system", syscall.Rename(f, other+"/f"), syscall.EXDEV)
		e.want("link to another file system", syscall.Link(f, other+"/f"), syscall.EXDEV)
	}},
}
