package fuse_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tarn.dev/tarn/internal/fuse"
)

// holderScript locks a file in a child process ("flock": LOCK_EX on the
// whole file; "posix": F_SETLKW write lock on bytes 0..99), prints
// "locked" and holds the lock until stdin closes.
const holderScript = `
import fcntl, os, sys
p, kind = sys.argv[1], sys.argv[2]
fd = os.open(p, os.O_RDWR)
if kind == "flock":
    fcntl.flock(fd, fcntl.LOCK_EX)
else:
    fcntl.lockf(fd, fcntl.LOCK_EX, 100, 0, 0)
print("locked", flush=True)
sys.stdin.read()
`

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startHolder starts a child that locks path; it returns once the child
// holds the lock if wait is set.
func startHolder(t *testing.T, path, kind string, wait bool) *child {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3 for lock-holding child processes")
	}
	cmd := exec.Command("/usr/bin/python3", "-c", holderScript, path, kind)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if wait {
		c.waitLocked(t)
	}
	return c
}

func (c *child) waitLocked(t *testing.T) {
	t.Helper()
	line, err := c.out.ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("lock holder said %q, %v", line, err)
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// waitFor polls the lock table (not the file system) until cond holds:
// it observes a waiter queued in the server.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 2000 {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func openRW(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// twoMounts mounts one file system twice and creates a file "f" in it.
func twoMounts(t *testing.T) (w *world, a, b *fuse.Server, ino uint64) {
	w = newWorld(t)
	a, b = w.mount(fuse.Options{}), w.mount(fuse.Options{})
	if err := os.WriteFile(filepath.Join(a.Dir(), "f"), []byte("data"), 0o666); err != nil {
		t.Fatal(err)
	}
	return w, a, b, inode(t, filepath.Join(a.Dir(), "f"))
}

func TestFlockAcrossMounts(t *testing.T) {
	for _, release := range []string{"close", "SIGKILL"} {
		t.Run(release, func(t *testing.T) {
			w, a, b, ino := twoMounts(t)
			h := startHolder(t, filepath.Join(a.Dir(), "f"), "flock", true)
			f := openRW(t, filepath.Join(b.Dir(), "f"))
			if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
				t.Fatalf("flock LOCK_NB through the other mount = %v, want EWOULDBLOCK", err)
			}
			if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
				t.Fatalf("shared flock LOCK_NB = %v, want EWOULDBLOCK", err)
			}
			done := make(chan error, 1)
			go func() { done <- unix.Flock(int(f.Fd()), unix.LOCK_EX) }()
			waitFor(t, "the blocked flock to queue", func() bool { return w.locks.Waiting(ino) == 1 })
			select {
			case err := <-done:
				t.Fatalf("blocking flock returned %v while the holder lives", err)
			default:
			}
			if release == "close" {
				h.stdin.Close()
			} else {
				h.cmd.Process.Signal(syscall.SIGKILL)
			}
			if err := <-done; err != nil {
				t.Fatalf("blocking flock after the holder went = %v", err)
			}
			if n := w.locks.Held(ino); n != 1 {
				t.Errorf("lock records = %d, want 1 (ours)", n)
			}
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			if n := w.locks.Held(ino); n != 0 {
				t.Errorf("lock records after LOCK_UN = %d, want 0", n)
			}
		})
	}
}

func TestPOSIXLocksAcrossMounts(t *testing.T) {
	w, a, b, ino := twoMounts(t)
	h := startHolder(t, filepath.Join(a.Dir(), "f"), "posix", true)
	f := openRW(t, filepath.Join(b.Dir(), "f"))
	fd := int(f.Fd())

	probe := unix.Flock_t{Type: unix.F_WRLCK, Start: 50, Len: 0}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &probe); err != nil {
		t.Fatal(err)
	}
	if probe.Type != unix.F_WRLCK || probe.Start != 0 || probe.Len != 100 || probe.Pid != int32(h.cmd.Process.Pid) {
		t.Errorf("F_GETLK = type %d [%d,+%d) pid %d, want write [0,+100) pid %d",
			probe.Type, probe.Start, probe.Len, probe.Pid, h.cmd.Process.Pid)
	}
	for _, c := range []struct {
		what       string
		start, len int64
		typ        int16
		want       error
	}{
		{"overlapping write lock", 50, 10, unix.F_WRLCK, unix.EAGAIN},
		{"overlapping read lock", 99, 1, unix.F_RDLCK, unix.EAGAIN},
		{"lock to EOF over the range", 0, 0, unix.F_RDLCK, unix.EAGAIN},
		{"disjoint write lock", 100, 50, unix.F_WRLCK, nil},
	} {
		lk := unix.Flock_t{Type: c.typ, Start: c.start, Len: c.len}
		if err := unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk); !errors.Is(err, c.want) && err != c.want {
			t.Errorf("F_SETLK %s = %v, want %v", c.what, err, c.want)
		}
	}
	free := unix.Flock_t{Type: unix.F_WRLCK, Start: 1000, Len: 10}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &free); err != nil || free.Type != unix.F_UNLCK {
		t.Errorf("F_GETLK on a free range = type %d, %v, want F_UNLCK", free.Type, err)
	}

	done := make(chan error, 1)
	go func() {
		lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 0, Len: 100}
		done <- unix.FcntlFlock(uintptr(fd), unix.F_SETLKW, &lk)
	}()
	waitFor(t, "the blocked F_SETLKW to queue", func() bool { return w.locks.Waiting(ino) == 1 })
	h.cmd.Process.Signal(syscall.SIGKILL)
	if err := <-done; err != nil {
		t.Fatalf("F_SETLKW after the holder was killed = %v", err)
	}
	f.Close() // FLUSH drops this process's locks
	if n := w.locks.Held(ino); n != 0 {
		t.Errorf("lock records after close = %d, want 0", n)
	}
}

// A waiter killed while blocked in F_SETLKW is interrupted: it dies
// instead of hanging, and leaves the wait queue.
func TestKilledWaiterLeavesQueue(t *testing.T) {
	w, a, b, ino := twoMounts(t)
	f := openRW(t, filepath.Join(b.Dir(), "f"))
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 0, Len: 100}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	h := startHolder(t, filepath.Join(a.Dir(), "f"), "posix", false)
	waitFor(t, "the child to queue", func() bool { return w.locks.Waiting(ino) == 1 })
	h.cmd.Process.Signal(syscall.SIGKILL)
	h.cmd.Wait()
	waitFor(t, "the killed waiter to leave the queue", func() bool { return w.locks.Waiting(ino) == 0 })
	if n := w.locks.Held(ino); n != 1 {
		t.Errorf("lock records = %d, want 1 (ours)", n)
	}
}
