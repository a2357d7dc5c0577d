package vfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"tarn.dev/tarn/internal/meta"
)

// blockKey names block i of slice id in the blob store. The id/1e6 level
// keeps directory fan-out bounded on disk backends. Block sizes follow from
// the slice size recorded in the metadata (every block but the last is
// BlockSize bytes), so fsck checks listed sizes against it.
func (f *FS) blockKey(id uint64, i int) string {
	return fmt.Sprintf("chunks/%s/%d/%d_%d", f.opts.ID, id/1_000_000, id, i)
}

func (f *FS) blockPrefix() string { return "chunks/" + f.opts.ID + "/" }

// parseBlockKey is the inverse of blockKey.
func (f *FS) parseBlockKey(key string) (id uint64, i int, ok bool) {
	rest, found := strings.CutPrefix(key, f.blockPrefix())
	if !found {
		return 0, 0, false
	}
	_, name, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(name, "_")
	if !found {
		return 0, 0, false
	}
	id, err1 := strconv.ParseUint(a, 10, 64)
	i, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || f.blockKey(id, i) != key {
		return 0, 0, false
	}
	return id, i, true
}

// blocks calls fn for each block of a slice of the given size.
func blocks(size uint64, fn func(i int, off uint64, n int)) {
	for i, off := 0, uint64(0); off < size; i, off = i+1, off+BlockSize {
		fn(i, off, int(min(BlockSize, size-off)))
	}
}

// seg is a visible piece of a chunk: bytes [pos, end) come from slice at
// offset off (slice 0 reads as zeros).
type seg struct {
	pos, end uint32
	slice    uint64
	off      uint64
}

// visible overlays extents in order and returns the sorted, non-overlapping
// pieces that a read sees.
func visible(ext []meta.Extent) []seg {
	var segs []seg
	for _, e := range ext {
		if e.Len == 0 {
			continue
		}
		ns := seg{pos: e.Pos, end: e.End(), slice: e.Slice, off: e.Off}
		i := sort.Search(len(segs), func(k int) bool { return segs[k].end > ns.pos })
		j := i
		for j < len(segs) && segs[j].pos < ns.end {
			j++
		}
		repl := make([]seg, 0, 3)
		if i < j && segs[i].pos < ns.pos {
			l := segs[i]
			l.end = ns.pos
			repl = append(repl, l)
		}
		repl = append(repl, ns)
		if i < j && segs[j-1].end > ns.end {
			r := segs[j-1]
			r.off += uint64(ns.end - r.pos)
			r.pos = ns.end
			repl = append(repl, r)
		}
		segs = append(segs[:i], append(repl, segs[j:]...)...)
	}
	return segs
}

func (f *FS) readFull(ctx context.Context, key string, p []byte, off int64) error {
	n, err := f.blobs.ReadAt(ctx, key, p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = fmt.Errorf("block %s: short read %d of %d: %w", key, n, len(p), io.ErrUnexpectedEOF)
	}
	return err
}

// putSlice writes data as the blocks of slice id. On failure it deletes the
// blocks it wrote.
func (f *FS) putSlice(ctx context.Context, id uint64, data []byte) error {
	// The blocks of a slice are stored in parallel: each Put waits for its
	// own fsync, and overlapping them keeps the disk busy.
	type result struct {
		key string
		err error
	}
	var keys []string
	results := make(chan result)
	blocks(uint64(len(data)), func(i int, off uint64, n int) {
		key := f.blockKey(id, i)
		keys = append(keys, key)
		go func() { results <- result{key, f.blobs.Put(ctx, key, data[off:off+uint64(n)])} }()
	})
	var err error
	for range keys {
		if r := <-results; r.err != nil && err == nil {
			err = r.err
		}
	}
	if err != nil {
		for _, k := range keys {
			f.blobs.Delete(context.WithoutCancel(ctx), k)
		}
		return fmt.Errorf("write slice %d: %w", id, err)
	}
	return nil
}

// deleteSlice deletes the blocks of a slice.
func (f *FS) deleteSlice(ctx context.Context, s meta.Slice) error {
	var errs []error
	blocks(s.Size, func(i int, off uint64, n int) {
		key := f.blockKey(s.ID, i)
		if f.cache != nil {
			f.cache.drop(key)
		}
		if err := f.blobs.Delete(ctx, key); err != nil {
			errs = append(errs, err)
		}
	})
	return errors.Join(errs...)
}
