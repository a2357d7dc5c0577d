package vfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"tarn.dev/tarn/internal/meta"
)

// Report lists what Fsck found. Each problem is one line of text.
type Report struct {
	Problems []string
	Repaired bool
	// Counts of what was checked.
	Inodes, Entries, Slices, Blocks int
}

// OK reports whether no problem was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// LostFound is the directory under the root where repair reattaches
// orphaned inodes.
const LostFound = "lost+found"

// Fsck verifies the file system: entries point to existing inodes, link
// counts match entries, every inode but the root is reachable, slice
// reference counts match extents, every referenced block exists with the
// right size, and no block is unreferenced. With repair it fixes link counts
// and reference counts, removes dangling entries, reattaches orphaned inodes
// under /lost+found, drops extents whose blocks are lost (they read as
// holes) and deletes unreferenced blocks. It should run while the file
// system is quiet; writes in flight are never mistaken for orphans.
func (f *FS) Fsck(ctx context.Context, repair bool) (Report, error) {
	var r Report
	if repair {
		if _, err := f.GC(ctx); err != nil {
			return r, err
		}
	}
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		r = Report{Repaired: repair}
		return f.fsckMeta(ctx, tx, &r, repair)
	})
	if err != nil {
		return r, fmt.Errorf("fsck: %w", err)
	}
	if err := f.fsckBlocks(ctx, &r, repair); err != nil {
		return r, fmt.Errorf("fsck: %w", err)
	}
	if repair {
		if _, err := f.GC(ctx); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (f *FS) fsckMeta(ctx context.Context, tx meta.Tx, r *Report, repair bool) error {
	inodes := map[Ino]meta.Inode{}
	if err := tx.Inodes(func(in meta.Inode) error { inodes[in.Ino] = in; return nil }); err != nil {
		return err
	}
	r.Inodes = len(inodes)
	if _, ok := inodes[RootIno]; !ok {
		r.add("root directory missing")
		return nil
	}
	links := map[Ino]uint32{}
	subdirs := map[Ino]uint32{}
	type ent struct {
		parent Ino
		d      meta.Dirent
	}
	var dangling []ent
	err := tx.Entries(func(parent Ino, d meta.Dirent) error {
		r.Entries++
		in, ok := inodes[d.Ino]
		p, pok := inodes[parent]
		switch {
		case !ok:
			r.add("entry %d/%q points to missing inode %d", parent, d.Name, d.Ino)
			dangling = append(dangling, ent{parent, d})
			return nil
		case !pok || !isDir(p):
			r.add("entry %d/%q is in a missing or non-directory parent", parent, d.Name)
			dangling = append(dangling, ent{parent, d})
			return nil
		}
		links[d.Ino]++
		if isDir(in) {
			subdirs[parent]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if repair {
		for _, e := range dangling {
			if err := tx.RemoveEntry(e.parent, e.d.Name); err != nil {
				return err
			}
		}
	}
	// Orphans: inodes with no entry (other than the root and files that are
	// unlinked but open, or being deleted at their last close).
	var lost Ino
	for ino, in := range inodes {
		if ino == RootIno || links[ino] > 0 {
			continue
		}
		if in.Nlink == 0 && !isDir(in) {
			// Open, or being deleted by its last close right now.
			f.mu.Lock()
			st := f.inodes[ino]
			open := st != nil && st.opens > 0 || f.reaping[ino]
			f.mu.Unlock()
			if open {
				continue
			}
		}
		r.add("inode %d is not referenced by any entry", ino)
		if !repair {
			continue
		}
		if lost == 0 {
			var err error
			if lost, err = f.lostFound(tx, inodes); err != nil {
				return err
			}
			links[lost]++
			subdirs[RootIno]++
		}
		name := fmt.Sprintf("#%d", ino)
		if err := tx.AddEntry(lost, meta.Dirent{Name: name, Ino: ino, Mode: in.Mode & ModeType}); err != nil {
			return err
		}
		links[ino]++
		if isDir(in) {
			subdirs[lost]++
			in.Parent = lost
			inodes[ino] = in
		}
	}
	for ino, in := range inodes {
		want := links[ino]
		if ino == RootIno {
			want = 2 + subdirs[ino]
		} else if isDir(in) {
			want = 1 + subdirs[ino] + min(links[ino], 1)
		}
		if want == 0 {
			continue // unlinked but open
		}
		if in.Nlink != want {
			r.add("inode %d has link count %d, want %d", ino, in.Nlink, want)
			if repair {
				in.Nlink = want
				if err := tx.UpdateInode(in); err != nil {
					return err
				}
			}
		}
	}
	// Slice reference counts.
	refs := map[uint64]int64{}
	var badExt []Ino
	if err := tx.AllExtents(func(ino Ino, e meta.Extent) error {
		if _, ok := inodes[ino]; !ok {
			r.add("extent of missing inode %d", ino)
			badExt = append(badExt, ino)
		}
		if e.Slice != 0 {
			refs[e.Slice]++
		}
		return nil
	}); err != nil {
		return err
	}
	live := map[uint64]bool{}
	if err := tx.Slices(func(s meta.Slice, n int64) error {
		r.Slices++
		live[s.ID] = true
		if n != refs[s.ID] {
			r.add("slice %d has %d references, want %d", s.ID, n, refs[s.ID])
			if repair {
				return tx.SetSliceRefs(s.ID, refs[s.ID])
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for id := range refs {
		if !live[id] {
			r.add("extents reference unknown slice %d", id)
		}
	}
	if repair {
		for _, ino := range badExt {
			if err := tx.DeleteExtents(ino, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// lostFound finds or creates /lost+found.
func (f *FS) lostFound(tx meta.Tx, inodes map[Ino]meta.Inode) (Ino, error) {
	d, err := tx.Lookup(RootIno, LostFound)
	if err == nil {
		return d.Ino, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	ino, err := tx.Next(meta.InoCounter, 1)
	if err != nil {
		return 0, err
	}
	in, err := f.create(tx, Root, RootIno, LostFound, Ino(ino), newNode{mode: ModeDir | 0o700})
	if err != nil {
		return 0, err
	}
	inodes[in.Ino] = in
	root, err := tx.Inode(RootIno)
	if err != nil {
		return 0, err
	}
	inodes[RootIno] = root
	return in.Ino, nil
}

// fsckBlocks compares the blob store with the live slices: missing or
// truncated blocks of referenced slices, and blocks no slice owns.
func (f *FS) fsckBlocks(ctx context.Context, r *Report, repair bool) error {
	sizes := map[uint64]uint64{}
	dead := map[uint64]bool{}
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		if err := tx.Slices(func(s meta.Slice, _ int64) error { sizes[s.ID] = s.Size; return nil }); err != nil {
			return err
		}
		ds, err := tx.DeadSlices(1 << 30)
		for _, s := range ds {
			dead[s.ID] = true
		}
		return err
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	inflight := map[uint64]bool{}
	for id := range f.inflight {
		inflight[id] = true
	}
	f.mu.Unlock()
	seen := map[string]int64{}
	var orphans []string
	err = f.blobs.List(ctx, f.blockPrefix(), func(key string, size int64) error {
		r.Blocks++
		id, _, ok := f.parseBlockKey(key)
		switch {
		case !ok:
			r.add("unexpected object %s", key)
		case inflight[id] || dead[id]:
		case sizes[id] == 0 && !hasSlice(sizes, id):
			r.add("block %s belongs to no slice", key)
			orphans = append(orphans, key)
		default:
			seen[key] = size
		}
		return nil
	})
	if err != nil {
		return err
	}
	broken := map[uint64]bool{}
	for id, size := range sizes {
		blocks(size, func(i int, _ uint64, n int) {
			key := f.blockKey(id, i)
			got, ok := seen[key]
			switch {
			case !ok:
				r.add("slice %d is missing block %s", id, key)
				broken[id] = true
			case got != int64(n):
				r.add("block %s has %d bytes, want %d", key, got, n)
				broken[id] = true
			}
		})
	}
	if !repair {
		return nil
	}
	for _, k := range orphans {
		if err := f.blobs.Delete(ctx, k); err != nil {
			return err
		}
	}
	if len(broken) == 0 {
		return nil
	}
	// Drop extents into broken slices: those ranges read as holes.
	return f.meta.Update(ctx, func(tx meta.Tx) error {
		type key struct {
			ino   Ino
			chunk uint64
		}
		fix := map[key]bool{}
		if err := tx.AllExtents(func(ino Ino, e meta.Extent) error {
			if broken[e.Slice] {
				fix[key{ino, e.Chunk}] = true
			}
			return nil
		}); err != nil {
			return err
		}
		for k := range fix {
			ext, err := tx.Extents(k.ino, k.chunk)
			if err != nil {
				return err
			}
			keep := ext[:0:0]
			for _, e := range ext {
				if broken[e.Slice] {
					e.Slice, e.Off = 0, 0
				}
				keep = append(keep, e)
			}
			if err := tx.SetExtents(k.ino, k.chunk, keep); err != nil {
				return err
			}
		}
		return nil
	})
}

func hasSlice(m map[uint64]uint64, id uint64) bool { _, ok := m[id]; return ok }
