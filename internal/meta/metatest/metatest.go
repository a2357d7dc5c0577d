// Package metatest is the conformance kit for meta.Store backends. A backend
// is done when Run passes:
//
//	func TestConformance(t *testing.T) {
//		metatest.Run(t, func(t *testing.T) meta.Store { return openTemp(t) })
//	}
package metatest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"sync"
	"testing"
	"time"

	"tarn.dev/tarn/internal/meta"
)

// Factory returns a fresh, empty store for one subtest, cleaned up with
// t.Cleanup.
type Factory func(t *testing.T) meta.Store

// Run runs the conformance cases as subtests.
func Run(t *testing.T, newStore Factory) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s meta.Store)
	}{
		{"CountersAllocateDistinctRanges", testCounters},
		{"InodeCreateReadUpdateDelete", testInodes},
		{"EntriesAddLookupRemove", testEntries},
		{"ReadDirResumesAfterCookie", testReadDir},
		{"SymlinkTargets", testSymlink},
		{"Xattrs", testXattrs},
		{"ExtentsKeepWriteOrder", testExtentOrder},
		{"SliceRefsAndDeadList", testSliceRefs},
		{"DeleteInodeDropsEverything", testDeleteInode},
		{"UnlinkedInodes", testUnlinked},
		{"UsageCounters", testUsage},
		{"FailedUpdateRollsBack", testRollback},
		{"ConcurrentUpdatesSerialize", testConcurrent},
		{"ViewSeesCommittedState", testView},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore(t)) })
	}
}

var ctx = context.Background()

func update(t *testing.T, s meta.Store, fn func(tx meta.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s meta.Store, fn func(tx meta.Tx) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func mkInode(ino meta.Ino, mode uint32) meta.Inode {
	ts := time.Unix(1700000000, 123456789)
	return meta.Inode{Ino: ino, Mode: mode, Nlink: 1, UID: 1000, GID: 100, Rdev: 7, Size: 42,
		Atime: ts, Mtime: ts.Add(time.Nanosecond), Ctime: ts.Add(2 * time.Nanosecond), Parent: meta.RootIno}
}

func testCounters(t *testing.T, s meta.Store) {
	var a, b, c uint64
	update(t, s, func(tx meta.Tx) (err error) {
		if a, err = tx.Next(meta.InoCounter, 1); err != nil {
			return err
		}
		if b, err = tx.Next(meta.InoCounter, 10); err != nil {
			return err
		}
		c, err = tx.Next(meta.SliceCounter, 5)
		return err
	})
	if a != 2 || b != 3 || c != 1 {
		t.Errorf("Next = %d, %d, %d; want 2, 3, 1", a, b, c)
	}
	update(t, s, func(tx meta.Tx) (err error) { a, err = tx.Next(meta.InoCounter, 1); return err })
	if a != 13 {
		t.Errorf("Next after 10 reserved = %d, want 13", a)
	}
}

func testInodes(t *testing.T, s meta.Store) {
	in := mkInode(5, 0o100644)
	update(t, s, func(tx meta.Tx) error { return tx.CreateInode(in) })
	err := s.Update(ctx, func(tx meta.Tx) error { return tx.CreateInode(in) })
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("CreateInode twice = %v, want fs.ErrExist", err)
	}
	view(t, s, func(tx meta.Tx) error {
		got, err := tx.Inode(5)
		if err != nil {
			return err
		}
		if !got.Atime.Equal(in.Atime) || !got.Mtime.Equal(in.Mtime) || !got.Ctime.Equal(in.Ctime) {
			t.Errorf("times = %v %v %v, want %v %v %v", got.Atime, got.Mtime, got.Ctime, in.Atime, in.Mtime, in.Ctime)
		}
		got.Atime, got.Mtime, got.Ctime = in.Atime, in.Mtime, in.Ctime
		if got != in {
			t.Errorf("Inode(5) = %+v, want %+v", got, in)
		}
		if _, err := tx.Inode(6); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Inode(6) = %v, want fs.ErrNotExist", err)
		}
		return nil
	})
	in.Size = 1 << 50
	in.Mode = 0o104755
	in.UID = 1<<32 - 1
	update(t, s, func(tx meta.Tx) error { return tx.UpdateInode(in) })
	view(t, s, func(tx meta.Tx) error {
		got, err := tx.Inode(5)
		if err != nil {
			return err
		}
		if got.Size != in.Size || got.Mode != in.Mode || got.UID != in.UID {
			t.Errorf("after update = %+v, want %+v", got, in)
		}
		return nil
	})
	if err := s.Update(ctx, func(tx meta.Tx) error { return tx.UpdateInode(mkInode(77, 0)) }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("UpdateInode(missing) = %v, want fs.ErrNotExist", err)
	}
	var n int
	view(t, s, func(tx meta.Tx) error { return tx.Inodes(func(meta.Inode) error { n++; return nil }) })
	if n != 1 {
		t.Errorf("Inodes visited %d, want 1", n)
	}
}

