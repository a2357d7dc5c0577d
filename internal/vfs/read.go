package vfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"
)

// Reads plan under the file's lock and read blocks without it, so that the
// kernel's concurrent readahead requests of one file are served in
// parallel; a sequential reader also prefetches the blocks ahead of it.

// prefetchBytes is how far ahead of a sequential reader blocks are fetched.
const prefetchBytes = 2 * BlockSize

// maxPrefetches bounds the block fetches started ahead of readers, per
// file system.
const maxPrefetches = 4

// piece is a part of a read served by a stored slice: n bytes at dst in the
// caller's buffer come from the slice at off.
type piece struct {
	dst, n int
	slice  uint64
	off    uint64
}

// Read reads from an open file at off. It returns fewer bytes than len(p)
// only at the end of the file (0 at or past it). Holes read as zeros, and
// writes buffered by any handle of this file system are visible.
func (f *FS) Read(ctx context.Context, h Handle, p []byte, off int64) (int, error) {
	hd, err := f.fileHandle("read", h, off, (*handle).readable)
	if err != nil {
		return 0, err
	}
	st := hd.st
	for attempt := 0; ; attempt++ {
		st.mu.Lock()
		if err := f.load(ctx, st); err != nil {
			st.mu.Unlock()
			return 0, opErr("read", hd.ino, "", err)
		}
		if uint64(off) >= st.size {
			st.mu.Unlock()
			return 0, nil
		}
		q := p[:min(uint64(len(p)), st.size-uint64(off))]
		end := uint64(off) + uint64(len(q))
		// A read that continues the previous one is sequential; so is a
		// large one from the start of the file. Large reads elsewhere fetch
		// whole blocks but start no prefetch.
		sequential := off == hd.lastEnd || (off == 0 && len(q) >= 128<<10)
		whole := sequential || len(q) >= 128<<10
		plan, err := f.planRead(ctx, st, uint64(off), len(q))
		var newer []dext
		if err == nil {
			// The buffered writes are copied now: once the lock is
			// released a flush may move them into a slice this plan
			// does not read.
			newer = st.buffered(uint64(off), end)
			hd.lastEnd = int64(end)
			if sequential {
				f.prefetchLocked(ctx, st, end)
			}
		}
		st.mu.Unlock()
		if err == nil {
			clear(q)
			err = f.readPieces(ctx, q, plan, whole)
		}
		if errors.Is(err, fs.ErrNotExist) && attempt == 0 {
			// A compaction may have replaced the extents we had cached and
			// GC deleted the old blocks: reload the map and try once more.
			st.mu.Lock()
			clear(st.segs)
			st.mu.Unlock()
			continue
		}
		if err != nil {
			return 0, opErr("read", hd.ino, "", err)
		}
		for _, d := range newer {
			copy(q[d.off-uint64(off):], d.data)
		}
		return len(q), nil
	}
}

// buffered returns copies of the buffered writes within [off, end), older
// first. Caller holds st.mu.
func (st *inode) buffered(off, end uint64) []dext {
	var out []dext
	for _, buf := range [][]dext{st.flushing, st.dirty} {
		i := sort.Search(len(buf), func(k int) bool { return buf[k].end() > off })
		for ; i < len(buf) && buf[i].off < end; i++ {
			d := buf[i]
			lo, hi := max(d.off, off), min(d.end(), end)
			out = append(out, dext{off: lo, data: append([]byte(nil), d.data[lo-d.off:hi-d.off]...)})
		}
	}
	return out
}

// planRead resolves the n stored bytes at off into pieces of slices; holes
// are left out. Caller holds st.mu.
func (f *FS) planRead(ctx context.Context, st *inode, off uint64, n int) ([]piece, error) {
	var plan []piece
	end := off + uint64(n)
	for pos := off; pos < end; {
		chunk := pos / ChunkSize
		base := chunk * ChunkSize
		cend := min(end, base+ChunkSize)
		segs, err := f.segments(ctx, st, chunk)
		if err != nil {
			return nil, err
		}
		lo, hi := uint32(pos-base), uint32(cend-base)
		i := sort.Search(len(segs), func(k int) bool { return segs[k].end > lo })
		for ; i < len(segs) && segs[i].pos < hi; i++ {
			s := segs[i]
			if s.slice == 0 {
				continue
			}
			a, b := max(s.pos, lo), min(s.end, hi)
			plan = append(plan, piece{dst: int(base + uint64(a) - off), n: int(b - a), slice: s.slice, off: s.off + uint64(a-s.pos)})
		}
		pos = cend
	}
	return plan, nil
}

