package vfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/meta"
)

// inode is the in-memory state of an inode in use by handles or by an
// operation on its data: the authoritative size, writes not yet flushed, and
// the visible-segment map of recently read chunks.
type inode struct {
	ino      Ino
	refs     int  // users, guarded by FS.mu
	opens    int  // open file handles, guarded by FS.mu
	unlinked bool // lost its last link while open, guarded by FS.mu

	mu     sync.Mutex // guards the fields below
	loaded bool
	size   uint64 // file size including buffered writes, valid if loaded
	dirty  []dext // buffered writes, sorted, non-overlapping
	// flushing is a buffer being stored by a flush behind (flushDone is
	// closed when it is recorded); reads see it under dirty.
	flushing  []dext
	flushDone chan struct{}
	dirtyLen  int
	dirtyTime time.Time
	segs      map[uint64][]seg // visible segments per chunk
	// flushedGen is the FS flush generation of this file's last flush; the
	// file is durable once FS.syncedGen reaches it.
	flushedGen uint64
}

// dext is a buffered write.
type dext struct {
	off  uint64
	data []byte
}

func (d dext) end() uint64 { return d.off + uint64(len(d.data)) }

type handle struct {
	ino     Ino
	st      *inode
	flags   int
	dir     bool
	lastEnd int64 // end of the previous read, to detect sequential reads
}

// fileHandle returns the handle of an open file for op at off, checking
// that it is not a directory, that allowed (readable or writable) holds and
// that off is not negative.
func (f *FS) fileHandle(op string, h Handle, off int64, allowed func(*handle) bool) (*handle, error) {
	hd, err := f.handle(h)
	switch {
	case err != nil:
		return nil, opErr(op, 0, "", err)
	case hd.dir:
		return nil, opErr(op, hd.ino, "", ErrIsDir)
	case !allowed(hd):
		return nil, opErr(op, hd.ino, "", ErrBadHandle)
	case off < 0:
		return nil, opErr(op, hd.ino, "", ErrInvalid)
	}
	return hd, nil
}

func (h *handle) readable() bool { return h.flags&syscall.O_ACCMODE != syscall.O_WRONLY }
func (h *handle) writable() bool { return h.flags&syscall.O_ACCMODE != syscall.O_RDONLY }

// acquire returns the state of ino with a reference held.
func (f *FS) acquire(ino Ino) *inode {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acquireLocked(ino)
}

func (f *FS) acquireLocked(ino Ino) *inode {
	st := f.inodes[ino]
	if st == nil {
		st = &inode{ino: ino, segs: map[uint64][]seg{}}
		f.inodes[ino] = st
	}
	st.refs++
	return st
}

// hold takes another reference to st.
func (f *FS) hold(st *inode) {
	f.mu.Lock()
	st.refs++
	f.mu.Unlock()
}

func (f *FS) release(st *inode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st.refs--
	if st.refs == 0 {
		delete(f.inodes, st.ino)
	}
}

// load reads the stored size once. Caller holds st.mu.
func (f *FS) load(ctx context.Context, st *inode) error {
	if st.loaded {
		return nil
	}
	return f.meta.View(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(st.ino)
		if err != nil {
			return err
		}
		st.size, st.loaded = in.Size, true
		return nil
	})
}

// Open opens ino. O_TRUNC truncates; O_APPEND makes every write append.
func (f *FS) Open(ctx context.Context, c Caller, ino Ino, flags int) (Handle, error) {
	h, err := f.open(ctx, c, ino, flags, true)
	return h, opErr("open", ino, "", err)
}

func (f *FS) open(ctx context.Context, c Caller, ino Ino, flags int, check bool) (Handle, error) {
	f.mu.Lock()
	if f.reaping[ino] {
		f.mu.Unlock()
		return 0, fs.ErrNotExist
	}
	st := f.acquireLocked(ino)
	st.opens++
	f.mu.Unlock()
	hd := &handle{ino: ino, st: st, flags: flags, lastEnd: -1}
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		switch in.Mode & ModeType {
		case ModeDir:
			if hd.writable() || flags&syscall.O_TRUNC != 0 {
				return ErrIsDir
			}
		case ModeSymlink:
			return ErrLoop
		case ModeRegular:
		default:
			return ErrNotSupported
		}
		if !check {
			return nil
		}
		var mask uint32
		if hd.readable() {
			mask |= MayRead
		}
		if hd.writable() || flags&syscall.O_TRUNC != 0 {
			mask |= MayWrite
		}
		if !mayAccess(in, c, mask) {
			return fs.ErrPermission
		}
		return nil
	})
	if err == nil && flags&syscall.O_TRUNC != 0 {
		err = f.truncate(ctx, c, ino, 0, Handle(^uint64(0)))
	}
	if err != nil {
		f.closeState(ctx, st)
		return 0, err
	}
	return f.newHandle(hd), nil
}

