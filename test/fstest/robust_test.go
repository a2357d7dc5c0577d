package fsrobust

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tarn.dev/tarn/internal/vfs"
)

// TestConcurrentDirectoryRenamesKeepOneTree has goroutines on two mounts
// rename directories into each other at random for a while. Renames that
// would create a cycle must fail (EINVAL), others may fail only because a
// path went stale (ENOENT, or ESTALE: the kernel gives up when a directory
// it finds has moved elsewhere in its cache while it holds the rename lock
// of that mount, as on NFS); afterwards every directory must sit exactly once
// in one tree under the root with its file, link counts must match and
// fsck must be clean.
func TestConcurrentDirectoryRenamesKeepOneTree(t *testing.T) {
	needFUSE(t)
	seed := testSeed(t)
	svc := newService(t, "")
	mounts := []string{svc.mount(t, false), svc.mount(t, false)}
	const dirs, workers = 10, 4
	attempts := 150
	if testing.Short() {
		attempts = 50
	}
	for i := range dirs {
		d := filepath.Join(mounts[0], fmt.Sprintf("d%d", i))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%d", i)), []byte(strconv.Itoa(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// walk descends from root to a random directory (maybe root itself).
	walk := func(rng *rand.Rand, root string) string {
		p := root
		for depth := 0; depth < 12 && (p == root || rng.Intn(3) != 0); depth++ {
			ents, err := os.ReadDir(p)
			if err != nil {
				return p // went stale under us: the rename will tell
			}
			var subs []string
			for _, de := range ents {
				if de.IsDir() {
					subs = append(subs, de.Name())
				}
			}
			if len(subs) == 0 {
				break
			}
			p = filepath.Join(p, subs[rng.Intn(len(subs))])
		}
		return p
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		outcomes  = map[string]int{}
		unexpects []string
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed + int64(w)))
			mp := mounts[w%len(mounts)]
			for range attempts {
				src := walk(rng, mp)
				if src == mp {
					continue
				}
				dst := filepath.Join(walk(rng, mp), filepath.Base(src))
				err := syscall.Rename(src, dst)
				e := errnoOf(err)
				mu.Lock()
				outcomes[e.Error()]++
				switch e {
				case 0, syscall.ENOENT, syscall.EINVAL, syscall.ESTALE:
				default:
					unexpects = append(unexpects, fmt.Sprintf("rename %s %s: %v", src, dst, err))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("rename outcomes: %v", outcomes)
	if outcomes[syscall.Errno(0).Error()] == 0 {
		t.Errorf("no rename succeeded")
	}
	for _, u := range unexpects {
		t.Errorf("unexpected error: %s", u)
	}

	for _, mp := range mounts {
		seen := map[string]int{}
		var check func(p string, depth int)
		check = func(p string, depth int) {
			if depth > dirs+1 {
				t.Fatalf("%s is deeper than the number of directories: a cycle", p)
			}
			ents, err := os.ReadDir(p)
			if err != nil {
				t.Fatalf("readdir %s: %v", p, err)
			}
			subdirs := 0
			for _, de := range ents {
				full := filepath.Join(p, de.Name())
				if de.IsDir() {
					subdirs++
					seen[de.Name()]++
					i, _ := strconv.Atoi(strings.TrimPrefix(de.Name(), "d"))
					if b, err := os.ReadFile(filepath.Join(full, fmt.Sprintf("f%d", i))); err != nil || string(b) != strconv.Itoa(i) {
						t.Errorf("%s: its file reads %q, %v; want %q", full, b, err, strconv.Itoa(i))
					}
					check(full, depth+1)
				} else if depth == 0 || de.Name() != "f"+strings.TrimPrefix(filepath.Base(p), "d") {
					t.Errorf("unexpected file %s", full)
				}
			}
			var st syscall.Stat_t
			if err := syscall.Stat(p, &st); err != nil {
				t.Fatal(err)
			}
			if int(st.Nlink) != 2+subdirs {
				t.Errorf("%s has link count %d with %d subdirectories, want %d", p, st.Nlink, subdirs, 2+subdirs)
			}
		}
		check(mp, 0)
		for i := range dirs {
			if n := seen[fmt.Sprintf("d%d", i)]; n != 1 {
				t.Errorf("through %s: d%d found %d times, want once", mp, i, n)
			}
		}
	}
	svc.fsckClean(t)
}

// TestInvalidNamesAreRefused checks name validation through the mount
// (what the kernel lets through) and on the file system itself (names the
// kernel never sends: with '/', NUL, empty): each is refused with the right
// error and leaves nothing behind.
func TestInvalidNamesAreRefused(t *testing.T) {
	needFUSE(t)
	svc := newService(t, "")
	mp := svc.mount(t, false)
	long := strings.Repeat("n", 256)
	max := strings.Repeat("m", 255)
	if err := os.WriteFile(filepath.Join(mp, "target"), []byte("t"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(mp, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mp, max), []byte("255"), 0o644); err != nil {
		t.Fatalf("create a 255-byte name: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(mp, max)); err != nil || string(b) != "255" {
		t.Errorf("read back the 255-byte name: %q, %v", b, err)
	}
	kernel := []struct {
		name string
		op   func() error
		want syscall.Errno
	}{
		{"create 256-byte name", func() error {
			fd, err := syscall.Open(filepath.Join(mp, long), syscall.O_CREAT|syscall.O_RDWR, 0o644)
			if err == nil {
				syscall.Close(fd)
			}
			return err
		}, syscall.ENAMETOOLONG},
		{"mkdir 256-byte name", func() error { return syscall.Mkdir(filepath.Join(mp, long), 0o755) }, syscall.ENAMETOOLONG},
		{"link to 256-byte name", func() error { return syscall.Link(filepath.Join(mp, "target"), filepath.Join(mp, long)) }, syscall.ENAMETOOLONG},
		{"rename to 256-byte name", func() error { return syscall.Rename(filepath.Join(mp, "target"), filepath.Join(mp, long)) }, syscall.ENAMETOOLONG},
		{"symlink at 256-byte name", func() error { return syscall.Symlink("target", filepath.Join(mp, long)) }, syscall.ENAMETOOLONG},
		{"stat 256-byte name", func() error { var st syscall.Stat_t; return syscall.Stat(filepath.Join(mp, long), &st) }, syscall.ENAMETOOLONG},
		{"open empty path", func() error { _, err := syscall.Open("", syscall.O_RDONLY, 0); return err }, syscall.ENOENT},
		{"create under a file", func() error { return os.WriteFile(filepath.Join(mp, "target", "x"), nil, 0o644) }, syscall.ENOTDIR},
		{"rmdir dot", func() error { return syscall.Rmdir(mp + "/dir/.") }, syscall.EINVAL},
		{"rmdir dot-dot", func() error { return syscall.Rmdir(mp + "/dir/..") }, syscall.ENOTEMPTY},
	}
	for _, c := range kernel {
		if got := errnoOf(c.op()); got != c.want {
			t.Errorf("%s through the mount: errno %v, want %v", c.name, got, c.want)
		}
	}

	ctx := context.Background()
	f, err := svc.FileSystem(ctx, testFS)
	if err != nil {
		t.Fatal(err)
	}
	target, err := f.Lookup(ctx, vfs.Root, vfs.RootIno, "target")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want error // nil: any error
	}{
		{"a/b", vfs.ErrInvalid},
		{"/", vfs.ErrInvalid},
		{"", vfs.ErrInvalid},
		{"nul\x00byte", vfs.ErrInvalid},
		{long, vfs.ErrNameTooLong},
		{".", nil},
		{"..", nil},
	} {
		ops := []struct {
			op string
			fn func() error
		}{
			{"create", func() error {
				_, h, err := f.Create(ctx, vfs.Root, vfs.RootIno, c.name, 0o644, os.O_RDWR|os.O_EXCL, 0)
				if err == nil {
					f.Release(ctx, h)
				}
				return err
			}},
			{"mkdir", func() error { _, err := f.Mkdir(ctx, vfs.Root, vfs.RootIno, c.name, 0o755, 0); return err }},
			{"mknod", func() error {
				_, err := f.Mknod(ctx, vfs.Root, vfs.RootIno, c.name, vfs.ModeFIFO|0o644, 0, 0)
				return err
			}},
			{"symlink", func() error { _, err := f.Symlink(ctx, vfs.Root, vfs.RootIno, c.name, "target"); return err }},
			{"link", func() error { _, err := f.Link(ctx, vfs.Root, target.Ino, vfs.RootIno, c.name); return err }},
			{"rename", func() error { return f.Rename(ctx, vfs.Root, vfs.RootIno, "target", vfs.RootIno, c.name, 0) }},
		}
		for _, o := range ops {
			err := o.fn()
			switch {
			case err == nil:
				t.Errorf("%s %q succeeded", o.op, c.name)
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("%s %q: %v, want %v", o.op, c.name, err, c.want)
			}
		}
	}
	ents, err := os.ReadDir(mp)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	if want := []string{"dir", max, "target"}; !slices.Equal(names, want) {
		t.Errorf("root after the refused names holds %d entries %.40q, want only dir, the 255-byte name and target", len(names), names)
	}
	svc.fsckClean(t)
}

// TestHugeOffsetsAreBounded writes and truncates at and around the largest
// file size (that of EFS, 47.9 TiB) and far beyond it: beyond fails with
// EFBIG and changes nothing, at the limit works as a sparse file, and a
// write across the limit is cut short.
func TestHugeOffsetsAreBounded(t *testing.T) {
	needFUSE(t)
	svc := newService(t, "")
	mp := svc.mount(t, false)
	p := filepath.Join(mp, "huge")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	const limit = vfs.MaxFileSize
	size := func() int64 {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		return st.Size
	}
	refused := []struct {
		name string
		op   func() error
		want syscall.Errno
	}{
		{"pwrite at 2^62", func() error { _, err := unix.Pwrite(fd, []byte("x"), 1<<62); return err }, syscall.EFBIG},
		{"pwrite at the limit", func() error { _, err := unix.Pwrite(fd, []byte("x"), limit); return err }, syscall.EFBIG},
		{"pwrite at 2^63-2", func() error { _, err := unix.Pwrite(fd, []byte("x"), 1<<63-2); return err }, syscall.EFBIG},
		{"pwrite at a negative offset", func() error { _, err := unix.Pwrite(fd, []byte("x"), -1); return err }, syscall.EINVAL},
		{"ftruncate to the limit plus one", func() error { return unix.Ftruncate(fd, limit+1) }, syscall.EFBIG},
		{"ftruncate to 2^62", func() error { return unix.Ftruncate(fd, 1<<62) }, syscall.EFBIG},
		{"fallocate across the limit", func() error { return unix.Fallocate(fd, 0, limit-10, 20) }, syscall.EFBIG},
	}
	for _, c := range refused {
		if got := errnoOf(c.op()); got != c.want {
			t.Errorf("%s: errno %v, want %v", c.name, got, c.want)
		}
		if s := size(); s != 0 {
			t.Fatalf("after %s the size is %d, want 0", c.name, s)
		}
	}
	if n, err := unix.Pwrite(fd, []byte("head"), 0); n != 4 || err != nil {
		t.Fatalf("pwrite at 0: %d, %v", n, err)
	}
	if n, err := unix.Pwrite(fd, []byte("z"), limit-1); n != 1 || err != nil {
		t.Fatalf("pwrite of the last byte below the limit: %d, %v", n, err)
	}
	if s := size(); s != limit {
		t.Errorf("size after writing the last byte = %d, want %d", s, int64(limit))
	}
	// A write across the limit writes what fits.
	if n, err := unix.Pwrite(fd, []byte("0123456789"), limit-4); n != 4 || err != nil {
		t.Errorf("pwrite of 10 bytes 4 below the limit: %d, %v; want 4 written", n, err)
	}
	reads := []struct {
		off  int64
		n    int
		want string
	}{
		{0, 4, "head"},
		{1 << 40, 8, "\x00\x00\x00\x00\x00\x00\x00\x00"}, // deep in the hole
		{limit - 6, 6, "\x00\x000123"},
		{limit, 4, ""},
		{1 << 62, 4, ""},
	}
	for _, r := range reads {
		buf := make([]byte, r.n)
		n, err := unix.Pread(fd, buf, r.off)
		if err != nil || string(buf[:n]) != r.want {
			t.Errorf("pread %d at %d: %q, %v; want %q", r.n, r.off, buf[:n], err, r.want)
		}
	}
	if off, err := f.Seek(0, io.SeekEnd); err != nil || off != limit {
		t.Errorf("seek to the end: %d, %v; want %d", off, err, int64(limit))
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Ftruncate(fd, 3); err != nil {
		t.Fatalf("truncate the huge file down: %v", err)
	}
	if err := unix.Ftruncate(fd, limit); err != nil {
		t.Fatalf("truncate up to the limit: %v", err)
	}
	buf := make([]byte, 8)
	if n, err := unix.Pread(fd, buf, 0); err != nil || string(buf[:n]) != "hea\x00\x00\x00\x00\x00" {
		t.Errorf("after truncating to 3 and up again: %q, %v", buf[:n], err)
	}
	if n, err := unix.Pread(fd, buf, limit-8); err != nil || n != 8 || string(buf) != strings.Repeat("\x00", 8) {
		t.Errorf("the old tail after truncating down and up: %q, %v; want zeros", buf[:n], err)
	}
	f.Close()
	svc.fsckClean(t)
	if st, err := os.Stat(filepath.Join(svc.mount(t, true), "huge")); err != nil || st.Size() != limit {
		t.Errorf("through a fresh mount: %v, %v; want size %d", st, err, int64(limit))
	}
}

// TestLocksOfKilledClientAreReleased has a child process take a flock and
// a POSIX write lock through one mount and get killed with SIGKILL while a
// second child waits for both locks through another mount: the waiter must
// get them, and once it has exited this process too.
func TestLocksOfKilledClientAreReleased(t *testing.T) {
	needFUSE(t)
	svc := newService(t, "")
	a, b := svc.mount(t, false), svc.mount(t, false)
	for _, n := range []string{"flock", "fcntl"} {
		if err := os.WriteFile(filepath.Join(a, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	holder, held := startLockChild(t, roleLockHold, filepath.Join(a, "flock"), filepath.Join(a, "fcntl"))
	if err := waitLine(held, "held", startTimeout); err != nil {
		t.Fatalf("holder: %v", err)
	}
	fl, err := os.OpenFile(filepath.Join(b, "flock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	fc, err := os.OpenFile(filepath.Join(b, "fcntl"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	tryLocks := func() (flockErr, fcntlErr error) {
		flockErr = unix.Flock(int(fl.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if flockErr == nil {
			unix.Flock(int(fl.Fd()), unix.LOCK_UN)
		}
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
		fcntlErr = unix.FcntlFlock(fc.Fd(), unix.F_SETLK, &lk)
		if fcntlErr == nil {
			lk.Type = unix.F_UNLCK
			unix.FcntlFlock(fc.Fd(), unix.F_SETLK, &lk)
		}
		return flockErr, fcntlErr
	}
	if e1, e2 := tryLocks(); errnoOf(e1) != syscall.EWOULDBLOCK || (errnoOf(e2) != syscall.EAGAIN && errnoOf(e2) != syscall.EACCES) {
		t.Fatalf("locks held by the child through another mount: flock %v, fcntl %v; want EWOULDBLOCK and EAGAIN", e1, e2)
	}
	waiter, got := startLockChild(t, roleLockWait, filepath.Join(b, "flock"), filepath.Join(b, "fcntl"))
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	holder.Wait()
	if err := waitLine(got, "got", deadMountTimeout); err != nil {
		t.Fatalf("waiter after the holder was killed: %v", err)
	}
	t.Logf("the waiter got both locks %v after the holder was killed", time.Since(killed).Round(time.Millisecond))
	waiter.Wait()
	// Once the waiter has exited too, the locks are free for anyone.
	deadline := time.Now().Add(deadMountTimeout)
	for {
		e1, e2 := tryLocks()
		if e1 == nil && e2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("locks still taken %v after every holder exited: flock %v, fcntl %v", deadMountTimeout, e1, e2)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(a, "flock")); err != nil {
		t.Fatal(err)
	}
}
