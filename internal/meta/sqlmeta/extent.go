package sqlmeta

import (
	"fmt"
	"sort"

	"tarn.dev/tarn/internal/meta"
)

func (t *sqlTx) AddSlice(s meta.Slice) error {
	_, err := t.exec(`INSERT INTO tarn_slice (fs, id, size, refs) VALUES (?, ?, ?, 0)`, t.s.fs, int64(s.ID), int64(s.Size))
	if err != nil {
		return fmt.Errorf("add slice %d: %w", s.ID, err)
	}
	return nil
}

func (t *sqlTx) Extents(ino meta.Ino, chunk uint64) ([]meta.Extent, error) {
	rows, err := t.rows(`SELECT pos, len, slice, off FROM tarn_extent WHERE fs = ? AND ino = ? AND chunk = ? ORDER BY seq`,
		t.s.fs, int64(ino), int64(chunk))
	if err != nil {
		return nil, fmt.Errorf("extents %d/%d: %w", ino, chunk, err)
	}
	var ext []meta.Extent
	for rows.Next() {
		var pos, ln, slice, off int64
		if err := rows.Scan(&pos, &ln, &slice, &off); err != nil {
			rows.Close()
			return nil, t.classify(err)
		}
		ext = append(ext, meta.Extent{Chunk: chunk, Pos: uint32(pos), Len: uint32(ln), Slice: uint64(slice), Off: uint64(off)})
	}
	if err := closeRows(rows); err != nil {
		return nil, t.classify(err)
	}
	return ext, nil
}

