//go:build linux

package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The init's spec arrives on fd 3, a datagram socket; it reports on fd 4.
const (
	specFD   = 3
	statusFD = 4
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == InitCommand {
		// Keep the main goroutine on the main thread: the capability
		// bounding set, no_new_privs and the parent-death signal are
		// per-thread, and the handler is forked from this thread.
		runtime.LockOSThread()
	}
}

// MaybeRunInit runs the sandbox init and exits when the program was started
// as one (argv[1] == InitCommand); otherwise it returns at once. The
// program's main must call it first thing.
func MaybeRunInit() {
	if len(os.Args) < 2 || os.Args[1] != InitCommand {
		return
	}
	os.Exit(runInit())
}

// runInit is the init: PID 1 of the sandbox's PID namespace, in fresh mount,
// IPC and UTS namespaces, still root. It builds the file system, drops
// privileges, starts the handler, forwards signals to it, reaps every
// process and reports the handler's wait status.
func runInit() int {
	_ = unix.SetNonblock(statusFD, false)
	syscall.CloseOnExec(specFD)
	syscall.CloseOnExec(statusFD)
	status := os.NewFile(statusFD, "status")
	report := func(m initMsg) error {
		b, _ := json.Marshal(m)
		_, err := status.Write(append(b, '\n'))
		return err
	}
	fail := func(err error) int {
		_ = report(initMsg{Err: err.Error()})
		return 127
	}

	is, trees, err := receiveSpec()
	if err != nil {
		return fail(err)
	}

	lastCap, err := capLastCap()
	if err != nil {
		return fail(err)
	}
	if err := buildRoot(&is, trees); err != nil {
		return fail(err)
	}
	if err := unix.Sethostname([]byte(is.Hostname)); err != nil {
		return fail(fmt.Errorf("sethostname: %w", err))
	}
	if is.NetworkIsolated {
		if err := loopbackUp(); err != nil {
			return fail(err)
		}
	}
	// A session of its own, so the handler has no controlling terminal.
	_, _ = syscall.Setsid()

	// The handler is forked from this thread, which gives up every
	// capability for good first; it takes the sandbox user's ids between
	// fork and exec. The init itself becomes that user once the handler
	// is on its way, off the start-up path.
	if err := dropCapabilities(lastCap); err != nil {
		return fail(err)
	}
	argv0, err := lookPath(is.Argv[0], is.Env)
	if err != nil {
		return fail(err)
	}
	pid, err := syscall.ForkExec(argv0, is.Argv, &syscall.ProcAttr{
		Dir:   is.Dir,
		Env:   is.Env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: is.UID, Gid: is.GID, Groups: []uint32{}}},
	})
	if err != nil {
		return fail(fmt.Errorf("exec %q: %w", is.Argv[0], err))
	}
	// Nobody reads what the parent could not hear: a failed report means it
	// is gone, and so must the sandbox be.
	if report(initMsg{Started: true}) != nil {
		return 137
	}
	// The rest waits for no one: the main thread goes on to reap.
	go func(uid, gid uint32) {
		sigs := make(chan os.Signal, 16)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
		if err := becomeUser(uid, gid); err != nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return
		}
		debug.FreeOSMemory()
		for s := range sigs {
			_ = syscall.Kill(pid, s.(syscall.Signal))
		}
	}(is.UID, is.GID)
	is = initSpec{}

	ws := reap(pid)
	st := int(ws)
	_ = report(initMsg{Status: &st})
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// receiveSpec waits for the spec, and the handler's stdout and stderr with
// it, on the spec socket.
func receiveSpec() (initSpec, []int, error) {
	var is initSpec
	buf := make([]byte, 256<<10)
	oob := make([]byte, unix.CmsgSpace((2+2+maxMounts)*4))
	n, oobn, flags, _, err := unix.Recvmsg(specFD, buf, oob, unix.MSG_CMSG_CLOEXEC)
	for err == unix.EINTR {
		n, oobn, flags, _, err = unix.Recvmsg(specFD, buf, oob, unix.MSG_CMSG_CLOEXEC)
	}
	if err != nil {
		return is, nil, fmt.Errorf("receive spec: %w", err)
	}
	unix.Close(specFD)
	if n == 0 {
		return is, nil, errors.New("receive spec: no spec")
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		return is, nil, errors.New("receive spec: too large")
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(cmsgs) != 1 {
		return is, nil, fmt.Errorf("receive spec: no files: %v", err)
	}
	fds, err := unix.ParseUnixRights(&cmsgs[0])
	if err != nil || len(fds) < 2 {
		return is, nil, fmt.Errorf("receive spec: want at least 2 files, got %d: %v", len(fds), err)
	}
	for i, fd := range fds[:2] {
		if err := unix.Dup3(fd, 1+i, 0); err != nil {
			return is, nil, fmt.Errorf("receive spec: %w", err)
		}
		unix.Close(fd)
	}
	if err := json.Unmarshal(buf[:n], &is); err != nil {
		return is, nil, fmt.Errorf("receive spec: %w", err)
	}
	return is, fds[2:], nil
}

// reap reaps every child (orphans are re-parented to PID 1) until pid exits.
func reap(pid int) syscall.WaitStatus {
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return syscall.WaitStatus(127 << 8)
		}
		if wpid == pid {
			return ws
		}
	}
}

