package disk

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"tarn.dev/tarn/internal/blob"
)

// Options configures a Store. The zero value means the defaults.
type Options struct {
	// OpenFiles is how many object files ReadAt keeps open for later reads
	// of the same objects: 0 means 128; a negative value keeps none.
	OpenFiles int
	// DeferSync makes Put skip its fsyncs: an object is still written to a
	// temporary file and renamed into place, so it survives the death of
	// the process whole or not at all, but it survives a power loss only
	// after the next Sync. Callers that make data durable in batches (one
	// Sync for every fsync(2) of a file, instead of two fsyncs per object)
	// turn it on.
	DeferSync bool
}

const (
	defaultOpenFiles = 128
	stripes          = 64 // locks for Put and Delete, by key hash
)

// Store is a blob.Store on a local directory. It is safe for concurrent use.
type Store struct {
	root string
	opts Options

	// tree is held for reading while a Put makes sure its directory exists
	// and creates its temporary file there, and for writing while Delete
	// removes empty directories, so that no directory vanishes under a Put.
	tree sync.RWMutex
	// durable holds the directories known to exist with a durable entry in
	// their parent. Guarded by tree: added to under the read lock (sync.Map
	// is safe for that), removed from under the write lock.
	durable sync.Map // string → struct{}

	// keys serialise Put and Delete of the same key, so that usage counts
	// the size an object had before it was replaced or removed.
	seed  maphash.Seed
	keys  [stripes]sync.Mutex
	bytes atomic.Int64
	objs  atomic.Int64

	files *openFiles // nil if disabled

	// noDirect is set once the file system refused direct I/O.
	noDirect atomic.Bool
}

var _ blob.Store = (*Store)(nil)

// Open opens the store in dir, creating dir if it does not exist. It removes
// temporary files left by a crash and counts the stored objects; see the
// package documentation.
func Open(dir string, opts Options) (*Store, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open blob store %q: %w", dir, err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("open blob store %q: %w", dir, err)
	}
	s := &Store{root: root, opts: opts, seed: maphash.MakeSeed()}
	switch n := opts.OpenFiles; {
	case n == 0:
		s.files = &openFiles{max: defaultOpenFiles}
	case n > 0:
		s.files = &openFiles{max: n}
	}
	// Make everything a crashed process left durable before it is relied on,
	// including root's own entry.
	if err := syncFS(root); err != nil {
		return nil, fmt.Errorf("open blob store %q: %w", dir, err)
	}
	s.durable.Store(root, struct{}{})
	if _, err := s.scan(root); err != nil {
		return nil, fmt.Errorf("open blob store %q: %w", dir, err)
	}
	return s, nil
}

// scan walks the tree below dir at Open: it counts objects, removes
// temporary files, records directories as durable and removes empty ones.
// It reports whether dir is left empty.
func (s *Store) scan(dir string) (empty bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	left := len(entries)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		kind, _ := classify(e.Name(), e.IsDir(), e.Type().IsRegular())
		switch kind {
		case kindTemp:
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, err
			}
			left--
		case kindObject:
			info, err := e.Info()
			if err != nil {
				return false, err
			}
			s.bytes.Add(info.Size())
			s.objs.Add(1)
		case kindLevel, kindCont:
			s.durable.Store(p, struct{}{})
			empty, err := s.scan(p)
			if err != nil {
				return false, err
			}
			if empty && os.Remove(p) == nil {
				s.durable.Delete(p)
				left--
			}
		}
	}
	return left == 0, nil
}

// Close closes the files the store keeps open. The store must not be used
// afterwards.
func (s *Store) Close() error {
	if s.files != nil {
		s.files.closeAll()
	}
	return nil
}

// Usage returns the total size in bytes and the number of the stored
// objects. It is counted at Open and kept up to date by Put and Delete.
func (s *Store) Usage() (bytes, objects int64) {
	return s.bytes.Load(), s.objs.Load()
}

// stripe returns the index of key's lock in s.keys and of its generation in
// s.files.
func (s *Store) stripe(key string) int {
	return int(maphash.String(s.seed, key) % uint64(len(s.keys)))
}

// Put stores data under key durably; see the package documentation.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := blob.CheckKey("put", key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	dir, file := s.paths(key)
	s.tree.RLock()
	f, err := s.createTemp(dir)
	s.tree.RUnlock()
	if err != nil {
		s.prune(dir)
		return putError(key, err)
	}
	tmp := f.Name()
	if err := s.writeFile(f, data, !s.opts.DeferSync, blob.IsStreaming(ctx)); err != nil {
		s.discard(tmp, dir)
		return putError(key, err)
	}
	if err := ctx.Err(); err != nil {
		s.discard(tmp, dir)
		return fmt.Errorf("put %q: %w", key, err)
	}
	stripe := s.stripe(key)
	s.keys[stripe].Lock()
	defer s.keys[stripe].Unlock()
	old, existed := int64(0), false
	if info, err := os.Lstat(file); err == nil {
		old, existed = info.Size(), true
	}
	if err := os.Rename(tmp, file); err != nil {
		s.discard(tmp, dir)
		return putError(key, err)
	}
	// The object is in place; from here on the store counts it even if the
	// directory sync fails, since the rename cannot be taken back.
	if s.files != nil {
		s.files.invalidate(key, stripe)
	}
	s.bytes.Add(int64(len(data)) - old)
	if !existed {
		s.objs.Add(1)
	}
	if s.opts.DeferSync {
		return nil
	}
	if err := syncDir(dir); err != nil {
		return putError(key, err)
	}
	return nil
}