// Create creates and opens a regular file. Without O_EXCL an existing file
// is opened instead.
func (f *FS) Create(ctx context.Context, c Caller, parent Ino, name string, mode uint32, flags int, umask uint32) (Attr, Handle, error) {
	in, err := f.createOp(ctx, "create", c, parent, name, newNode{mode: ModeRegular | mode&^umask&ModePerm})
	if errors.Is(err, fs.ErrExist) && flags&syscall.O_EXCL == 0 {
		a, err := f.Lookup(ctx, c, parent, name)
		if err != nil {
			return Attr{}, 0, err
		}
		h, err := f.Open(ctx, c, a.Ino, flags&^syscall.O_CREAT)
		if err != nil {
			return Attr{}, 0, err
		}
		a, err = f.GetAttr(ctx, c, a.Ino)
		return a, h, err
	}
	if err != nil {
		return Attr{}, 0, err
	}
	// The file was just created as a regular file that nobody else could
	// have opened yet: attach a handle without reading it back.
	f.mu.Lock()
	st := f.acquireLocked(in.Ino)
	st.opens++
	f.mu.Unlock()
	h := f.newHandle(&handle{ino: in.Ino, st: st, flags: flags &^ syscall.O_TRUNC, lastEnd: -1})
	return attr(in), h, nil
}

// segments returns the visible segments of a chunk, cached in st.
func (f *FS) segments(ctx context.Context, st *inode, chunk uint64) ([]seg, error) {
	if s, ok := st.segs[chunk]; ok {
		return s, nil
	}
	var ext []meta.Extent
	err := f.meta.View(ctx, func(tx meta.Tx) (err error) { ext, err = tx.Extents(st.ino, chunk); return err })
	if err != nil {
		return nil, err
	}
	s := visible(ext)
	if len(st.segs) > 64 {
		clear(st.segs)
	}
	st.segs[chunk] = s
	return s, nil
}

