package vfs

import (
	"context"
	"slices"
	"time"

	"tarn.dev/tarn/internal/meta"
)

type chunkRef struct {
	ino   Ino
	chunk uint64
}

// kick wakes the background worker to collect garbage.
func (f *FS) kick() {
	select {
	case f.bg <- struct{}{}:
	default:
	}
}

// background deletes the blocks of dead slices and compacts fragmented
// chunks until Close.
func (f *FS) background() {
	defer close(f.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-f.stop; cancel() }()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-f.bg:
		case <-tick.C:
		case r := <-f.compact:
			if err := f.CompactChunk(ctx, r.ino, r.chunk); err != nil && ctx.Err() == nil {
				f.opts.Logger.Warn("compact", "ino", r.ino, "chunk", r.chunk, "err", err)
			}
		}
		if _, err := f.GC(ctx); err != nil && ctx.Err() == nil {
			f.opts.Logger.Warn("gc", "err", err)
		}
	}
}

// GC deletes the blocks of slices that lost their last reference in a
// committed transaction, and forgets them. It returns how many slices it
// deleted. It runs in the background; tests and fsck call it directly.
func (f *FS) GC(ctx context.Context) (int, error) {
	n := 0
	for {
		var dead []meta.Slice
		err := f.meta.View(ctx, func(tx meta.Tx) (err error) { dead, err = tx.DeadSlices(256); return err })
		if err != nil || len(dead) == 0 {
			return n, err
		}
		ids := make([]uint64, 0, len(dead))
		for _, s := range dead {
			if err := f.deleteSlice(ctx, s); err != nil {
				return n, err
			}
			ids = append(ids, s.ID)
		}
		if err := f.meta.Update(ctx, func(tx meta.Tx) error { return tx.ForgetSlices(ids) }); err != nil {
			return n, err
		}
		n += len(dead)
	}
}

// CompactChunk rewrites the visible data of one chunk of a file as a single
// new slice and replaces the chunk's extents with extents into it, so reads
// touch one slice and the superseded slices become garbage. Extents appended
// while the compaction runs are kept after the new ones; if the chunk was
// otherwise changed meanwhile (truncate), the compaction is abandoned.
func (f *FS) CompactChunk(ctx context.Context, ino Ino, chunk uint64) error {
	var ext []meta.Extent
	err := f.meta.View(ctx, func(tx meta.Tx) (err error) { ext, err = tx.Extents(ino, chunk); return err })
	if err != nil || len(ext) < 2 {
		return err
	}
	segs := visible(ext)
	var size uint64
	for _, s := range segs {
		if s.slice != 0 {
			size += uint64(s.end - s.pos)
		}
	}
	id, err := f.allocSlice(ctx)
	if err != nil {
		return err
	}
	defer f.settled(id)
	data := make([]byte, 0, size)
	var out []meta.Extent
	for _, s := range segs {
		if s.slice == 0 {
			continue
		}
		n := s.end - s.pos
		if k := len(out) - 1; k >= 0 && out[k].End() == s.pos {
			out[k].Len += n
		} else {
			out = append(out, meta.Extent{Chunk: chunk, Pos: s.pos, Len: n, Slice: id, Off: uint64(len(data))})
		}
		data = data[:len(data)+int(n)]
		if err := f.readSlice(ctx, s.slice, data[len(data)-int(n):], s.off, false); err != nil {
			return err
		}
	}
	if len(data) > 0 {
		if err := f.putSlice(ctx, id, data); err != nil {
			return err
		}
	}
	abandoned := false
	err = f.meta.Update(ctx, func(tx meta.Tx) error {
		abandoned = false
		cur, err := tx.Extents(ino, chunk)
		if err != nil {
			return err
		}
		if len(cur) < len(ext) || !slices.Equal(cur[:len(ext)], ext) {
			abandoned = true
			return nil
		}
		if len(data) > 0 {
			if err := tx.AddSlice(meta.Slice{ID: id, Size: uint64(len(data))}); err != nil {
				return err
			}
		}
		return tx.SetExtents(ino, chunk, append(out, cur[len(ext):]...))
	})
	if err != nil || abandoned {
		f.deleteSlice(context.WithoutCancel(ctx), meta.Slice{ID: id, Size: uint64(len(data))})
		return err
	}
	f.mu.Lock()
	st := f.inodes[ino]
	f.mu.Unlock()
	if st != nil {
		st.mu.Lock()
		delete(st.segs, chunk)
		st.mu.Unlock()
	}
	f.kick()
	return nil
}

// Compact compacts every chunk of ino that has more than one extent.
func (f *FS) Compact(ctx context.Context, ino Ino) error {
	var chunks []uint64
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		return tx.ChunkExtents(ino, func(c uint64, n int) error {
			if n > 1 {
				chunks = append(chunks, c)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, c := range chunks {
		if err := f.CompactChunk(ctx, ino, c); err != nil {
			return err
		}
	}
	return nil
}