func (f *FS) readPieces(ctx context.Context, p []byte, plan []piece, whole bool) error {
	for _, pc := range plan {
		if err := f.readSlice(ctx, pc.slice, p[pc.dst:pc.dst+pc.n], pc.off, whole); err != nil {
			return err
		}
	}
	return nil
}

// prefetchLocked starts fetching the blocks that hold the prefetchBytes of
// the file after end, unless they are cached or already being fetched.
// Caller holds st.mu.
func (f *FS) prefetchLocked(ctx context.Context, st *inode, end uint64) {
	if f.cache == nil || end >= st.size {
		return
	}
	plan, err := f.planRead(ctx, st, end, int(min(prefetchBytes, st.size-end)))
	if err != nil {
		return
	}
	for _, pc := range plan {
		first, last := pc.off/BlockSize, (pc.off+uint64(pc.n)-1)/BlockSize
		for bi := first; bi <= last; bi++ {
			key := f.blockKey(pc.slice, int(bi))
			if f.cache.has(key) || f.fetches.running(key) || !f.fetches.startPrefetch() {
				continue
			}
			go func() {
				defer f.fetches.endPrefetch()
				f.block(context.WithoutCancel(ctx), key)
			}()
		}
	}
}

// readSlice reads len(p) bytes of slice id at off. Whole blocks are fetched
// and cached when whole is set (sequential reads) or when they are cached or
// being fetched already; otherwise only the bytes asked for are read.
func (f *FS) readSlice(ctx context.Context, id uint64, p []byte, off uint64, whole bool) error {
	for len(p) > 0 {
		bi := int(off / BlockSize)
		boff := off % BlockSize
		n := min(len(p), BlockSize-int(boff))
		key := f.blockKey(id, bi)
		var b []byte
		if f.cache != nil {
			b = f.cache.get(key)
			if b == nil && (whole || f.fetches.running(key)) {
				var err error
				if b, err = f.block(ctx, key); err != nil {
					return err
				}
			}
		}
		if b != nil {
			if len(b) < int(boff)+n {
				return fmt.Errorf("block %s: short read %d: %w", key, len(b), io.ErrUnexpectedEOF)
			}
			copy(p[:n], b[boff:])
		} else if err := f.readFull(ctx, key, p[:n], int64(boff)); err != nil {
			return err
		}
		p, off = p[n:], off+uint64(n)
	}
	return nil
}

// block returns a whole block from the cache, or reads and caches it. Readers
// that want a block being read wait for that read instead of repeating it.
func (f *FS) block(ctx context.Context, key string) ([]byte, error) {
	if b := f.cache.get(key); b != nil {
		return b, nil
	}
	fe, first := f.fetches.join(key, f.cache)
	if fe == nil { // cached meanwhile
		return f.block(ctx, key)
	}
	if !first {
		select {
		case <-fe.done:
			return fe.data, fe.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b := make([]byte, BlockSize)
	m, err := f.blobs.ReadAt(ctx, key, b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		fe.err = err
	} else {
		fe.data = b[:m:m]
		f.cache.put(key, fe.data)
	}
	f.fetches.done(key, fe)
	return fe.data, fe.err
}

// fetchTable tracks the block reads in progress.
type fetchTable struct {
	mu          sync.Mutex
	inflight    map[string]*fetch
	prefetches  int
	prefetching sync.WaitGroup // Close waits for the prefetches
}

type fetch struct {
	done chan struct{}
	data []byte
	err  error
}

// join returns the read of key in progress (first false), or registers a
// new one that the caller must perform and end with done (first true). It
// returns nil if the block was cached meanwhile.
func (t *fetchTable) join(key string, cache *blockCache) (fe *fetch, first bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fe := t.inflight[key]; fe != nil {
		return fe, false
	}
	if cache.get(key) != nil {
		return nil, false
	}
	if t.inflight == nil {
		t.inflight = map[string]*fetch{}
	}
	fe = &fetch{done: make(chan struct{})}
	t.inflight[key] = fe
	return fe, true
}

func (t *fetchTable) done(key string, fe *fetch) {
	t.mu.Lock()
	delete(t.inflight, key)
	t.mu.Unlock()
	close(fe.done)
}

func (t *fetchTable) running(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inflight[key] != nil
}

// startPrefetch reserves one of maxPrefetches slots.
func (t *fetchTable) startPrefetch() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.prefetches >= maxPrefetches {
		return false
	}
	t.prefetches++
	t.prefetching.Add(1)
	return true
}

func (t *fetchTable) endPrefetch() {
	t.mu.Lock()
	t.prefetches--
	t.mu.Unlock()
	t.prefetching.Done()
}
