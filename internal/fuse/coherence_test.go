package fuse_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"tarn.dev/tarn/internal/fuse"
	"tarn.dev/tarn/internal/lock"
	"tarn.dev/tarn/internal/vfs"
)

// Writes through one mount are seen by the other as soon as the write
// returns, through a descriptor opened before the write (page cache) and
// through a fresh open (attribute cache), although both mounts cache for an
// hour.
func TestReadAfterWriteAcrossMounts(t *testing.T) {
	_, a, b, _ := twoMounts(t)
	pa, pb := filepath.Join(a.Dir(), "f"), filepath.Join(b.Dir(), "f")
	wf := openRW(t, pa)
	rf := openRW(t, pb)
	buf := make([]byte, 64<<10)
	for i := range 50 {
		want := bytes.Repeat([]byte{byte('a' + i%26)}, 1000+i*700)
		// Warm B's caches with the old contents first.
		rf.ReadAt(buf, 0)
		if _, err := os.Stat(pb); err != nil {
			t.Fatal(err)
		}
		if err := wf.Truncate(0); err != nil {
			t.Fatal(err)
		}
		if _, err := wf.WriteAt(want, 0); err != nil {
			t.Fatal(err)
		}
		n, _ := rf.ReadAt(buf, 0)
		if !bytes.Equal(buf[:n], want) {
			t.Fatalf("round %d: open descriptor on B read %d bytes %q..., want %d bytes of %q", i, n, buf[:min(n, 4)], len(want), want[:1])
		}
		got, err := os.ReadFile(pb)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("round %d: fresh read on B = %d bytes, %v, want %d", i, len(got), err, len(want))
		}
		st, err := os.Stat(pb)
		if err != nil || st.Size() != int64(len(want)) {
			t.Fatalf("round %d: stat on B = size %d, %v, want %d", i, st.Size(), err, len(want))
		}
	}
}

