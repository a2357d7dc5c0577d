package vfs_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tarn.dev/tarn/internal/blob/disk"
	"tarn.dev/tarn/internal/meta"
	"tarn.dev/tarn/internal/vfs"
)

func TestReopenFindsEverythingFsynced(t *testing.T) {
	bs, err := disk.Open(t.TempDir(), disk.Options{})
	ok(t, err)
	e := newEnvOn(t, vfs.Options{}, bs)
	d := e.mkdir(root, vfs.RootIno, "d", 0o700)
	must(e.fs.Symlink(ctx, root, d, "link", "../target"))
	ok(t, e.fs.SetXattr(ctx, root, d, "user.color", []byte("blue"), 0))
	big := bytes.Repeat([]byte("0123456789abcdef"), 600_000) // 9.6 MB: several blocks
	f := e.writeFile(root, d, "big", big)
	a, h, err := e.fs.Create(ctx, root, d, "synced", 0o600, syscall.O_RDWR, 0)
	ok(t, err)
	must(e.fs.Write(ctx, h, []byte("durable"), 0))
	ok(t, e.fs.Fsync(ctx, h))
	mtime := must(e.fs.GetAttr(ctx, root, a.Ino)).Mtime
	// Simulate a crash: the handle is never released.
	e.reopen()
	if got := e.readAll(f); !bytes.Equal(got, big) {
		t.Errorf("big file after reopen: %d bytes, mismatch", len(got))
	}
	if got := string(e.readAll(a.Ino)); got != "durable" {
		t.Errorf("fsynced file after reopen = %q", got)
	}
	at := must(e.fs.GetAttr(ctx, root, a.Ino))
	if !at.Mtime.Equal(mtime) {
		t.Errorf("mtime after reopen = %v, want %v (nanoseconds kept)", at.Mtime, mtime)
	}
	l := must(e.fs.Lookup(ctx, root, d, "link"))
	if target := must(e.fs.Readlink(ctx, root, l.Ino)); target != "../target" {
		t.Errorf("symlink after reopen = %q", target)
	}
	if v := must(e.fs.GetXattr(ctx, root, d, "user.color")); string(v) != "blue" {
		t.Errorf("xattr after reopen = %q", v)
	}
	if r := must(e.fs.Fsck(ctx, false)); !r.OK() {
		t.Errorf("fsck after reopen: %v", r.Problems)
	}
}

func TestUnlinkedOpenFileIsReapedAfterCrash(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	f := e.writeFile(root, vfs.RootIno, "f", []byte("data"))
	must(e.fs.Open(ctx, root, f, syscall.O_RDONLY))
	ok(t, e.fs.Unlink(ctx, root, vfs.RootIno, "f"))
	e.reopen()
	if _, err := e.fs.GetAttr(ctx, root, f); err == nil {
		t.Errorf("unlinked inode survived a restart")
	}
	if r := must(e.fs.Fsck(ctx, false)); !r.OK() {
		t.Errorf("fsck: %v", r.Problems)
	}
}