func testEntries(t *testing.T, s meta.Store) {
	names := []string{"a", "b", "\xff\xfe binary", "long" + string(make([]byte, 200))}
	update(t, s, func(tx meta.Tx) error {
		for i, n := range names {
			if err := tx.AddEntry(meta.RootIno, meta.Dirent{Name: n, Ino: meta.Ino(10 + i), Mode: 0o100000}); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(ctx, func(tx meta.Tx) error {
		return tx.AddEntry(meta.RootIno, meta.Dirent{Name: "a", Ino: 99, Mode: 0o040000})
	})
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("AddEntry(dup) = %v, want fs.ErrExist", err)
	}
	view(t, s, func(tx meta.Tx) error {
		for i, n := range names {
			d, err := tx.Lookup(meta.RootIno, n)
			if err != nil {
				t.Errorf("Lookup(%q) = %v", n, err)
				continue
			}
			if d.Ino != meta.Ino(10+i) || d.Mode != 0o100000 || d.Name != n {
				t.Errorf("Lookup(%q) = %+v", n, d)
			}
		}
		if _, err := tx.Lookup(meta.RootIno, "A"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Lookup(A) = %v, want fs.ErrNotExist (names are case-sensitive)", err)
		}
		if ok, _ := tx.HasEntries(meta.RootIno); !ok {
			t.Errorf("HasEntries(root) = false")
		}
		if ok, _ := tx.HasEntries(42); ok {
			t.Errorf("HasEntries(42) = true")
		}
		return nil
	})
	update(t, s, func(tx meta.Tx) error { return tx.RemoveEntry(meta.RootIno, "a") })
	err = s.Update(ctx, func(tx meta.Tx) error { return tx.RemoveEntry(meta.RootIno, "a") })
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RemoveEntry(gone) = %v, want fs.ErrNotExist", err)
	}
	var n int
	view(t, s, func(tx meta.Tx) error { return tx.Entries(func(meta.Ino, meta.Dirent) error { n++; return nil }) })
	if n != len(names)-1 {
		t.Errorf("Entries = %d, want %d", n, len(names)-1)
	}
}

func readAll(t *testing.T, s meta.Store, dir meta.Ino, after uint64) []meta.Dirent {
	var out []meta.Dirent
	view(t, s, func(tx meta.Tx) error {
		return tx.ReadDir(dir, after, func(d meta.Dirent) bool { out = append(out, d); return true })
	})
	return out
}

func testReadDir(t *testing.T, s meta.Store) {
	const n = 1100 // more than one internal batch
	update(t, s, func(tx meta.Tx) error {
		for i := range n {
			if err := tx.AddEntry(3, meta.Dirent{Name: fmt.Sprintf("f%04d", i), Ino: meta.Ino(100 + i)}); err != nil {
				return err
			}
		}
		return nil
	})
	all := readAll(t, s, 3, 0)
	if len(all) != n {
		t.Fatalf("ReadDir returned %d entries, want %d", len(all), n)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Cookie <= all[i-1].Cookie {
			t.Fatalf("cookies not increasing at %d: %d then %d", i, all[i-1].Cookie, all[i].Cookie)
		}
	}
	if all[0].Cookie < 3 {
		t.Errorf("first cookie = %d, want >= 3 (1 and 2 are . and ..)", all[0].Cookie)
	}
	// Remove the entry we stopped at and one later; resuming must continue
	// with the rest, exactly once each.
	stop := all[499]
	update(t, s, func(tx meta.Tx) error {
		if err := tx.RemoveEntry(3, stop.Name); err != nil {
			return err
		}
		return tx.RemoveEntry(3, all[600].Name)
	})
	rest := readAll(t, s, 3, stop.Cookie)
	if len(rest) != n-500-1 {
		t.Errorf("resumed ReadDir returned %d entries, want %d", len(rest), n-501)
	}
	// Stopping early.
	var got int
	view(t, s, func(tx meta.Tx) error {
		return tx.ReadDir(3, 0, func(meta.Dirent) bool { got++; return got < 3 })
	})
	if got != 3 {
		t.Errorf("ReadDir after false: %d calls, want 3", got)
	}
}

func testSymlink(t *testing.T, s meta.Store) {
	long := string(make([]byte, 4080))
	update(t, s, func(tx meta.Tx) error {
		if err := tx.SetSymlink(4, "../x/y"); err != nil {
			return err
		}
		return tx.SetSymlink(5, long)
	})
	view(t, s, func(tx meta.Tx) error {
		if got, err := tx.Symlink(4); err != nil || got != "../x/y" {
			t.Errorf("Symlink(4) = %q, %v", got, err)
		}
		if got, err := tx.Symlink(5); err != nil || got != long {
			t.Errorf("Symlink(5) length %d, %v", len(got), err)
		}
		if _, err := tx.Symlink(6); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Symlink(6) = %v, want fs.ErrNotExist", err)
		}
		return nil
	})
}

