package vfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/meta"
)

// Options configures a file system. The zero value means the defaults.
type Options struct {
	// ID names the file system in blob keys ("chunks/<ID>/..."), so that
	// file systems can share a blob store. Default "fs".
	ID string
	// RootMode, RootUID and RootGID are used when the root directory is
	// created on first open. Default mode 0755, owner 0:0.
	RootMode uint32
	RootUID  uint32
	RootGID  uint32
	// MaxDirtyPerFile is how many written bytes one file buffers before it
	// flushes them as a slice (in the background, while the next buffer fills).
	// Default 16 MiB.
	MaxDirtyPerFile int
	// MaxDirty bounds the buffered bytes of all files; a write that finds
	// the budget exceeded flushes its own file. Default 128 MiB.
	MaxDirty int64
	// CacheBytes bounds the cache of recently read blocks. Default 64 MiB;
	// negative disables it.
	CacheBytes int64
	// CompactExtents is the number of extents in a chunk that triggers a
	// background compaction of that chunk. Default 1000; negative disables
	// automatic compaction.
	CompactExtents int
	// Capacity is the size StatFS reports. Default 8 EiB, like EFS.
	Capacity uint64
	// Sync, if set, makes the blocks and metadata written so far durable
	// (for example a syncfs of the data directory). Fsync and Flush (close)
	// call it after flushing, once for all files flushed since the last
	// call; the stores then need not sync every write themselves. With Sync
	// nil, the stores are expected to be durable when they return.
	Sync func(ctx context.Context) error
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives background errors (GC, compaction). Default discards.
	Logger *slog.Logger
}

// Data layout constants.
const (
	ChunkSize = 64 << 20 // bytes of a file covered by one chunk
	BlockSize = 4 << 20  // largest blob object
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

func (o *Options) defaults() error {
	if o.ID == "" {
		o.ID = "fs"
	}
	if !idRE.MatchString(o.ID) || o.ID == "." || o.ID == ".." {
		return fmt.Errorf("invalid file system id %q", o.ID)
	}
	if o.RootMode == 0 {
		o.RootMode = 0o755
	}
	if o.MaxDirtyPerFile <= 0 {
		o.MaxDirtyPerFile = 16 << 20
	}
	if o.MaxDirty <= 0 {
		o.MaxDirty = 128 << 20
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 64 << 20
	}
	if o.CompactExtents == 0 {
		o.CompactExtents = 1000
	}
	if o.Capacity == 0 {
		o.Capacity = 8 << 60
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	now := o.Now
	o.Now = func() time.Time { return now().Round(0) } // stored times carry no monotonic reading
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// FS is the file system core: POSIX semantics over a meta.Store and a
// blob.Store. It is safe for concurrent use.
type FS struct {
	meta    meta.Store // a cachingStore over the file system's store
	attrs   *attrCache
	blobs   blob.Store
	opts    Options
	cache   *blockCache
	fetches fetchTable // block reads in progress

	mu       sync.Mutex // guards the fields below
	inodes   map[Ino]*inode
	handles  map[Handle]*handle
	nextH    Handle
	reaping  map[Ino]bool
	inflight map[uint64]bool // slice ids written but maybe not committed
	sliceIDs idRange         // reserved slice ids
	inoIDs   idRange         // reserved inode numbers
	watchers map[int]func(Change)
	nextW    int

	dirty atomic.Int64 // buffered bytes of all files

	// Flushes are numbered; Options.Sync makes them durable in batches.
	flushGen  atomic.Uint64 // last flush committed
	syncedGen atomic.Uint64 // every flush up to this one is durable
	syncMu    sync.Mutex    // one Sync at a time

	gcMu    sync.Mutex    // one GC at a time
	bg      chan struct{} // wakes the background worker
	compact chan chunkRef
	stop    chan struct{}
	done    chan struct{}
	closed  atomic.Bool
}

var _ FileSystem = (*FS)(nil)

// idRange is a batch of reserved counter values: next up to end (exclusive).
type idRange struct{ next, end uint64 }

// New opens the file system stored in m and blobs, creating the root
// directory if it does not exist, deleting files that were unlinked while
// open before a crash, and starting the background garbage collector and
// compactor. Close stops them.
func New(ctx context.Context, m meta.Store, blobs blob.Store, opts Options) (*FS, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	attrs := newAttrCache()
	f := &FS{
		meta: cachingStore{Store: m, c: attrs}, attrs: attrs, blobs: blobs, opts: opts,
		inodes: map[Ino]*inode{}, handles: map[Handle]*handle{}, reaping: map[Ino]bool{},
		inflight: map[uint64]bool{}, watchers: map[int]func(Change){},
		bg: make(chan struct{}, 1), compact: make(chan chunkRef, 64),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if opts.CacheBytes > 0 {
		f.cache = newBlockCache(opts.CacheBytes)
	}
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		_, err := tx.Inode(RootIno)
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		now := opts.Now()
		root := meta.Inode{Ino: RootIno, Mode: ModeDir | opts.RootMode&ModePerm, Nlink: 2, UID: opts.RootUID,
			GID: opts.RootGID, Atime: now, Mtime: now, Ctime: now, Parent: RootIno}
		if err := tx.CreateInode(root); err != nil {
			return err
		}
		return tx.AddUsage(0, 1)
	})
	if err != nil {
		return nil, fmt.Errorf("open file system %s: %w", opts.ID, err)
	}
	if err := f.reapUnlinked(ctx); err != nil {
		return nil, fmt.Errorf("open file system %s: %w", opts.ID, err)
	}
	go f.background()
	f.kick()
	return f, nil
}

// Close flushes every open file, stops the background work and releases the
// handles. The stores stay open; they belong to the caller.
func (f *FS) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	var errs []error
	f.mu.Lock()
	var open []*inode
	for _, st := range f.inodes {
		open = append(open, st)
	}
	f.mu.Unlock()
	for _, st := range open {
		st.mu.Lock()
		errs = append(errs, f.flushLocked(context.Background(), st))
		st.mu.Unlock()
	}
	close(f.stop)
	<-f.done
	f.fetches.prefetching.Wait()
	return errors.Join(errs...)
}

// Watch registers fn to be called after every committed change. fn runs on
// the goroutine that made the change and must not block or call back into the
// file system. The returned function unregisters it.
func (f *FS) Watch(fn func(Change)) (cancel func()) {
	f.mu.Lock()
	id := f.nextW
	f.nextW++
	f.watchers[id] = fn
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(f.watchers, id)
		f.mu.Unlock()
	}
}

