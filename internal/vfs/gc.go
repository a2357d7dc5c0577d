package vfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"tarn.dev/tarn/internal/meta"
)

// compactGap is the largest hole that compaction fills with zeros to merge
// the data around it into one extent.
const compactGap = 1 << 20

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
	f.gcMu.Lock() // one collection at a time: two would delete the same blocks
	defer f.gcMu.Unlock()
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
	// Runs of data separated by small holes are merged into one extent (the
	// hole stored as zeros), so a compacted chunk has at most
	// ChunkSize/compactGap extents however sparse it was.
	type run struct {
		pos, end uint32
		parts    []seg
	}
	var runs []run
	var size uint64
	for _, s := range visible(ext) {
		if s.slice == 0 {
			continue
		}
		if k := len(runs) - 1; k >= 0 && s.pos-runs[k].end <= compactGap {
			size += uint64(s.end - runs[k].end)
			runs[k].end = s.end
			runs[k].parts = append(runs[k].parts, s)
			continue
		}
		size += uint64(s.end - s.pos)
		runs = append(runs, run{s.pos, s.end, []seg{s}})
	}
	id, err := f.allocSlice(ctx)
	if err != nil {
		return err
	}
	defer f.settled(id)
	data := make([]byte, size)
	var out []meta.Extent
	var at uint64
	for _, r := range runs {
		out = append(out, meta.Extent{Chunk: chunk, Pos: r.pos, Len: r.end - r.pos, Slice: id, Off: at})
		for _, s := range r.parts {
			dst := data[at+uint64(s.pos-r.pos) : at+uint64(s.end-r.pos)]
			if err := f.readSlice(ctx, s.slice, dst, s.off, false); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					// Another compaction replaced these extents and GC
					// collected the old slice: nothing left to do here.
					return nil
				}
				return err
			}
		}
		at += uint64(r.end - r.pos)
	}
	if len(data) > 0 {
		if err := f.putSlice(ctx, id, data); err != nil {
			return err
		}
		// The old slices may be deleted once this commits: the new one
		// must be durable first, or a power loss could lose data that was
		// durable before.
		if f.opts.Sync != nil {
			if err := f.opts.Sync(ctx); err != nil {
				f.deleteSlice(context.WithoutCancel(ctx), meta.Slice{ID: id, Size: uint64(len(data))})
				return fmt.Errorf("compact: sync: %w", err)
			}
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