func testXattrs(t *testing.T, s meta.Store) {
	update(t, s, func(tx meta.Tx) error {
		for _, kv := range []struct{ k, v string }{{"user.b", "2"}, {"user.a", "1"}, {"user.empty", ""}, {"user.a", "one"}} {
			if err := tx.SetXattr(9, kv.k, []byte(kv.v)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx meta.Tx) error {
		if v, err := tx.Xattr(9, "user.a"); err != nil || string(v) != "one" {
			t.Errorf("Xattr(user.a) = %q, %v; want one", v, err)
		}
		if v, err := tx.Xattr(9, "user.empty"); err != nil || v == nil || len(v) != 0 {
			t.Errorf("Xattr(user.empty) = %#v, %v; want empty non-nil", v, err)
		}
		if _, err := tx.Xattr(9, "user.c"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Xattr(user.c) = %v, want fs.ErrNotExist", err)
		}
		names, err := tx.Xattrs(9)
		if want := []string{"user.a", "user.b", "user.empty"}; err != nil || !reflect.DeepEqual(names, want) {
			t.Errorf("Xattrs = %q, %v; want %q", names, err, want)
		}
		return nil
	})
	update(t, s, func(tx meta.Tx) error { return tx.RemoveXattr(9, "user.a") })
	if err := s.Update(ctx, func(tx meta.Tx) error { return tx.RemoveXattr(9, "user.a") }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RemoveXattr(gone) = %v, want fs.ErrNotExist", err)
	}
}

func extents(t *testing.T, s meta.Store, ino meta.Ino, chunk uint64) []meta.Extent {
	var out []meta.Extent
	view(t, s, func(tx meta.Tx) (err error) { out, err = tx.Extents(ino, chunk); return err })
	return out
}

func testExtentOrder(t *testing.T, s meta.Store) {
	a := []meta.Extent{{Chunk: 0, Pos: 100, Len: 10, Slice: 1, Off: 0}, {Chunk: 1, Pos: 0, Len: 5, Slice: 1, Off: 10}}
	b := []meta.Extent{{Chunk: 0, Pos: 0, Len: 200, Slice: 2, Off: 7}, {Chunk: 0, Pos: 50, Len: 10, Slice: 0}}
	update(t, s, func(tx meta.Tx) error {
		for _, sl := range []meta.Slice{{ID: 1, Size: 15}, {ID: 2, Size: 300}} {
			if err := tx.AddSlice(sl); err != nil {
				return err
			}
		}
		return tx.AppendExtents(7, a)
	})
	update(t, s, func(tx meta.Tx) error { return tx.AppendExtents(7, b) })
	want0 := []meta.Extent{a[0], b[0], b[1]}
	if got := extents(t, s, 7, 0); !reflect.DeepEqual(got, want0) {
		t.Errorf("Extents(chunk 0) = %+v, want %+v", got, want0)
	}
	if got := extents(t, s, 7, 1); !reflect.DeepEqual(got, a[1:]) {
		t.Errorf("Extents(chunk 1) = %+v, want %+v", got, a[1:])
	}
	counts := map[uint64]int{}
	view(t, s, func(tx meta.Tx) error {
		return tx.ChunkExtents(7, func(c uint64, n int) error { counts[c] = n; return nil })
	})
	if !reflect.DeepEqual(counts, map[uint64]int{0: 3, 1: 1}) {
		t.Errorf("ChunkExtents = %v", counts)
	}
	// Replace chunk 0 and append after the replacement.
	repl := []meta.Extent{{Chunk: 0, Pos: 0, Len: 1, Slice: 2}, {Chunk: 0, Pos: 1, Len: 1, Slice: 2, Off: 1}}
	update(t, s, func(tx meta.Tx) error { return tx.SetExtents(7, 0, repl) })
	update(t, s, func(tx meta.Tx) error { return tx.AppendExtents(7, a[:1]) })
	if got, want := extents(t, s, 7, 0), append(append([]meta.Extent{}, repl...), a[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("after SetExtents+Append = %+v, want %+v", got, want)
	}
	if err := s.Update(ctx, func(tx meta.Tx) error { return tx.SetExtents(7, 0, a) }); err == nil {
		t.Errorf("SetExtents with an extent of another chunk succeeded")
	}
}

func refsOf(t *testing.T, s meta.Store) (live map[uint64]int64, dead map[uint64]uint64) {
	live, dead = map[uint64]int64{}, map[uint64]uint64{}
	view(t, s, func(tx meta.Tx) error {
		if err := tx.Slices(func(sl meta.Slice, refs int64) error { live[sl.ID] = refs; return nil }); err != nil {
			return err
		}
		ds, err := tx.DeadSlices(100)
		for _, d := range ds {
			dead[d.ID] = d.Size
		}
		return err
	})
	return live, dead
}

func testSliceRefs(t *testing.T, s meta.Store) {
	update(t, s, func(tx meta.Tx) error {
		for _, sl := range []meta.Slice{{ID: 1, Size: 100}, {ID: 2, Size: 200}, {ID: 3, Size: 300}} {
			if err := tx.AddSlice(sl); err != nil {
				return err
			}
		}
		if err := tx.AppendExtents(5, []meta.Extent{{Chunk: 0, Pos: 0, Len: 10, Slice: 1}, {Chunk: 0, Pos: 10, Len: 10, Slice: 1, Off: 10},
			{Chunk: 2, Pos: 0, Len: 10, Slice: 2}}); err != nil {
			return err
		}
		return tx.AppendExtents(6, []meta.Extent{{Chunk: 0, Pos: 0, Len: 10, Slice: 3}})
	})
	live, dead := refsOf(t, s)
	if !reflect.DeepEqual(live, map[uint64]int64{1: 2, 2: 1, 3: 1}) || len(dead) != 0 {
		t.Fatalf("refs = %v dead = %v", live, dead)
	}
	// Truncating ino 5 to chunk 1 drops slice 2; replacing chunk 0 with a
	// single reference to slice 1 keeps slice 1.
	update(t, s, func(tx meta.Tx) error {
		if err := tx.DeleteExtents(5, 1); err != nil {
			return err
		}
		return tx.SetExtents(5, 0, []meta.Extent{{Chunk: 0, Pos: 0, Len: 5, Slice: 1}})
	})
	live, dead = refsOf(t, s)
	if !reflect.DeepEqual(live, map[uint64]int64{1: 1, 3: 1}) || !reflect.DeepEqual(dead, map[uint64]uint64{2: 200}) {
		t.Fatalf("after truncate: refs = %v dead = %v", live, dead)
	}
	update(t, s, func(tx meta.Tx) error { return tx.SetSliceRefs(3, 0) })
	update(t, s, func(tx meta.Tx) error { return tx.ForgetSlices([]uint64{2}) })
	live, dead = refsOf(t, s)
	if !reflect.DeepEqual(live, map[uint64]int64{1: 1}) || !reflect.DeepEqual(dead, map[uint64]uint64{3: 300}) {
		t.Fatalf("after SetSliceRefs/Forget: refs = %v dead = %v", live, dead)
	}
}

func testDeleteInode(t *testing.T, s meta.Store) {
	update(t, s, func(tx meta.Tx) error {
		if err := tx.CreateInode(mkInode(8, 0o100644)); err != nil {
			return err
		}
		if err := tx.SetXattr(8, "user.x", []byte("v")); err != nil {
			return err
		}
		if err := tx.SetSymlink(8, "t"); err != nil {
			return err
		}
		if err := tx.AddSlice(meta.Slice{ID: 4, Size: 9}); err != nil {
			return err
		}
		return tx.AppendExtents(8, []meta.Extent{{Chunk: 3, Pos: 0, Len: 9, Slice: 4}})
	})
	update(t, s, func(tx meta.Tx) error { return tx.DeleteInode(8) })
	view(t, s, func(tx meta.Tx) error {
		if _, err := tx.Inode(8); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Inode after delete = %v", err)
		}
		if _, err := tx.Xattr(8, "user.x"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Xattr after delete = %v", err)
		}
		if _, err := tx.Symlink(8); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Symlink after delete = %v", err)
		}
		if e, _ := tx.Extents(8, 3); len(e) != 0 {
			t.Errorf("Extents after delete = %v", e)
		}
		return nil
	})
	if _, dead := refsOf(t, s); dead[4] != 9 {
		t.Errorf("slice 4 not dead after DeleteInode: %v", dead)
	}
	if err := s.Update(ctx, func(tx meta.Tx) error { return tx.DeleteInode(8) }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DeleteInode twice = %v, want fs.ErrNotExist", err)
	}
}

func testUnlinked(t *testing.T, s meta.Store) {
	update(t, s, func(tx meta.Tx) error {
		for i := meta.Ino(2); i < 6; i++ {
			in := mkInode(i, 0o100644)
			if i%2 == 0 {
				in.Nlink = 0
			}
			if err := tx.CreateInode(in); err != nil {
				return err
			}
		}
		return nil
	})
	var got []meta.Ino
	view(t, s, func(tx meta.Tx) error {
		return tx.Unlinked(func(i meta.Ino) error { got = append(got, i); return nil })
	})
	if !reflect.DeepEqual(got, []meta.Ino{2, 4}) {
		t.Errorf("Unlinked = %v, want [2 4]", got)
	}
}

func testUsage(t *testing.T, s meta.Store) {
	update(t, s, func(tx meta.Tx) error {
		if err := tx.AddUsage(1000, 3); err != nil {
			return err
		}
		return tx.AddUsage(-10, -1)
	})
	view(t, s, func(tx meta.Tx) error {
		u, err := tx.Usage()
		if err != nil || u != (meta.Usage{Bytes: 990, Inodes: 2}) {
			t.Errorf("Usage = %+v, %v; want {990 2}", u, err)
		}
		return nil
	})
}

func testRollback(t *testing.T, s meta.Store) {
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx meta.Tx) error {
		if err := tx.CreateInode(mkInode(3, 0o100644)); err != nil {
			return err
		}
		if err := tx.AddEntry(meta.RootIno, meta.Dirent{Name: "x", Ino: 3}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	view(t, s, func(tx meta.Tx) error {
		if _, err := tx.Inode(3); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("inode survived rollback: %v", err)
		}
		if _, err := tx.Lookup(meta.RootIno, "x"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("entry survived rollback: %v", err)
		}
		return nil
	})
}

func testConcurrent(t *testing.T, s meta.Store) {
	const workers, each = 4, 25
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				var v uint64
				err := s.Update(ctx, func(tx meta.Tx) (err error) {
					v, err = tx.Next(meta.InoCounter, 1)
					if err != nil {
						return err
					}
					return tx.AddUsage(1, 1)
				})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if seen[v] {
					t.Errorf("value %d allocated twice", v)
				}
				seen[v] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Update: %v", err)
	}
	view(t, s, func(tx meta.Tx) error {
		u, err := tx.Usage()
		if err != nil || u.Inodes != workers*each {
			t.Errorf("Usage after concurrent updates = %+v, %v; want %d", u, err, workers*each)
		}
		return nil
	})
}

func testView(t *testing.T, s meta.Store) {
	update(t, s, func(tx meta.Tx) error { return tx.CreateInode(mkInode(2, 0o040755)) })
	view(t, s, func(tx meta.Tx) error {
		_, err := tx.Inode(2)
		return err
	})
}
