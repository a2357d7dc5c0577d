package posixtest

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// Identities used by the permission cases. Group 2000 is shared: carol has
// it as her primary group, alice as a supplementary one.
var (
	alice = &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{1000, 2000}}
	bob   = &syscall.Credential{Uid: 1001, Gid: 1001, Groups: []uint32{1001}}
	carol = &syscall.Credential{Uid: 1002, Gid: 2000, Groups: []uint32{2000}}
)

// opScript performs one operation and prints "OK" (with any result) or the
// errno's name.
const opScript = `
import errno, os, sys
op, a = sys.argv[1], sys.argv[2:]
out = ""
try:
    if op == "read":
        open(a[0], "rb").read()
    elif op == "write":
        os.close(os.open(a[0], os.O_WRONLY))
    elif op == "create":
        fd = os.open(a[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.close(fd)
        st = os.stat(a[0])
        out = "%d %o" % (st.st_gid, st.st_mode)
    elif op == "mkdir":
        os.mkdir(a[0], 0o755)
        st = os.stat(a[0])
        out = "%d %o" % (st.st_gid, st.st_mode)
    elif op == "stat":
        os.stat(a[0])
    elif op == "list":
        os.listdir(a[0])
    elif op == "unlink":
        os.unlink(a[0])
    elif op == "rmdir":
        os.rmdir(a[0])
    elif op == "rename":
        os.rename(a[0], a[1])
    elif op == "chmod":
        os.chmod(a[0], int(a[1], 8))
        out = "%o" % os.stat(a[0]).st_mode
    elif op == "chown":
        os.chown(a[0], int(a[1]), int(a[2]))
    elif op == "touch":
        os.utime(a[0])
    elif op == "settime":
        os.utime(a[0], ns=(10**9, 10**9))
    elif op == "truncate":
        os.truncate(a[0], 0)
    elif op == "access":
        if not os.access(a[0], int(a[1])):
            raise OSError(errno.EACCES, "access")
    elif op == "setxattr":
        os.setxattr(a[0], a[1], b"v")
    elif op == "link":
        os.link(a[0], a[1])
    elif op == "write_clears_suid":
        fd = os.open(a[0], os.O_WRONLY)
        os.write(fd, b"x")
        os.close(fd)
        out = "%o" % os.stat(a[0]).st_mode
    else:
        raise SystemExit("unknown op " + op)
    print(("OK " + out).strip())
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
`