func capLastCap() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, fmt.Errorf("read cap_last_cap: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parse cap_last_cap: %w", err)
	}
	return n, nil
}

// dropCapabilities empties the calling thread's bounding, ambient and
// inheritable capability sets and sets no_new_privs, so nothing it starts
// can gain a capability, even as root.
func dropCapabilities(lastCap int) error {
	for c := 0; c <= lastCap; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}

// becomeUser makes the whole init the sandbox user; leaving uid 0 empties
// its permitted and effective capability sets.
func becomeUser(uid, gid uint32) error {
	if err := syscall.Setgroups([]int{}); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setresgid(int(gid), int(gid), int(gid)); err != nil {
		return fmt.Errorf("setresgid %d: %w", gid, err)
	}
	if err := syscall.Setresuid(int(uid), int(uid), int(uid)); err != nil {
		return fmt.Errorf("setresuid %d: %w", uid, err)
	}
	// Changing credentials cleared the parent-death signal.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set parent-death signal: %w", err)
	}
	return nil
}

// lookPath resolves name as execve would after a PATH search in env.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	p := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			p = v
		}
	}
	for dir := range strings.SplitSeq(p, ":") {
		if dir == "" {
			dir = "."
		}
		f := path.Join(dir, name)
		var st unix.Stat_t
		if unix.Stat(f, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && unix.Access(f, unix.X_OK) == nil {
			return f, nil
		}
	}
	return "", fmt.Errorf("exec %q: %w", name, fs.ErrNotExist)
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

// What goes at a path of the sandbox's file system instead of the root's
// own entry.
type mountKind int

const (
	kindProc  mountKind = iota // a proc of the sandbox's PID namespace
	kindDev                    // a tmpfs with the harmless device nodes
	kindSys                    // the host's /sys, read-only
	kindTmp                    // the private /tmp
	kindCode                   // the code, read-only
	kindEmpty                  // an empty directory (/mnt)
	kindBind                   // one of Spec.Mounts
)

type target struct {
	path string
	kind mountKind
	fd   int // the source, opened before anything is mounted over it
	ro   bool
}

// skeleton is where the new root is assembled before pivot_root. The root
// is opened first and reached through /proc/self/fd, and the other sources
// come as detached mount trees, so mounting over the host's /tmp here (in
// the sandbox's own mount namespace) hides none of them.
const skeleton = "/tmp"

// buildRoot assembles the sandbox's file system and makes it the root.
//
// The root is a small read-only tmpfs holding a read-only bind of each
// entry of Root, except where a target goes: each ancestor of a target
// becomes a real directory in the tmpfs (its other entries bound one by
// one), so mount points never have to be created in a host file system.
// The binds of Root's entries (and of /sys) are not recursive: whatever
// the host has mounted beneath them, such as other functions' file
// systems under a data directory or the cgroup hierarchies, stays out.
func buildRoot(is *initSpec, trees []int) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	rootFD, err := unix.Open(is.Root, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open root %q: %w", is.Root, err)
	}
	targets := []target{
		{path: "/proc", kind: kindProc, fd: -1},
		{path: "/dev", kind: kindDev, fd: -1},
		{path: "/sys", kind: kindSys, fd: -1},
		{path: "/tmp", kind: kindTmp, fd: -1},
		{path: "/var/task", kind: kindCode, fd: -1, ro: true},
		{path: "/mnt", kind: kindEmpty, fd: -1},
	}
	// The detached mount trees of TmpSource, the code and the Mounts come
	// in that order.
	next := func() (int, error) {
		if len(trees) == 0 {
			return -1, errors.New("missing mount tree")
		}
		fd := trees[0]
		trees = trees[1:]
		return fd, nil
	}
	if is.TmpSource != "" {
		if targets[3].fd, err = next(); err != nil {
			return err
		}
	}
	if is.Code != "" {
		if targets[4].fd, err = next(); err != nil {
			return err
		}
	}
	for _, m := range is.Mounts {
		fd, err := next()
		if err != nil {
			return err
		}
		targets = append(targets, target{path: path.Clean(m.Target), kind: kindBind, fd: fd, ro: m.ReadOnly})
	}
	slices.SortStableFunc(targets, func(a, b target) int { return strings.Compare(a.path, b.path) })

	isTarget := map[string]bool{}
	expanded := map[string]bool{}
	for _, t := range targets {
		isTarget[t.path] = true
		for d := path.Dir(t.path); d != "/"; d = path.Dir(d) {
			expanded[d] = true
		}
	}

	if err := unix.Mount("tarn-sandbox", skeleton, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755,size=1m"); err != nil {
		return fmt.Errorf("mount root tmpfs: %w", err)
	}
	if err := bindEntries(fdPath(rootFD, ""), "", isTarget, expanded); err != nil {
		return err
	}
	for i, t := range targets {
		for _, u := range targets[:i] {
			if isUnder(t.path, u.path) && u.kind != kindTmp && u.kind != kindEmpty {
				return fmt.Errorf("mount target %q lies inside %q", t.path, u.path)
			}
		}
		if err := mountTarget(is, t); err != nil {
			return err
		}
	}
	for _, t := range targets {
		if t.fd >= 0 {
			unix.Close(t.fd)
		}
	}
	unix.Close(rootFD)

	ro := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(unix.AT_FDCWD, skeleton, 0, ro); err != nil {
		return fmt.Errorf("make root read-only: %w", err)
	}
	if err := unix.Chdir(skeleton); err != nil {
		return fmt.Errorf("chdir new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

func fdPath(fd int, rel string) string { return "/proc/self/fd/" + strconv.Itoa(fd) + rel }

// bindEntries fills the skeleton directory rel from src, the same directory
// of the root, recursing into the ancestors of targets.
func bindEntries(src, rel string, isTarget, expanded map[string]bool) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("read root directory %q: %w", rel+"/", err)
	}
	for _, e := range entries {
		p := rel + "/" + e.Name()
		if isTarget[p] {
			continue
		}
		s, dst := src+"/"+e.Name(), skeleton+p
		switch {
		case e.IsDir() && expanded[p]:
			if err := os.Mkdir(dst, 0o755); err != nil {
				return err
			}
			if err := bindEntries(s, p, isTarget, expanded); err != nil {
				return err
			}
		case e.Type()&fs.ModeSymlink != 0:
			if expanded[p] {
				// A target lies beyond a symbolic link: the link gives
				// way to a real directory.
				continue
			}
			l, err := os.Readlink(s)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, dst); err != nil {
				return err
			}
		case e.IsDir():
			if err := os.Mkdir(dst, 0o755); err != nil {
				return err
			}
			if err := bind(s, dst, true, false); err != nil {
				return err
			}
		case e.Type().IsRegular():
			if err := touch(dst); err != nil {
				return err
			}
			if err := bind(s, dst, true, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// mountTarget mounts one target in the skeleton, creating its mount point.
func mountTarget(is *initSpec, t target) error {
	dst := skeleton + t.path
	if err := os.MkdirAll(path.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create mount point %q: %w", t.path, err)
	}
	isFile := false
	if t.fd >= 0 {
		var st unix.Stat_t
		if err := unix.Fstat(t.fd, &st); err != nil {
			return fmt.Errorf("stat source of %q: %w", t.path, err)
		}
		isFile = st.Mode&unix.S_IFMT != unix.S_IFDIR
	}
	var err error
	if isFile {
		err = touch(dst)
	} else {
		err = os.Mkdir(dst, 0o755)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create mount point %q: %w", t.path, err)
	}
	switch t.kind {
	case kindProc:
		err = unix.Mount("proc", dst, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	case kindDev:
		err = mountDev(dst)
	case kindSys:
		err = bind("/sys", dst, true, false)
	case kindTmp:
		if t.fd >= 0 {
			err = attach(t.fd, dst, false)
		} else {
			err = unix.Mount("tmpfs", dst, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV,
				"mode=1777,size="+strconv.FormatInt(is.TmpSize, 10))
		}
	case kindEmpty:
	default:
		if t.fd >= 0 {
			err = attach(t.fd, dst, t.ro)
		}
	}
	if err != nil {
		return fmt.Errorf("mount %q: %w", t.path, err)
	}
	return nil
}

// mountDev makes a minimal /dev: null, zero, full, random, urandom and tty,
// and the usual links.
func mountDev(dst string) error {
	if err := unix.Mount("tarn-dev", dst, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=64k"); err != nil {
		return err
	}
	for _, d := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}} {
		if err := unix.Mknod(dst+"/"+d.name, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("mknod /dev/%s: %w", d.name, err)
		}
		if err := unix.Chmod(dst+"/"+d.name, 0o666); err != nil { // past the umask
			return fmt.Errorf("chmod /dev/%s: %w", d.name, err)
		}
	}
	for n, l := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(l, dst+"/"+n); err != nil {
			return err
		}
	}
	return unix.MountSetattr(unix.AT_FDCWD, dst, 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
}

// bind bind-mounts src at dst, nosuid, and read-only when ro. With rec,
// the mounts beneath src come along; without, they are left out.
func bind(src, dst string, ro, rec bool) error {
	flags, at := uintptr(unix.MS_BIND), uint(0)
	if rec {
		flags |= unix.MS_REC
		at = unix.AT_RECURSIVE
	}
	if err := unix.Mount(src, dst, "", flags, ""); err != nil {
		return fmt.Errorf("bind %q: %w", dst, err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID}
	if ro {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
	}
	if err := unix.MountSetattr(unix.AT_FDCWD, dst, at, attr); err != nil {
		return fmt.Errorf("bind %q: %w", dst, err)
	}
	return nil
}

// attach mounts the detached mount tree tree (from open_tree in the
// parent, whose mount table may have changed since this init was started)
// at dst, nosuid, and read-only when ro.
func attach(tree int, dst string, ro bool) error {
	if err := unix.MoveMount(tree, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("attach %q: %w", dst, err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID}
	if ro {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
	}
	if err := unix.MountSetattr(unix.AT_FDCWD, dst, unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("attach %q: %w", dst, err)
	}
	return nil
}

func touch(name string) error {
	fd, err := unix.Open(name, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create %q: %w", name, err)
	}
	return unix.Close(fd)
}