// Sync makes every object stored so far durable, with one syncfs(2) of the
// file system that holds the store.
func (s *Store) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return syncFS(s.root)
}

// discard removes the temporary file of a failed Put and the directories
// that leaves empty.
func (s *Store) discard(tmp, dir string) {
	os.Remove(tmp)
	s.prune(dir)
}

// createTemp makes sure dir exists durably and creates a temporary file in
// it. The caller holds s.tree for reading.
func (s *Store) createTemp(dir string) (*os.File, error) {
	if err := s.ensureDir(dir); err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, tmpPrefix+"*")
}

// ensureDir creates dir and its missing parents below the root, making each
// one durable by fsyncing its parent. The caller holds s.tree for reading.
func (s *Store) ensureDir(dir string) error {
	if _, ok := s.durable.Load(dir); ok {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := s.ensureDir(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	// Even if another Put created dir, its entry is durable only once some
	// fsync of parent follows the mkdir (or, deferred, the next Sync).
	if !s.opts.DeferSync {
		if err := syncDir(parent); err != nil {
			return err
		}
	}
	s.durable.Store(dir, struct{}{})
	return nil
}

// writeFile writes data to f, fsyncs it if asked and closes it.
func (s *Store) writeFile(f *os.File, data []byte, sync, direct bool) error {
	err := s.write(f, data, direct)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// directMin is the smallest object written with direct I/O.
const directMin = 1 << 20

// write writes data to a new object file. With direct set (a Put marked
// blob.Streaming), large objects in page-aligned memory bypass the page
// cache (O_DIRECT): their bytes are copied once, to the disk, instead of
// into the cache first and to the disk at the next sync, and a stream of
// them does not fill memory with dirty pages. A file system that refuses
// direct I/O gets buffered writes from then on.
func (s *Store) write(f *os.File, data []byte, direct bool) error {
	if direct && len(data) >= directMin && len(data)%4096 == 0 && uintptr(unsafe.Pointer(&data[0]))%4096 == 0 &&
		!s.noDirect.Load() {
		if err := setDirect(f, true); err == nil {
			_, err = f.Write(data)
			if !errors.Is(err, syscall.EINVAL) {
				return err
			}
		}
		s.noDirect.Store(true)
		if err := setDirect(f, false); err != nil {
			return err
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	_, err := f.Write(data)
	return err
}

// setDirect turns direct I/O on or off for f.
func setDirect(f *os.File, on bool) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	err = rc.Control(func(fd uintptr) {
		flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		if err != nil {
			opErr = err
			return
		}
		if on {
			flags |= unix.O_DIRECT
		} else {
			flags &^= unix.O_DIRECT
		}
		_, opErr = unix.FcntlInt(fd, unix.F_SETFL, flags)
	})
	return errors.Join(err, opErr)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("syncfs %q: %w", dir, err)
	}
	return nil
}

// putError wraps an error of Put, marking running out of space with
// blob.ErrNoSpace.
func putError(key string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("put %q: %w: %w", key, blob.ErrNoSpace, err)
	}
	return fmt.Errorf("put %q: %w", key, err)
}

// ReadAt reads from the object's file with pread.
func (s *Store) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	if err := blob.CheckKey("read", key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("read %q: %w", key, err)
	}
	if off < 0 {
		return 0, fmt.Errorf("read %q at %d: negative offset: %w", key, off, fs.ErrInvalid)
	}
	n, err := s.readAt(key, p, off)
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("read %q at %d: %w", key, off, err)
	}
	return n, err
}

// readAt reads from the cached open file of key, or opens it.
func (s *Store) readAt(key string, p []byte, off int64) (int, error) {
	if s.files == nil {
		_, file := s.paths(key)
		f, err := os.Open(file)
		if err != nil {
			return 0, readError(key, err)
		}
		defer f.Close()
		return f.ReadAt(p, off)
	}
	stripe := s.stripe(key)
	of, gen := s.files.get(key, stripe)
	if of == nil {
		_, file := s.paths(key)
		f, err := os.Open(file)
		if err != nil {
			return 0, readError(key, err)
		}
		of = s.files.add(key, stripe, gen, f)
	}
	defer s.files.release(of)
	return of.ReadAt(p, off)
}

// readError maps the failure to open an object's file; a missing directory
// on the way (ENOTDIR only if a stranger put a file there) means the key is
// not stored.
func readError(key string, err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		err = blob.ErrNotExist
	}
	return fmt.Errorf("read %q: %w", key, err)
}

// Delete removes the object's file and the directories it leaves empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey("delete", key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	dir, file := s.paths(key)
	stripe := s.stripe(key)
	s.keys[stripe].Lock()
	info, err := os.Lstat(file)
	if err == nil {
		err = os.Remove(file)
	}
	if err == nil {
		if s.files != nil {
			s.files.invalidate(key, stripe)
		}
		s.bytes.Add(-info.Size())
		s.objs.Add(-1)
	}
	s.keys[stripe].Unlock()
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	s.prune(dir)
	return nil
}

// prune removes dir and its parents below the root while they are empty.
// It is best effort: a directory that cannot be removed stays.
func (s *Store) prune(dir string) {
	s.tree.Lock()
	defer s.tree.Unlock()
	for ; dir != s.root && len(dir) > len(s.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			return
		}
		s.durable.Delete(dir)
	}
}