// Namespace changes through one mount are visible in the other at once.
func TestNamespaceChangesAcrossMounts(t *testing.T) {
	_, a, b := twoMountsEmpty(t)
	in := func(s *fuse.Server, names ...string) string {
		return filepath.Join(append([]string{s.Dir()}, names...)...)
	}
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	for i := range 20 {
		x, y := fmt.Sprint("x", i), fmt.Sprint("y", i)
		if exists(in(b, x)) {
			t.Fatalf("%s exists before it was created", x)
		}
		if err := os.WriteFile(in(a, x), []byte("1"), 0o644); err != nil {
			t.Fatal(err)
		}
		if !exists(in(b, x)) {
			t.Fatalf("created %s not visible through B", x)
		}
		if err := os.Rename(in(a, x), in(a, y)); err != nil {
			t.Fatal(err)
		}
		if exists(in(b, x)) || !exists(in(b, y)) {
			t.Fatalf("rename %s → %s not visible through B", x, y)
		}
		if err := os.Chmod(in(a, y), 0o600); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(in(b, y)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("chmod not visible through B: %v %v", st.Mode(), err)
		}
		if err := os.Remove(in(a, y)); err != nil {
			t.Fatal(err)
		}
		if exists(in(b, y)) {
			t.Fatalf("unlinked %s still visible through B", y)
		}
	}
	if err := os.MkdirAll(in(a, "d", "e"), 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(in(b, "d"))
	if err != nil || len(ents) != 1 || ents[0].Name() != "e" {
		t.Fatalf("listing through B = %v, %v", ents, err)
	}
	if err := os.Remove(in(a, "d", "e")); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(in(b, "d")); len(ents) != 0 {
		t.Fatalf("listing through B after rmdir through A = %v", ents)
	}
}

func twoMountsEmpty(t *testing.T) (*world, *fuse.Server, *fuse.Server) {
	w := newWorld(t)
	return w, w.mount(fuse.Options{}), w.mount(fuse.Options{})
}

// Unmount leaves no mount behind and releases the mount's lock session.
func TestUnmount(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	m, err := fuse.Mount(w.fs, w.fs.Watch, dir, fuse.Options{Locks: w.locks})
	if err != nil {
		t.Fatal(err)
	}
	if !mounted(t, dir) {
		t.Fatalf("%s not in /proc/self/mountinfo after Mount", dir)
	}
	f, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Unmount(); err == nil {
		t.Errorf("Unmount with an open file succeeded, want EBUSY")
	}
	f.Close()
	// A lock left in the session (as by a client that vanished) goes too.
	ino := inode(t, filepath.Join(dir, "f"))
	if err := w.locks.SetLk(lock.Request{Session: m.Session(), Ino: ino, Owner: 1, Type: lock.Write, End: lock.ToEOF}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { m.Wait(); close(done) }()
	if err := m.Unmount(); err != nil {
		t.Fatal(err)
	}
	<-done
	if mounted(t, dir) {
		t.Errorf("%s still mounted after Unmount", dir)
	}
	if n := w.locks.Held(ino); n != 0 {
		t.Errorf("lock records after Unmount = %d, want 0", n)
	}
	if err := m.Unmount(); err != nil {
		t.Errorf("second Unmount = %v", err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Type == 0x65735546 {
		t.Errorf("mount point still FUSE after Unmount: %v", err)
	}
}

func TestReadOnlyMount(t *testing.T) {
	w := newWorld(t)
	rw := w.mount(fuse.Options{})
	if err := os.WriteFile(filepath.Join(rw.Dir(), "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := w.mount(fuse.Options{ReadOnly: true})
	if got, err := os.ReadFile(filepath.Join(ro.Dir(), "f")); err != nil || string(got) != "x" {
		t.Errorf("read through read-only mount = %q, %v", got, err)
	}
	for what, err := range map[string]error{
		"create": os.WriteFile(filepath.Join(ro.Dir(), "g"), nil, 0o644),
		"write":  os.WriteFile(filepath.Join(ro.Dir(), "f"), nil, 0o644),
		"mkdir":  os.Mkdir(filepath.Join(ro.Dir(), "d"), 0o755),
		"remove": os.Remove(filepath.Join(ro.Dir(), "f")),
	} {
		if !isErrno(err, syscall.EROFS) {
			t.Errorf("%s on read-only mount = %v, want EROFS", what, err)
		}
	}
}

func isErrno(err error, no syscall.Errno) bool {
	for e := err; e != nil; {
		if n, ok := e.(syscall.Errno); ok {
			return n == no
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// lookupCounter counts the lookups that reach the file system.
type lookupCounter struct {
	*vfs.FS
	n atomic.Int64
}

func (c *lookupCounter) Lookup(ctx context.Context, caller vfs.Caller, parent vfs.Ino, name string) (vfs.Attr, error) {
	c.n.Add(1)
	return c.FS.Lookup(ctx, caller, parent, name)
}

// A missing name is remembered by the kernel (a negative entry), and
// forgotten as soon as another mount creates it.
func TestMissingNamesAreCachedUntilAnotherMountCreatesThem(t *testing.T) {
	w := newWorld(t)
	counter := &lookupCounter{FS: w.fs}
	dir, err := os.MkdirTemp("", "tarn-mnt-")
	if err != nil {
		t.Fatal(err)
	}
	a, err := fuse.Mount(counter, w.fs.Watch, dir, fuse.Options{Locks: w.locks, FSName: "tarn:test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Unmount(); os.Remove(dir) })
	b := w.mount(fuse.Options{})
	pa, pb := filepath.Join(a.Dir(), "missing.py"), filepath.Join(b.Dir(), "missing.py")
	for range 3 {
		if _, err := os.Stat(pa); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("stat of a missing name: %v", err)
		}
	}
	if n := counter.n.Load(); n != 1 {
		t.Errorf("3 stats of a missing name made %d lookups, want 1 (the rest from the kernel's negative entry)", n)
	}
	if err := os.WriteFile(pb, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(pa); err != nil || string(got) != "x" {
		t.Fatalf("after another mount created it: %q, %v", got, err)
	}
	if err := os.Remove(pb); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pa); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after another mount removed it: %v", err)
	}
	// Created through the mount that cached the miss: no lookup needed.
	if err := os.WriteFile(pa, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(pb); err != nil || string(got) != "y" {
		t.Fatalf("created through the caching mount, read through the other: %q, %v", got, err)
	}
}