// Write writes p at off (at the end of the file for O_APPEND handles). The
// data is buffered and becomes durable on Fsync, Flush or Release, or when the
// buffer fills.
func (f *FS) Write(ctx context.Context, h Handle, p []byte, off int64) (int, error) {
	hd, err := f.fileHandle("write", h, off, (*handle).writable)
	if err != nil {
		return 0, err
	}
	st := hd.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := f.load(ctx, st); err != nil {
		return 0, opErr("write", hd.ino, "", err)
	}
	if hd.flags&syscall.O_APPEND != 0 {
		off = int64(st.size)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if uint64(off) >= MaxFileSize {
		return 0, opErr("write", hd.ino, "", ErrFileTooBig)
	}
	p = p[:min(uint64(len(p)), MaxFileSize-uint64(off))]
	if st.dirtyLen > 0 && (st.dirtyLen+len(p) > f.opts.MaxDirtyPerFile || f.dirty.Load()+int64(len(p)) > f.opts.MaxDirty) {
		if err := f.flushLocked(ctx, st); err != nil {
			return 0, opErr("write", hd.ino, "", err)
		}
	}
	before := st.dirtyLen
	st.addDirty(uint64(off), p, f.opts.MaxDirtyPerFile)
	f.dirty.Add(int64(st.dirtyLen - before))
	st.size = max(st.size, uint64(off)+uint64(len(p)))
	st.dirtyTime = f.opts.Now()
	if st.dirtyLen >= f.opts.MaxDirtyPerFile {
		f.flushBehindLocked(ctx, st)
	}
	f.notify(ctx, Change{Kind: ChangeData, Ino: hd.ino})
	return len(p), nil
}

// addDirty merges a write into the sorted buffer.
// addDirty buffers p at off. A large write starts a buffer with room for a
// whole flush (limit bytes), so that the writes of a sequential stream
// extend it in place instead of regrowing and copying it.
func (st *inode) addDirty(off uint64, p []byte, limit int) {
	end := off + uint64(len(p))
	d := st.dirty
	i := sort.Search(len(d), func(k int) bool { return d[k].end() >= off })
	j := i
	for j < len(d) && d[j].off <= end {
		j++
	}
	switch {
	case i == j:
		buf := make([]byte, len(p), len(p))
		if len(p) >= 128<<10 && limit > len(p) {
			buf = make([]byte, len(p), limit)
		}
		copy(buf, p)
		st.dirty = slices.Insert(d, i, dext{off: off, data: buf})
		st.dirtyLen += len(p)
	case j == i+1 && d[i].off <= off:
		// Overwrite inside or extend one buffer (the sequential case).
		x := &d[i]
		rel := off - x.off
		if end > x.end() {
			st.dirtyLen += int(end - x.end())
			x.data = append(x.data[:rel], p...)
		} else {
			copy(x.data[rel:], p)
		}
	default:
		start := min(d[i].off, off)
		stop := max(d[j-1].end(), end)
		buf := make([]byte, stop-start)
		for _, x := range d[i:j] {
			copy(buf[x.off-start:], x.data)
			st.dirtyLen -= len(x.data)
		}
		copy(buf[off-start:], p)
		st.dirtyLen += len(buf)
		st.dirty = slices.Replace(d, i, j, dext{off: start, data: buf})
	}
}

// truncateDirty drops buffered bytes at or past size.
func (f *FS) truncateDirty(st *inode, size uint64) {
	before := st.dirtyLen
	keep := st.dirty[:0]
	for _, d := range st.dirty {
		switch {
		case d.off >= size:
			st.dirtyLen -= len(d.data)
			continue
		case d.end() > size:
			st.dirtyLen -= int(d.end() - size)
			d.data = d.data[:size-d.off]
		}
		keep = append(keep, d)
	}
	st.dirty = keep
	f.dirty.Add(int64(st.dirtyLen - before))
}

// allocSlice returns a fresh slice id and marks it in flight until settled.
func (f *FS) allocSlice(ctx context.Context) (uint64, error) {
	id, err := f.allocID(ctx, meta.SliceCounter, &f.sliceIDs)
	if err != nil {
		return 0, err
	}
	f.mu.Lock()
	f.inflight[id] = true
	f.mu.Unlock()
	return id, nil
}

// idBatch is the number of ids reserved from a counter at a time, so that
// creating a file or writing a slice does not update the counter row.
const idBatch = 64

// allocID returns a fresh value of counter c from the batch r, reserving a
// new batch in its own transaction when r is used up. Ids of a batch left
// unused when the server stops are simply skipped.
func (f *FS) allocID(ctx context.Context, c meta.Counter, r *idRange) (uint64, error) {
	f.mu.Lock()
	if r.next < r.end {
		id := r.next
		r.next++
		f.mu.Unlock()
		return id, nil
	}
	f.mu.Unlock()
	var first uint64
	err := f.meta.Update(ctx, func(tx meta.Tx) (err error) { first, err = tx.Next(c, idBatch); return err })
	if err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// Another caller may have refilled the batch meanwhile; the ids of the
	// older batch are simply skipped.
	r.next, r.end = first+1, first+idBatch
	return first, nil
}

func (f *FS) settled(id uint64) {
	f.mu.Lock()
	delete(f.inflight, id)
	f.mu.Unlock()
}

// flushLocked writes the buffered data of st as one slice and records its
// extents, after any flush already in flight. On failure the buffer is
// kept. Caller holds st.mu.
func (f *FS) flushLocked(ctx context.Context, st *inode) error {
	f.waitFlushLocked(st)
	if len(st.dirty) == 0 {
		return nil
	}
	batch, total, mtime := st.dirty, st.dirtyLen, st.dirtyTime
	touched, compact, err := f.storeBatch(ctx, st.ino, batch, total, mtime)
	if err != nil {
		return err
	}
	st.dirty, st.dirtyLen = nil, 0
	f.finishBatch(st, total, touched, compact)
	return nil
}

// flushBehindLocked starts writing the full buffer of st in the background
// and returns, so that a sequential writer fills the next buffer while the
// previous one is stored. At most one flush per file is in flight; reads
// see its data until it is recorded. If it fails, its data goes back into
// the buffer under anything written since, and the error shows on the next
// flush. Caller holds st.mu.
func (f *FS) flushBehindLocked(ctx context.Context, st *inode) {
	f.waitFlushLocked(st)
	if len(st.dirty) == 0 {
		return
	}
	batch, total, mtime := st.dirty, st.dirtyLen, st.dirtyTime
	st.flushing, st.dirty, st.dirtyLen = batch, nil, 0
	done := make(chan struct{})
	st.flushDone = done
	f.hold(st) // the flush keeps the state alive
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer f.release(st)
		touched, compact, err := f.storeBatch(ctx, st.ino, batch, total, mtime)
		st.mu.Lock()
		st.flushing, st.flushDone = nil, nil
		if err != nil {
			newer := st.dirty
			st.dirty, st.dirtyLen = batch, total
			for _, d := range newer {
				st.addDirty(d.off, d.data, 0)
			}
			f.dirty.Add(int64(st.dirtyLen - total - lenOf(newer)))
			f.opts.Logger.Warn("flush behind writes", "ino", st.ino, "err", err)
		} else {
			f.finishBatch(st, total, touched, compact)
		}
		close(done)
		st.mu.Unlock()
	}()
}