func TestCompactionKeepsContentAndGCDeletesBlocks(t *testing.T) {
	e := newEnv(t, vfs.Options{CompactExtents: -1})
	a, h, err := e.fs.Create(ctx, root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	ok(t, err)
	want := make([]byte, 1<<20)
	var size int
	for i := range 200 {
		off := (i * 7919) % (len(want) - 100)
		p := bytes.Repeat([]byte{byte(i)}, 100)
		must(e.fs.Write(ctx, h, p, int64(off)))
		copy(want[off:], p)
		size = max(size, off+100)
		ok(t, e.fs.Fsync(ctx, h))
	}
	want = want[:size]
	_, objectsBefore := e.blobs.Store.(interface{ Usage() (int64, int64) }).Usage()
	ok(t, e.fs.Compact(ctx, a.Ino))
	// The compaction also wakes the background collector, which may have
	// deleted some of the slices first: count what is left, not who did it.
	must(e.fs.GC(ctx))
	bytesAfter, objectsAfter := e.blobs.Store.(interface{ Usage() (int64, int64) }).Usage()
	if objectsAfter != 1 || objectsBefore != 200 {
		t.Errorf("objects %d → %d, want 200 → 1", objectsBefore, objectsAfter)
	}
	buf := make([]byte, len(want))
	n := must(e.fs.Read(ctx, h, buf, 0))
	if !bytes.Equal(buf[:n], want) || n != size {
		t.Errorf("content changed by compaction")
	}
	if bytesAfter > int64(len(want)) {
		t.Errorf("compacted slice holds %d bytes for a %d-byte file", bytesAfter, len(want))
	}
	ok(t, e.fs.Release(ctx, h))
	if r := must(e.fs.Fsck(ctx, false)); !r.OK() {
		t.Errorf("fsck: %v", r.Problems)
	}
}

func TestBackgroundCompactionTriggers(t *testing.T) {
	e := newEnv(t, vfs.Options{CompactExtents: 10})
	a, h, err := e.fs.Create(ctx, root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	ok(t, err)
	for i := range 12 {
		must(e.fs.Write(ctx, h, []byte{byte(i)}, int64(i*10)))
		ok(t, e.fs.Fsync(ctx, h))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		ok(t, e.store.View(ctx, func(tx meta.Tx) error {
			return tx.ChunkExtents(a.Ino, func(_ uint64, c int) error { n = c; return nil })
		}))
		// Compaction may run once the tenth extent lands, before the last
		// writes add theirs: any count under the threshold shows it ran.
		if n < 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chunk still has %d extents; background compaction did not run", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ok(t, e.fs.Release(ctx, h))
}

func TestFsckFindsAndRepairsDamage(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	keep := e.writeFile(root, vfs.RootIno, "keep", []byte("kept"))
	broken := e.writeFile(root, vfs.RootIno, "broken", []byte("lost"))
	if r := must(e.fs.Fsck(ctx, false)); !r.OK() {
		t.Fatalf("fsck of a healthy file system: %v", r.Problems)
	}
	// Damage: a missing block, an orphan block, a dangling entry, a wrong
	// link count, an orphaned inode and a wrong slice reference count.
	var brokenKey string
	ok(t, e.blobs.List(ctx, "chunks/", func(key string, size int64) error {
		if size == 4 {
			brokenKey = key // the last file written
		}
		return nil
	}))
	ok(t, e.blobs.Delete(ctx, brokenKey))
	ok(t, e.blobs.Put(ctx, "chunks/fs/0/999999_0", []byte("junk")))
	ok(t, e.store.Update(ctx, func(tx meta.Tx) error {
		if err := tx.AddEntry(vfs.RootIno, meta.Dirent{Name: "dangling", Ino: 4242, Mode: vfs.ModeRegular}); err != nil {
			return err
		}
		in, err := tx.Inode(keep)
		if err != nil {
			return err
		}
		in.Nlink = 5
		if err := tx.UpdateInode(in); err != nil {
			return err
		}
		in.Ino, in.Nlink = 777, 1
		if err := tx.CreateInode(in); err != nil {
			return err
		}
		return tx.Slices(func(s meta.Slice, refs int64) error {
			if s.ID == 1 {
				return tx.SetSliceRefs(1, 9)
			}
			return nil
		})
	}))
	r := must(e.fs.Fsck(ctx, false))
	text := strings.Join(r.Problems, "\n")
	for _, want := range []string{"missing block", "belongs to no slice", "missing inode 4242", "link count 5", "inode 777 is not referenced", "9 references"} {
		if !strings.Contains(text, want) {
			t.Errorf("fsck report lacks %q:\n%s", want, text)
		}
	}
	r = must(e.fs.Fsck(ctx, true))
	if r.OK() {
		t.Errorf("repairing fsck found nothing")
	}
	if r = must(e.fs.Fsck(ctx, false)); !r.OK() {
		t.Errorf("fsck after repair: %v", r.Problems)
	}
	lookupGone(t, e, vfs.RootIno, "dangling")
	lf := must(e.fs.Lookup(ctx, root, vfs.RootIno, vfs.LostFound))
	lookupIs(t, e, lf.Ino, "#777", 777)
	nlinkIs(t, e, keep, 1)
	if got := string(e.readAll(keep)); got != "kept" {
		t.Errorf("healthy file after repair = %q", got)
	}
	if got := e.readAll(broken); !bytes.Equal(got, make([]byte, 4)) {
		t.Errorf("file with a lost block after repair = %q, want zeros", got)
	}
}

// Concurrent renames of two directories into each other must leave a tree,
// never a cycle.
func TestConcurrentRenamesCannotMakeCycles(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	for round := range 10 {
		a := e.mkdir(root, vfs.RootIno, fmt.Sprintf("a%d", round), 0o755)
		b := e.mkdir(root, vfs.RootIno, fmt.Sprintf("b%d", round), 0o755)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs[0] = e.fs.Rename(ctx, root, vfs.RootIno, fmt.Sprintf("a%d", round), b, "a", 0)
		}()
		go func() {
			defer wg.Done()
			errs[1] = e.fs.Rename(ctx, root, vfs.RootIno, fmt.Sprintf("b%d", round), a, "b", 0)
		}()
		wg.Wait()
		if errs[0] == nil && errs[1] == nil {
			t.Fatalf("round %d: both renames succeeded: a cycle", round)
		}
	}
	if r := must(e.fs.Fsck(ctx, false)); !r.OK() {
		t.Errorf("fsck: %v", r.Problems)
	}
}

func TestWatchReportsCommittedChanges(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	var mu sync.Mutex
	var got []vfs.Change
	stop := e.fs.Watch(func(c vfs.Change) { mu.Lock(); got = append(got, c); mu.Unlock() })
	f := e.writeFile(root, vfs.RootIno, "f", []byte("x"))
	ok(t, e.fs.Rename(ctx, root, vfs.RootIno, "f", vfs.RootIno, "g", 0))
	stop()
	e.writeFile(root, vfs.RootIno, "after-stop", nil)
	mu.Lock()
	defer mu.Unlock()
	has := func(want vfs.Change) bool {
		for _, c := range got {
			if c == want {
				return true
			}
		}
		return false
	}
	for _, want := range []vfs.Change{
		{Kind: vfs.ChangeEntry, Parent: vfs.RootIno, Name: "f", Ino: f},
		{Kind: vfs.ChangeData, Ino: f},
		{Kind: vfs.ChangeEntry, Parent: vfs.RootIno, Name: "g", Ino: f},
	} {
		if !has(want) {
			t.Errorf("no change %+v in %+v", want, got)
		}
	}
	for _, c := range got {
		if c.Name == "after-stop" {
			t.Errorf("change delivered after cancel: %+v", c)
		}
	}
}
