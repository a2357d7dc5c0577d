package posixtest

import (
	"fmt"
	"os"
	"syscall"
)

var linkCases = []testCase{
	{"HardLinks", func(e *env) {
		a := e.writeFile("a", []byte("x"))
		b := e.path("b")
		e.ok(os.Link(a, b))
		sa, sb := e.stat(a), e.stat(b)
		if sa.Ino != sb.Ino || sa.Nlink != 2 {
			e.t.Errorf("after link: inos %d %d nlink %d, want one inode with 2 links", sa.Ino, sb.Ino, sa.Nlink)
		}
		e.want("link onto existing name", syscall.Link(a, b), syscall.EEXIST)
		e.want("link from missing", syscall.Link(e.path("missing"), e.path("c")), syscall.ENOENT)
		e.ok(os.Mkdir(e.path("d"), 0o755))
		e.want("link a directory", syscall.Link(e.path("d"), e.path("d2")), syscall.EPERM)
		e.want("link into missing directory", syscall.Link(a, e.path("missing", "x")), syscall.ENOENT)
		e.ok(os.Remove(a))
		if st := e.stat(b); st.Nlink != 1 {
			e.t.Errorf("nlink after removing one name = %d, want 1", st.Nlink)
		}
		if got := string(e.readFile(b)); got != "x" {
			e.t.Errorf("content through remaining link = %q", got)
		}
	}},
	{"LinkLimit", func(e *env) {
		if e.opts.MaxLinks == 0 {
			e.t.Skip("Options.MaxLinks not set")
		}
		f := e.writeFile("f", nil)
		for i := 2; i <= e.opts.MaxLinks; i++ {
			e.ok(os.Link(f, e.path(fmt.Sprint("l", i))))
		}
		if st := e.stat(f); st.Nlink != uint64(e.opts.MaxLinks) {
			e.t.Errorf("nlink = %d, want %d", st.Nlink, e.opts.MaxLinks)
		}
		e.want("link past the limit", syscall.Link(f, e.path("one-too-many")), syscall.EMLINK)
	}},
	{"Symlinks", func(e *env) {
		target := e.writeFile("target", []byte("data"))
		l := e.path("l")
		e.ok(os.Symlink("target", l))
		if got, err := os.Readlink(l); got != "target" || err != nil {
			e.t.Errorf("Readlink = %q, %v", got, err)
		}
		if st := e.lstat(l); st.Mode&syscall.S_IFMT != syscall.S_IFLNK || st.Size != int64(len("target")) {
			e.t.Errorf("lstat symlink: mode %o size %d", st.Mode, st.Size)
		}
		if st := e.stat(l); st.Ino != e.stat(target).Ino {
			e.t.Errorf("stat does not follow the symlink")
		}
		if got := string(e.readFile(l)); got != "data" {
			e.t.Errorf("read through symlink = %q", got)
		}
		e.want("symlink onto existing name", syscall.Symlink("x", l), syscall.EEXIST)
		e.want("readlink of a file", readlinkErr(target), syscall.EINVAL)
		e.ok(os.Symlink("nowhere", e.path("dangling")))
		e.want("stat dangling symlink", syscall.Stat(e.path("dangling"), new(syscall.Stat_t)), syscall.ENOENT)
		e.ok(os.Symlink("loop2", e.path("loop1")))
		e.ok(os.Symlink("loop1", e.path("loop2")))
		e.want("open symlink loop", openErr(e.path("loop1"), syscall.O_RDONLY), syscall.ELOOP)
		e.want("O_NOFOLLOW on symlink", openErr(l, syscall.O_RDONLY|syscall.O_NOFOLLOW), syscall.ELOOP)
		e.ok(os.Mkdir(e.path("dir"), 0o755))
		e.ok(os.Symlink("dir", e.path("dirlink")))
		e.writeFile("dirlink/inside", []byte("y"))
		if got := string(e.readFile(e.path("dir", "inside"))); got != "y" {
			e.t.Errorf("file created through a directory symlink: %q", got)
		}
		e.ok(os.Symlink("../target", e.path("dir", "up")))
		if got := string(e.readFile(e.path("dir", "up"))); got != "data" {
			e.t.Errorf("relative symlink with ..: %q", got)
		}
		e.ok(os.Remove(l))
		if _, err := os.Stat(target); err != nil {
			e.t.Errorf("removing the symlink removed the target: %v", err)
		}
	}},
}

func readlinkErr(p string) error {
	_, err := syscall.Readlink(p, make([]byte, 64))
	return err
}

func openErr(p string, flags int) error {
	fd, err := syscall.Open(p, flags, 0)
	if err == nil {
		syscall.Close(fd)
	}
	return err
}