func lenOf(ds []dext) (n int) {
	for _, d := range ds {
		n += len(d.data)
	}
	return n
}

// waitFlushLocked waits until no flush of st is in flight. Caller holds
// st.mu, which is released while waiting.
func (f *FS) waitFlushLocked(st *inode) {
	for st.flushDone != nil {
		done := st.flushDone
		st.mu.Unlock()
		<-done
		st.mu.Lock()
	}
}

// streamMin is the smallest contiguous flush stored as a stream.
const streamMin = 1 << 20

// storeBatch writes buffered writes as one slice and records its extents,
// the new size and mtime in one transaction. It returns the chunks it
// touched and those grown long enough to compact. It needs no lock: batch is
// not modified while it runs.
func (f *FS) storeBatch(ctx context.Context, ino Ino, batch []dext, total int, mtime time.Time) (map[uint64]bool, []uint64, error) {
	var data []byte
	if len(batch) == 1 {
		data = batch[0].data
	} else {
		data = make([]byte, 0, total)
		for _, d := range batch {
			data = append(data, d.data...)
		}
	}
	id, err := f.allocSlice(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer f.settled(id)
	var ext []meta.Extent
	touched := map[uint64]bool{}
	var sliceOff, end uint64
	for _, d := range batch {
		o, rem := d.off, uint64(len(d.data))
		for rem > 0 {
			chunk, pos := o/ChunkSize, o%ChunkSize
			n := min(rem, ChunkSize-pos)
			ext = append(ext, meta.Extent{Chunk: chunk, Pos: uint32(pos), Len: uint32(n), Slice: id, Off: sliceOff})
			touched[chunk] = true
			o, rem, sliceOff = o+n, rem-n, sliceOff+n
		}
		end = max(end, d.end())
	}
	put := ctx
	if len(batch) == 1 && total >= streamMin {
		// One contiguous run: a file written as a stream, whose pages the
		// writer's kernel already caches.
		put = blob.Streaming(ctx)
	}
	if err := f.putSlice(put, id, data); err != nil {
		return nil, nil, err
	}
	var compact []uint64
	err = f.meta.Update(ctx, func(tx meta.Tx) error {
		compact = compact[:0]
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		if err := tx.AddSlice(meta.Slice{ID: id, Size: uint64(total)}); err != nil {
			return err
		}
		if err := tx.AppendExtents(ino, ext); err != nil {
			return err
		}
		old := in.Size
		in.Size = max(in.Size, end)
		if mtime.After(in.Mtime) {
			in.Mtime, in.Ctime = mtime, mtime
		}
		if err := tx.UpdateInode(in); err != nil {
			return err
		}
		if err := tx.AddUsage(int64(in.Size)-int64(old), 0); err != nil {
			return err
		}
		if f.opts.CompactExtents < 0 {
			return nil
		}
		return tx.ChunkExtents(ino, func(chunk uint64, n int) error {
			if touched[chunk] && n >= f.opts.CompactExtents {
				compact = append(compact, chunk)
			}
			return nil
		})
	})
	if err != nil {
		f.deleteSlice(context.WithoutCancel(ctx), meta.Slice{ID: id, Size: uint64(total)})
		return nil, nil, err
	}
	return touched, compact, nil
}

// finishBatch records in memory that a batch of total bytes is stored.
// Caller holds st.mu.
func (f *FS) finishBatch(st *inode, total int, touched map[uint64]bool, compact []uint64) {
	f.dirty.Add(-int64(total))
	st.flushedGen = f.flushGen.Add(1)
	for c := range touched {
		delete(st.segs, c)
	}
	for _, c := range compact {
		select {
		case f.compact <- chunkRef{st.ino, c}:
		default:
		}
	}
}

// truncate sets the size of a regular file. h is the handle it is done
// through (0 for a path truncate, which needs write permission).
func (f *FS) truncate(ctx context.Context, c Caller, ino Ino, size uint64, h Handle) error {
	if size > MaxFileSize {
		return ErrFileTooBig
	}
	st := f.acquire(ino)
	defer f.release(st)
	st.mu.Lock()
	defer st.mu.Unlock()
	f.waitFlushLocked(st) // its commit must not land after the new size
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		switch in.Mode & ModeType {
		case ModeRegular:
		case ModeDir:
			return ErrIsDir
		default:
			return ErrInvalid
		}
		if h == 0 && !mayAccess(in, c, MayWrite) {
			return fs.ErrPermission
		}
		if size < in.Size {
			if err := trimExtents(tx, ino, size); err != nil {
				return err
			}
		}
		if err := tx.AddUsage(int64(size)-int64(in.Size), 0); err != nil {
			return err
		}
		now := f.opts.Now()
		in.Size, in.Mtime, in.Ctime = size, now, now
		if c.UID != 0 && h == 0 {
			in.Mode &^= ModeSetuid
		}
		return tx.UpdateInode(in)
	})
	if err != nil {
		return err
	}
	f.truncateDirty(st, size)
	st.size, st.loaded = size, true
	clear(st.segs)
	f.notify(ctx, Change{Kind: ChangeData, Ino: ino})
	return nil
}