// python runs a script in a child process with the given credentials (nil:
// this process's) and returns its output without the trailing newline.
func (e *env) python(cred *syscall.Credential, script string, args ...string) string {
	e.t.Helper()
	if _, err := os.Stat(e.opts.Python); err != nil {
		e.t.Skipf("needs %s for child processes: %v", e.opts.Python, err)
	}
	if cred != nil && os.Geteuid() != 0 {
		e.t.Skip("needs root to run checks as other users")
	}
	cmd := exec.Command(e.opts.Python, append([]string{"-c", script}, args...)...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8"}
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("python %s: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// as runs op as cred and checks the outcome: "OK", "OK <output>" or an
// errno name.
func (e *env) as(cred *syscall.Credential, want string, op string, args ...string) {
	e.t.Helper()
	got := e.python(cred, opScript, append([]string{op}, args...)...)
	if got != want {
		e.t.Errorf("%s as uid %d: %s %s = %s, want %s", op, cred.Uid, op, strings.Join(args, " "), got, want)
	}
}

// own creates a file or directory as root with the given owner and mode.
func (e *env) own(name string, dir bool, uid, gid int, mode uint32) string {
	e.t.Helper()
	p := e.path(name)
	if dir {
		e.ok(os.Mkdir(p, 0o700))
	} else {
		e.ok(os.WriteFile(p, []byte("content"), 0o600))
	}
	e.ok(os.Chown(p, uid, gid))
	e.ok(syscall.Chmod(p, mode)) // os.Chmod would drop the sticky and setgid bits
	return p
}

var permCases = []testCase{
	{"PermissionClasses", func(e *env) {
		e.needRoot()
		f600 := e.own("f600", false, 1000, 1000, 0o600)
		f640 := e.own("f640", false, 0, 2000, 0o640)
		f604 := e.own("f604", false, 0, 2000, 0o604)
		f060 := e.own("f060", false, 0, 2000, 0o060)
		for _, c := range []struct {
			who  *syscall.Credential
			op   string
			path string
			want string
		}{
			{alice, "read", f600, "OK"},
			{alice, "write", f600, "OK"},
			{bob, "read", f600, "EACCES"},
			{bob, "write", f600, "EACCES"},
			{carol, "read", f640, "OK"},      // primary group
			{carol, "write", f640, "EACCES"}, // group has no w
			{alice, "read", f640, "OK"},      // supplementary group
			{bob, "read", f640, "EACCES"},    // other has nothing
			{bob, "read", f604, "OK"},        // other r
			{carol, "read", f604, "EACCES"},  // group class wins over other
			{alice, "write", f060, "OK"},     // supplementary group rw
			{bob, "write", f060, "EACCES"},
			{bob, "truncate", f600, "EACCES"},
		} {
			e.as(c.who, c.want, c.op, c.path)
		}
		e.as(bob, "EACCES", "access", f600, "4")
		e.as(alice, "OK", "access", f600, "6")
		e.as(alice, "EACCES", "access", f600, "1")
	}},
	{"DirectoryPermissions", func(e *env) {
		e.needRoot()
		d700 := e.own("d700", true, 1000, 1000, 0o700)
		e.ok(os.WriteFile(d700+"/child", nil, 0o644))
		d755 := e.own("d755", true, 1000, 1000, 0o755)
		d711 := e.own("d711", true, 1000, 1000, 0o711)
		e.ok(os.WriteFile(d711+"/known", nil, 0o644))
		e.as(alice, "OK", "stat", d700+"/child")
		e.as(bob, "EACCES", "stat", d700+"/child")
		e.as(bob, "EACCES", "list", d700)
		e.as(bob, "EACCES", "create", d755+"/new")
		e.as(bob, "EACCES", "mkdir", d755+"/newdir")
		e.as(alice, "OK 1000 100644", "create", d755+"/new")
		e.as(bob, "EACCES", "unlink", d755+"/new")
		e.as(bob, "EACCES", "rename", d755+"/new", e.path("stolen"))
		e.as(bob, "OK", "stat", d711+"/known") // search without read
		e.as(bob, "EACCES", "list", d711)
		e.as(alice, "OK", "unlink", d755+"/new")
	}},
	{"OwnerOnlyOperations", func(e *env) {
		e.needRoot()
		f := e.own("f", false, 1000, 1000, 0o644)
		shared := e.own("shared", false, 1000, 1000, 0o666)
		e.as(bob, "EPERM", "chmod", f, "777")
		e.as(alice, "OK 100600", "chmod", f, "600")
		e.as(alice, "EPERM", "chown", f, "1001", "-1")
		e.as(alice, "OK", "chown", f, "-1", "2000")    // a group she is in
		e.as(alice, "EPERM", "chown", f, "-1", "1001") // one she is not
		e.as(bob, "OK", "touch", shared)               // UTIME_NOW needs write permission only
		e.as(bob, "EPERM", "settime", shared)          // explicit times need ownership
		e.as(bob, "EACCES", "touch", f)
		e.as(alice, "OK", "settime", f)
		if st := e.stat(f); st.Mtim.Sec != 1 {
			e.t.Errorf("mtime set by owner = %d, want 1", st.Mtim.Sec)
		}
	}},
	{"StickyDirectory", func(e *env) {
		e.needRoot()
		tmp := e.own("tmp", true, 0, 0, 0o1777)
		e.as(alice, "OK 1000 100644", "create", tmp+"/a")
		e.as(bob, "EPERM", "unlink", tmp+"/a")
		e.as(bob, "EPERM", "rename", tmp+"/a", tmp+"/b")
		e.as(bob, "OK 1001 100644", "create", tmp+"/b")
		e.as(alice, "EPERM", "rename", tmp+"/a", tmp+"/b") // cannot replace bob's file
		e.as(alice, "OK", "rename", tmp+"/a", tmp+"/c")
		e.as(alice, "OK", "unlink", tmp+"/c")
	}},
	{"SetgidInheritance", func(e *env) {
		e.needRoot()
		d := e.own("d", true, 0, 2000, 0o2777)
		e.as(alice, "OK 2000 100644", "create", d+"/f")
		e.as(bob, "OK 2000 42755", "mkdir", d+"/sub")
		plain := e.own("plain", true, 0, 2000, 0o777)
		e.as(bob, "OK 1001 100644", "create", plain+"/f")
	}},
	{"WriteClearsSetuid", func(e *env) {
		e.needRoot()
		f := e.own("f", false, 1000, 1000, 0o6777)
		e.as(bob, "OK 100777", "write_clears_suid", f)
	}},
}
