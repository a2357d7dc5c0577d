package posixtest

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

var attrCases = []testCase{
	{"ChmodChown", func(e *env) {
		f := e.writeFile("f", nil)
		for _, mode := range []uint32{0o600, 0o7777, 0o1755, 0} {
			e.ok(syscall.Chmod(f, mode))
			if st := e.stat(f); st.Mode&0o7777 != mode {
				e.t.Errorf("chmod %o: mode %o", mode, st.Mode&0o7777)
			}
		}
		ctime := e.stat(f).Ctim
		time.Sleep(10 * time.Millisecond) // ctime must advance on a coarse clock
		e.ok(syscall.Chmod(f, 0o644))
		if st := e.stat(f); !after(st.Ctim, ctime) {
			e.t.Errorf("chmod did not advance ctime")
		}
		e.needRoot()
		e.ok(os.Lchown(f, 1234, 5678))
		if st := e.stat(f); st.Uid != 1234 || st.Gid != 5678 {
			e.t.Errorf("chown: owner %d:%d, want 1234:5678", st.Uid, st.Gid)
		}
		e.ok(syscall.Chmod(f, 0o6755))
		e.ok(os.Lchown(f, 1234, -1))
		if st := e.stat(f); st.Mode&(syscall.S_ISUID) != 0 {
			e.t.Errorf("chown kept the setuid bit: mode %o", st.Mode)
		}
		l := e.path("l")
		e.ok(os.Symlink("f", l))
		e.ok(os.Lchown(l, 42, 43))
		if st := e.lstat(l); st.Uid != 42 || st.Gid != 43 {
			e.t.Errorf("lchown of symlink: %d:%d", st.Uid, st.Gid)
		}
		if st := e.stat(f); st.Uid != 1234 {
			e.t.Errorf("lchown followed the symlink")
		}
	}},
	{"Times", func(e *env) {
		f := e.writeFile("f", nil)
		ts := []unix.Timespec{{Sec: 1000000000, Nsec: 123456789}, {Sec: 1500000000, Nsec: 987654321}}
		e.ok(unix.UtimesNanoAt(unix.AT_FDCWD, f, ts, 0))
		st := e.stat(f)
		if st.Atim != syscall.Timespec(ts[0]) || st.Mtim != syscall.Timespec(ts[1]) {
			e.t.Errorf("utimensat: atime %v mtime %v, want %v %v", st.Atim, st.Mtim, ts[0], ts[1])
		}
		omit := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Sec: 2000000000, Nsec: 5}}
		e.ok(unix.UtimesNanoAt(unix.AT_FDCWD, f, omit, 0))
		st = e.stat(f)
		if st.Atim != syscall.Timespec(ts[0]) || st.Mtim != (syscall.Timespec{Sec: 2000000000, Nsec: 5}) {
			e.t.Errorf("UTIME_OMIT: atime %v mtime %v", st.Atim, st.Mtim)
		}
		start := time.Now().Add(-2 * time.Second)
		now := []unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_NOW}}
		e.ok(unix.UtimesNanoAt(unix.AT_FDCWD, f, now, 0))
		st = e.stat(f)
		if t := time.Unix(st.Mtim.Unix()); t.Before(start) {
			e.t.Errorf("UTIME_NOW set mtime %v, before %v", t, start)
		}
		e.ok(unix.UtimesNanoAt(unix.AT_FDCWD, f, ts, 0))
		before := e.stat(f)
		time.Sleep(10 * time.Millisecond)
		e.ok(os.WriteFile(f, []byte("x"), 0))
		st = e.stat(f)
		if !after(st.Mtim, before.Mtim) || !after(st.Ctim, before.Ctim) {
			e.t.Errorf("write did not advance mtime and ctime")
		}
		e.ok(os.Mkdir(e.path("d"), 0o755))
		before = e.stat(e.path("d"))
		time.Sleep(10 * time.Millisecond)
		e.writeFile("d/new", nil)
		if st := e.stat(e.path("d")); !after(st.Mtim, before.Mtim) {
			e.t.Errorf("creating an entry did not advance the directory's mtime")
		}
		l := e.path("l")
		e.ok(os.Symlink("f", l))
		e.ok(unix.UtimesNanoAt(unix.AT_FDCWD, l, []unix.Timespec{{Sec: 7}, {Sec: 8}}, unix.AT_SYMLINK_NOFOLLOW))
		if st := e.lstat(l); st.Mtim.Sec != 8 {
			e.t.Errorf("utimensat AT_SYMLINK_NOFOLLOW: symlink mtime %d, want 8", st.Mtim.Sec)
		}
	}},
	{"Xattrs", func(e *env) {
		if e.opts.NoXattrs {
			e.t.Skip("Options.NoXattrs")
		}
		f := e.writeFile("f", nil)
		e.ok(unix.Setxattr(f, "user.a", []byte("alpha"), 0))
		e.ok(unix.Setxattr(f, "user.b", nil, 0))
		buf := make([]byte, 64)
		n, err := unix.Getxattr(f, "user.a", buf)
		if err != nil || string(buf[:n]) != "alpha" {
			e.t.Errorf("getxattr = %q, %v", buf[:n], err)
		}
		n, err = unix.Getxattr(f, "user.a", nil)
		if err != nil || n != 5 {
			e.t.Errorf("getxattr size query = %d, %v, want 5", n, err)
		}
		_, err = unix.Getxattr(f, "user.a", make([]byte, 2))
		e.want("getxattr into a small buffer", err, syscall.ERANGE)
		n, err = unix.Getxattr(f, "user.b", buf)
		if err != nil || n != 0 {
			e.t.Errorf("empty xattr = %d, %v", n, err)
		}
		_, err = unix.Getxattr(f, "user.missing", buf)
		e.want("getxattr missing", err, syscall.ENODATA)
		e.want("XATTR_CREATE on existing", unix.Setxattr(f, "user.a", []byte("x"), unix.XATTR_CREATE), syscall.EEXIST)
		e.want("XATTR_REPLACE on missing", unix.Setxattr(f, "user.c", []byte("x"), unix.XATTR_REPLACE), syscall.ENODATA)
		e.ok(unix.Setxattr(f, "user.a", []byte("beta"), unix.XATTR_REPLACE))
		n, _ = unix.Getxattr(f, "user.a", buf)
		if string(buf[:n]) != "beta" {
			e.t.Errorf("after replace: %q", buf[:n])
		}
		n, err = unix.Listxattr(f, buf)
		e.ok(err)
		var names []string
		for _, s := range strings.Split(string(bytes.TrimRight(buf[:n], "\x00")), "\x00") {
			if strings.HasPrefix(s, "user.") {
				names = append(names, s)
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"user.a", "user.b"}) {
			e.t.Errorf("listxattr = %q", names)
		}
		e.ok(unix.Removexattr(f, "user.b"))
		e.want("removexattr missing", unix.Removexattr(f, "user.b"), syscall.ENODATA)
		e.want("getxattr on missing file", errOnly(unix.Getxattr(e.path("missing"), "user.a", buf)), syscall.ENOENT)
		e.ok(os.Mkdir(e.path("d"), 0o755))
		e.ok(unix.Setxattr(e.path("d"), "user.dir", []byte("1"), 0))
	}},
	{"Statfs", func(e *env) {
		var st unix.Statfs_t
		e.ok(unix.Statfs(e.dir, &st))
		if st.Namelen != int64(e.opts.NameMax) {
			e.t.Errorf("statfs namelen = %d, want %d", st.Namelen, e.opts.NameMax)
		}
		if st.Bsize <= 0 || st.Blocks == 0 || st.Bfree > st.Blocks || st.Bavail > st.Blocks || st.Files == 0 {
			e.t.Errorf("statfs reports nonsense: %+v", st)
		}
	}},
}

func after(a, b syscall.Timespec) bool {
	return a.Sec > b.Sec || a.Sec == b.Sec && a.Nsec > b.Nsec
}

func errOnly(_ int, err error) error { return err }

func (e *env) needRoot() {
	e.t.Helper()
	if os.Geteuid() != 0 {
		e.t.Skip("needs root")
	}
}