// originKey carries the origin of a call (see WithOrigin).
type originKey struct{}

// WithOrigin tags the calls made with ctx with a client id; the Changes they
// cause carry it as Origin, so that a client can skip invalidating caches
// for changes it made itself.
func WithOrigin(ctx context.Context, id uint64) context.Context {
	return context.WithValue(ctx, originKey{}, id)
}

func (f *FS) notify(ctx context.Context, chs ...Change) {
	origin, _ := ctx.Value(originKey{}).(uint64)
	f.mu.Lock()
	if len(f.watchers) == 0 {
		f.mu.Unlock()
		return
	}
	ws := make([]func(Change), 0, len(f.watchers))
	for _, w := range f.watchers {
		ws = append(ws, w)
	}
	f.mu.Unlock()
	for _, ch := range chs {
		ch.Origin = origin
		for _, w := range ws {
			w(ch)
		}
	}
}

// attr converts a stored inode into Attr.
func attr(in meta.Inode) Attr {
	a := Attr{Ino: in.Ino, Mode: in.Mode, Nlink: in.Nlink, UID: in.UID, GID: in.GID, Rdev: in.Rdev, Size: in.Size,
		Blksize: 4096, Atime: in.Atime, Mtime: in.Mtime, Ctime: in.Ctime}
	if in.Mode&ModeType == ModeRegular || in.Mode&ModeType == ModeSymlink {
		a.Blocks = (in.Size + 511) / 512
	} else if isDir(in) {
		a.Size = 4096
		a.Blocks = 8
	}
	return a
}

// overlay applies the in-memory state of an open inode (buffered writes) to
// stored attributes.
func (f *FS) overlay(in *meta.Inode) {
	f.mu.Lock()
	st := f.inodes[in.Ino]
	f.mu.Unlock()
	if st == nil {
		return
	}
	st.mu.Lock()
	if st.loaded {
		in.Size = st.size
	}
	if st.dirtyTime.After(in.Mtime) {
		in.Mtime, in.Ctime = st.dirtyTime, st.dirtyTime
	}
	st.mu.Unlock()
}

// GetAttr returns the attributes of ino, including writes still buffered.
func (f *FS) GetAttr(ctx context.Context, c Caller, ino Ino) (Attr, error) {
	in, ok := f.attrs.get(ino)
	if !ok {
		err := f.meta.View(ctx, func(tx meta.Tx) (err error) { in, err = tx.Inode(ino); return err })
		if err != nil {
			return Attr{}, opErr("getattr", ino, "", err)
		}
	}
	f.overlay(&in)
	return attr(in), nil
}