// trimExtents drops the stored extents of ino at or past size.
func trimExtents(tx meta.Tx, ino Ino, size uint64) error {
	from := (size + ChunkSize - 1) / ChunkSize
	if err := tx.DeleteExtents(ino, from); err != nil {
		return err
	}
	if size%ChunkSize == 0 {
		return nil
	}
	chunk, cut := size/ChunkSize, uint32(size%ChunkSize)
	ext, err := tx.Extents(ino, chunk)
	if err != nil {
		return err
	}
	keep := ext[:0:0]
	changed := false
	for _, e := range ext {
		switch {
		case e.Pos >= cut:
			changed = true
			continue
		case e.End() > cut:
			e.Len = cut - e.Pos
			changed = true
		}
		keep = append(keep, e)
	}
	if !changed {
		return nil
	}
	return tx.SetExtents(ino, chunk, keep)
}

// Fallocate preallocates (extending the size unless FallocKeepSize), punches
// holes (FallocPunchHole|FallocKeepSize) or zeroes ranges (FallocZeroRange).
// Space is not reserved: blocks are only written when data is.
func (f *FS) Fallocate(ctx context.Context, h Handle, off, length int64, mode uint32) error {
	hd, err := f.handle(h)
	if err != nil {
		return opErr("fallocate", 0, "", err)
	}
	err = f.fallocate(ctx, hd, off, length, mode)
	return opErr("fallocate", hd.ino, "", err)
}

func (f *FS) fallocate(ctx context.Context, hd *handle, off, length int64, mode uint32) error {
	switch {
	case hd.dir:
		return ErrIsDir
	case !hd.writable():
		return ErrBadHandle
	case off < 0 || length <= 0:
		return ErrInvalid
	case uint64(off)+uint64(length) > MaxFileSize:
		return ErrFileTooBig
	}
	keep := mode&FallocKeepSize != 0
	var zero bool
	switch mode &^ FallocKeepSize {
	case 0:
	case FallocPunchHole:
		if !keep {
			return ErrNotSupported
		}
		zero = true
	case FallocZeroRange:
		zero = true
	default:
		return ErrNotSupported
	}
	st := hd.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := f.load(ctx, st); err != nil {
		return err
	}
	if zero {
		if err := f.flushLocked(ctx, st); err != nil {
			return err
		}
	}
	end := uint64(off + length)
	newSize := st.size
	if !keep {
		newSize = max(newSize, end)
	}
	zend := min(end, newSize)
	var ext []meta.Extent
	for o := uint64(off); zero && o < zend; {
		chunk, pos := o/ChunkSize, o%ChunkSize
		n := min(zend-o, ChunkSize-pos)
		ext = append(ext, meta.Extent{Chunk: chunk, Pos: uint32(pos), Len: uint32(n)})
		o += n
	}
	if len(ext) == 0 && newSize == st.size {
		return nil
	}
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(hd.ino)
		if err != nil {
			return err
		}
		if err := tx.AppendExtents(hd.ino, ext); err != nil {
			return err
		}
		now := f.opts.Now()
		old := in.Size
		in.Size = max(in.Size, newSize)
		in.Mtime, in.Ctime = now, now
		if err := tx.AddUsage(int64(in.Size)-int64(old), 0); err != nil {
			return err
		}
		return tx.UpdateInode(in)
	})
	if err != nil {
		return err
	}
	st.size = newSize
	clear(st.segs)
	f.notify(ctx, Change{Kind: ChangeData, Ino: hd.ino})
	return nil
}

