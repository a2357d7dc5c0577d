package vfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"tarn.dev/tarn/internal/blob/mem"
	"tarn.dev/tarn/internal/meta"
	"tarn.dev/tarn/internal/meta/sqlmeta"
)

// openCached opens a file system on a fresh SQLite store and returns it with
// the store underneath its attribute cache.
func openCached(t *testing.T) (*FS, meta.Store) {
	t.Helper()
	db, err := sqlmeta.OpenSQLite(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.Open(context.Background(), "fs-1")
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(context.Background(), s, mem.New(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); db.Close() })
	return f, s
}

// stored reads ino from the store directly, bypassing the cache.
func stored(t *testing.T, s meta.Store, ino Ino) meta.Inode {
	t.Helper()
	var in meta.Inode
	err := s.View(context.Background(), func(tx meta.Tx) (err error) { in, err = tx.Inode(ino); return err })
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func newFile(t *testing.T, f *FS, name string) Ino {
	t.Helper()
	a, h, err := f.Create(context.Background(), Root, RootIno, name, 0o644, syscall.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Release(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	return a.Ino
}

func TestAttrCacheKeepsCommittedValueWhenUpdateRollsBack(t *testing.T) {
	ctx := context.Background()
	f, s := openCached(t)
	ino := newFile(t, f, "f")
	if _, err := f.GetAttr(ctx, Root, ino); err != nil { // cached now
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		in.Mode = ModeRegular | 0o600
		if err := tx.UpdateInode(in); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: %v, want boom", err)
	}
	a, err := f.GetAttr(ctx, Root, ino)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode&ModePerm != 0o644 || stored(t, s, ino).Mode&ModePerm != 0o644 {
		t.Fatalf("mode after rolled-back chmod: cached %o, stored %o, want 644", a.Mode, stored(t, s, ino).Mode)
	}
}

func TestAttrCacheDoesNotKeepSnapshotOlderThanCommit(t *testing.T) {
	ctx := context.Background()
	f, s := openCached(t)
	ino := newFile(t, f, "f")
	other := newFile(t, f, "g")
	f.attrs.changed(ino) // not cached: the view below must read it
	f.attrs.changed(other)
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		// Begin the snapshot, then commit a chmod outside it.
		if _, err := tx.Inode(other); err != nil {
			return err
		}
		done := make(chan error)
		go func() {
			_, err := f.SetAttr(ctx, Root, ino, SetAttrIn{Mode: ptr(uint32(0o600))})
			done <- err
		}()
		if err := <-done; err != nil {
			return err
		}
		// As if the cache had been reset since: the read below goes to
		// the snapshot, which predates the chmod, and must not be kept.
		f.attrs.changed(ino)
		old, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		if old.Mode&ModePerm != 0o644 {
			t.Errorf("snapshot read mode %o, want the 644 from before the chmod", old.Mode&ModePerm)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.GetAttr(ctx, Root, ino)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode&ModePerm != 0o600 || stored(t, s, ino).Mode&ModePerm != 0o600 {
		t.Fatalf("mode after chmod: getattr %o, stored %o, want 600", a.Mode&ModePerm, stored(t, s, ino).Mode&ModePerm)
	}
}

func TestAttrCacheAgreesWithStoreAfterConcurrentChanges(t *testing.T) {
	ctx := context.Background()
	f, s := openCached(t)
	const files, rounds = 8, 200
	inos := make([]Ino, files)
	for i := range inos {
		inos[i] = newFile(t, f, fmt.Sprint("f", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				ino := inos[(w+r)%files]
				mode := uint32(0o600 | (r % 8))
				if _, err := f.SetAttr(ctx, Root, ino, SetAttrIn{Mode: &mode}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds * 2 {
				if _, err := f.GetAttr(ctx, Root, inos[r%files]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, ino := range inos {
		a, err := f.GetAttr(ctx, Root, ino)
		if err != nil {
			t.Fatal(err)
		}
		if want := stored(t, s, ino); a.Mode != want.Mode || !a.Ctime.Equal(want.Ctime) {
			t.Errorf("inode %d: getattr mode %o ctime %v, stored %o %v", ino, a.Mode, a.Ctime, want.Mode, want.Ctime)
		}
	}
}

func TestAttrCacheForgetsDeletedInode(t *testing.T) {
	ctx := context.Background()
	f, _ := openCached(t)
	ino := newFile(t, f, "f")
	if _, err := f.GetAttr(ctx, Root, ino); err != nil {
		t.Fatal(err)
	}
	if err := f.Unlink(ctx, Root, RootIno, "f"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.GetAttr(ctx, Root, ino); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("getattr of a deleted inode: %v, want ENOENT", err)
	}
}

func ptr[T any](v T) *T { return &v }