func (t *sqlTx) insertExtent(ino meta.Ino, seq int64, e meta.Extent) error {
	_, err := t.exec(`INSERT INTO tarn_extent (fs, ino, chunk, seq, pos, len, slice, off) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.s.fs, int64(ino), int64(e.Chunk), seq, int64(e.Pos), int64(e.Len), int64(e.Slice), int64(e.Off))
	if err != nil {
		return fmt.Errorf("add extent %d/%d: %w", ino, e.Chunk, err)
	}
	return nil
}

func (t *sqlTx) AppendExtents(ino meta.Ino, ext []meta.Extent) error {
	seqs := map[uint64]int64{}
	refs := map[uint64]int64{}
	for _, e := range ext {
		seq, ok := seqs[e.Chunk]
		if !ok {
			if err := t.row(`SELECT COALESCE(MAX(seq), 0) FROM tarn_extent WHERE fs = ? AND ino = ? AND chunk = ?`,
				t.s.fs, int64(ino), int64(e.Chunk)).Scan(&seq); err != nil {
				return fmt.Errorf("append extents %d: %w", ino, t.classify(err))
			}
		}
		seq++
		seqs[e.Chunk] = seq
		if err := t.insertExtent(ino, seq, e); err != nil {
			return err
		}
		if e.Slice != 0 {
			refs[e.Slice]++
		}
	}
	return t.addRefs(refs)
}

// addRefs adds reference deltas to slices and moves slices left without
// references to the dead list.
func (t *sqlTx) addRefs(delta map[uint64]int64) error {
	ids := make([]uint64, 0, len(delta))
	for id, d := range delta {
		if d != 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		var refs, size int64
		err := t.row(`UPDATE tarn_slice SET refs = refs + ? WHERE fs = ? AND id = ? RETURNING refs, size`,
			delta[id], t.s.fs, int64(id)).Scan(&refs, &size)
		if err != nil {
			return fmt.Errorf("slice %d refs: %w", id, t.classify(err))
		}
		if refs <= 0 {
			if err := t.kill(id, size); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *sqlTx) kill(id uint64, size int64) error {
	if _, err := t.exec(`DELETE FROM tarn_slice WHERE fs = ? AND id = ?`, t.s.fs, int64(id)); err != nil {
		return fmt.Errorf("drop slice %d: %w", id, err)
	}
	if _, err := t.exec(`INSERT INTO tarn_dead_slice (fs, id, size) VALUES (?, ?, ?)`, t.s.fs, int64(id), size); err != nil {
		return fmt.Errorf("drop slice %d: %w", id, err)
	}
	return nil
}

// dropExtents deletes the extents selected by where (after "fs = ? AND ino = ?")
// and releases their slice references.
func (t *sqlTx) dropExtents(ino meta.Ino, where string, args ...any) error {
	a := append([]any{t.s.fs, int64(ino)}, args...)
	rows, err := t.rows(`SELECT slice, COUNT(*) FROM tarn_extent WHERE fs = ? AND ino = ? `+where+` GROUP BY slice`, a...)
	if err != nil {
		return fmt.Errorf("drop extents %d: %w", ino, err)
	}
	refs := map[uint64]int64{}
	for rows.Next() {
		var slice, n int64
		if err := rows.Scan(&slice, &n); err != nil {
			rows.Close()
			return t.classify(err)
		}
		if slice != 0 {
			refs[uint64(slice)] = -n
		}
	}
	if err := closeRows(rows); err != nil {
		return t.classify(err)
	}
	if _, err := t.exec(`DELETE FROM tarn_extent WHERE fs = ? AND ino = ? `+where, a...); err != nil {
		return fmt.Errorf("drop extents %d: %w", ino, err)
	}
	return t.addRefs(refs)
}

func (t *sqlTx) SetExtents(ino meta.Ino, chunk uint64, ext []meta.Extent) error {
	refs := map[uint64]int64{}
	for _, e := range ext {
		if e.Chunk != chunk {
			return fmt.Errorf("set extents %d/%d: extent in chunk %d", ino, chunk, e.Chunk)
		}
		if e.Slice != 0 {
			refs[e.Slice]++
		}
	}
	// Add the new references first so that a slice kept by the new list
	// never drops to zero in between.
	for i, e := range ext {
		if err := t.insertExtent(ino, -int64(i)-1, e); err != nil {
			return err
		}
	}
	if err := t.addRefs(refs); err != nil {
		return err
	}
	if err := t.dropExtents(ino, `AND chunk = ? AND seq > 0`, int64(chunk)); err != nil {
		return err
	}
	_, err := t.exec(`UPDATE tarn_extent SET seq = -seq WHERE fs = ? AND ino = ? AND chunk = ?`, t.s.fs, int64(ino), int64(chunk))
	if err != nil {
		return fmt.Errorf("set extents %d/%d: %w", ino, chunk, err)
	}
	return nil
}

func (t *sqlTx) DeleteExtents(ino meta.Ino, from uint64) error {
	return t.dropExtents(ino, `AND chunk >= ?`, int64(from))
}

func (t *sqlTx) ChunkExtents(ino meta.Ino, fn func(chunk uint64, n int) error) error {
	rows, err := t.rows(`SELECT chunk, COUNT(*) FROM tarn_extent WHERE fs = ? AND ino = ? GROUP BY chunk ORDER BY chunk`,
		t.s.fs, int64(ino))
	if err != nil {
		return err
	}
	type cn struct {
		c uint64
		n int
	}
	var all []cn
	for rows.Next() {
		var c, n int64
		if err := rows.Scan(&c, &n); err != nil {
			rows.Close()
			return t.classify(err)
		}
		all = append(all, cn{uint64(c), int(n)})
	}
	if err := closeRows(rows); err != nil {
		return t.classify(err)
	}
	for _, x := range all {
		if err := fn(x.c, x.n); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqlTx) AllExtents(fn func(ino meta.Ino, e meta.Extent) error) error {
	rows, err := t.rows(`SELECT ino, chunk, pos, len, slice, off FROM tarn_extent WHERE fs = ? ORDER BY ino, chunk, seq`, t.s.fs)
	if err != nil {
		return err
	}
	type ie struct {
		ino meta.Ino
		e   meta.Extent
	}
	var all []ie
	for rows.Next() {
		var ino, chunk, pos, ln, slice, off int64
		if err := rows.Scan(&ino, &chunk, &pos, &ln, &slice, &off); err != nil {
			rows.Close()
			return t.classify(err)
		}
		all = append(all, ie{meta.Ino(ino), meta.Extent{Chunk: uint64(chunk), Pos: uint32(pos), Len: uint32(ln), Slice: uint64(slice), Off: uint64(off)}})
	}
	if err := closeRows(rows); err != nil {
		return t.classify(err)
	}
	for _, x := range all {
		if err := fn(x.ino, x.e); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqlTx) Slices(fn func(s meta.Slice, refs int64) error) error {
	rows, err := t.rows(`SELECT id, size, refs FROM tarn_slice WHERE fs = ? ORDER BY id`, t.s.fs)
	if err != nil {
		return err
	}
	type sr struct {
		s    meta.Slice
		refs int64
	}
	var all []sr
	for rows.Next() {
		var id, size, refs int64
		if err := rows.Scan(&id, &size, &refs); err != nil {
			rows.Close()
			return t.classify(err)
		}
		all = append(all, sr{meta.Slice{ID: uint64(id), Size: uint64(size)}, refs})
	}
	if err := closeRows(rows); err != nil {
		return t.classify(err)
	}
	for _, x := range all {
		if err := fn(x.s, x.refs); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqlTx) SetSliceRefs(id uint64, refs int64) error {
	var size int64
	err := t.row(`UPDATE tarn_slice SET refs = ? WHERE fs = ? AND id = ? RETURNING size`, refs, t.s.fs, int64(id)).Scan(&size)
	if err != nil {
		return fmt.Errorf("set slice %d refs: %w", id, t.classify(err))
	}
	if refs <= 0 {
		return t.kill(id, size)
	}
	return nil
}

func (t *sqlTx) DeadSlices(limit int) ([]meta.Slice, error) {
	rows, err := t.rows(`SELECT id, size FROM tarn_dead_slice WHERE fs = ? ORDER BY id LIMIT ?`, t.s.fs, limit)
	if err != nil {
		return nil, err
	}
	var out []meta.Slice
	for rows.Next() {
		var id, size int64
		if err := rows.Scan(&id, &size); err != nil {
			rows.Close()
			return nil, t.classify(err)
		}
		out = append(out, meta.Slice{ID: uint64(id), Size: uint64(size)})
	}
	return out, t.classify(closeRows(rows))
}

func (t *sqlTx) ForgetSlices(ids []uint64) error {
	for _, id := range ids {
		if _, err := t.exec(`DELETE FROM tarn_dead_slice WHERE fs = ? AND id = ?`, t.s.fs, int64(id)); err != nil {
			return fmt.Errorf("forget slice %d: %w", id, err)
		}
	}
	return nil
}