// Fsync makes the file's written data durable.
func (f *FS) Fsync(ctx context.Context, h Handle) error {
	hd, err := f.handle(h)
	if err != nil {
		return opErr("fsync", 0, "", err)
	}
	if hd.dir {
		return nil // directory changes are durable when they return
	}
	hd.st.mu.Lock()
	err = f.flushLocked(ctx, hd.st)
	gen := hd.st.flushedGen
	hd.st.mu.Unlock()
	if err == nil {
		err = f.syncTo(ctx, gen)
	}
	return opErr("fsync", hd.ino, "", err)
}

// syncTo makes every flush up to generation gen durable with Options.Sync,
// unless an earlier call already did. One Sync covers the flushes of every
// file, so concurrent fsyncs share it.
func (f *FS) syncTo(ctx context.Context, gen uint64) error {
	if f.opts.Sync == nil || gen == 0 || f.syncedGen.Load() >= gen {
		return nil
	}
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	if f.syncedGen.Load() >= gen {
		return nil
	}
	target := f.flushGen.Load()
	if err := f.opts.Sync(ctx); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	f.syncedGen.Store(target)
	return nil
}

// Flush is called on every close(2) of a descriptor; it makes the written
// data durable so that close reports write errors (close-to-open).
func (f *FS) Flush(ctx context.Context, h Handle) error {
	err := f.Fsync(ctx, h)
	if err != nil {
		err.(*Error).Op = "flush"
	}
	return err
}

// Release closes a handle. The data of a file unlinked while open is deleted
// when its last handle is released.
func (f *FS) Release(ctx context.Context, h Handle) error {
	f.mu.Lock()
	hd, ok := f.handles[h]
	delete(f.handles, h)
	f.mu.Unlock()
	if !ok {
		return opErr("release", 0, "", ErrBadHandle)
	}
	if hd.dir {
		return nil
	}
	return opErr("release", hd.ino, "", f.closeState(ctx, hd.st))
}

// closeState drops one open of st: flushing (and, if that fails, discarding)
// buffered data on the last close, and deleting an unlinked inode.
func (f *FS) closeState(ctx context.Context, st *inode) error {
	var err error
	f.mu.Lock()
	last := st.opens == 1
	f.mu.Unlock()
	if last {
		st.mu.Lock()
		if err = f.flushLocked(ctx, st); err != nil {
			f.truncateDirty(st, 0)
		}
		st.mu.Unlock()
	}
	f.mu.Lock()
	st.opens--
	reap := st.opens == 0 && st.unlinked
	if reap {
		f.reaping[st.ino] = true
	}
	f.mu.Unlock()
	if reap {
		err = errors.Join(err, f.reap(ctx, st.ino))
		f.doneReaping([]Ino{st.ino})
	}
	f.release(st)
	return err
}

// reap deletes an inode that has no links left.
func (f *FS) reap(ctx context.Context, ino Ino) error {
	return f.meta.Update(context.WithoutCancel(ctx), func(tx meta.Tx) error {
		in, err := tx.Inode(ino)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || in.Nlink > 0 {
			return err
		}
		if err := tx.DeleteInode(ino); err != nil {
			return err
		}
		return tx.AddUsage(-usageBytes(in), -1)
	})
}

// reapUnlinked deletes inodes left unlinked by a crash while they were open.
func (f *FS) reapUnlinked(ctx context.Context) error {
	var inos []Ino
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		return tx.Unlinked(func(ino Ino) error { inos = append(inos, ino); return nil })
	})
	if err != nil {
		return err
	}
	for _, ino := range inos {
		if err := f.reap(ctx, ino); err != nil {
			return err
		}
	}
	return nil
}
