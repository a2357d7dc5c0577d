package vfs_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/blob/mem"
	"tarn.dev/tarn/internal/meta/sqlmeta"
	"tarn.dev/tarn/internal/vfs"
)

var ctx = context.Background()

// countingStore counts the bytes put into and read from a blob store, and
// can be told to fail puts with ENOSPC.
type countingStore struct {
	blob.Store
	put, read atomic.Int64
	puts      atomic.Int64
	full      atomic.Bool
}

func (c *countingStore) Put(ctx context.Context, key string, data []byte) error {
	if c.full.Load() {
		return blob.ErrNoSpace
	}
	c.put.Add(int64(len(data)))
	c.puts.Add(1)
	return c.Store.Put(ctx, key, data)
}

func (c *countingStore) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	n, err := c.Store.ReadAt(ctx, key, p, off)
	c.read.Add(int64(n))
	return n, err
}

type env struct {
	t     testing.TB
	fs    *vfs.FS
	db    *sqlmeta.DB
	store *sqlmeta.Store
	blobs *countingStore
	path  string
	opts  vfs.Options
}

func newEnv(t testing.TB, opts vfs.Options) *env {
	t.Helper()
	return newEnvOn(t, opts, mem.New())
}

func newEnvOn(t testing.TB, opts vfs.Options, bs blob.Store) *env {
	t.Helper()
	e := &env{t: t, blobs: &countingStore{Store: bs}, path: filepath.Join(t.TempDir(), "meta.db"), opts: opts}
	e.open()
	t.Cleanup(func() { e.close() })
	return e
}

func (e *env) open() {
	e.t.Helper()
	db, err := sqlmeta.OpenSQLite(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := db.Open(ctx, "fs-1")
	if err != nil {
		e.t.Fatal(err)
	}
	f, err := vfs.New(ctx, s, e.blobs, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db, e.store, e.fs = db, s, f
}

func (e *env) close() {
	if e.fs == nil {
		return
	}
	e.fs.Close()
	e.db.Close()
	e.fs = nil
}

// reopen closes the file system without flushing anything more and opens it
// again on the same database and blobs.
func (e *env) reopen() {
	e.t.Helper()
	e.close()
	e.open()
}

var (
	root  = vfs.Root
	alice = vfs.Caller{UID: 1000, GID: 1000, Groups: []uint32{1000, 50}}
	bob   = vfs.Caller{UID: 1001, GID: 1001, Groups: []uint32{1001, 50}}
	carol = vfs.Caller{UID: 1002, GID: 1002}
)

// must returns v or panics with err; a panic fails the test with a trace.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s = %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", what, err, want)
	}
}

func (e *env) mkdir(c vfs.Caller, parent vfs.Ino, name string, mode uint32) vfs.Ino {
	e.t.Helper()
	return must(e.fs.Mkdir(ctx, c, parent, name, mode, 0)).Ino
}

// writeFile creates name with data and closes it.
func (e *env) writeFile(c vfs.Caller, parent vfs.Ino, name string, data []byte) vfs.Ino {
	e.t.Helper()
	a, h, err := e.fs.Create(ctx, c, parent, name, 0o644, syscall.O_RDWR, 0)
	ok(e.t, err)
	if len(data) > 0 {
		must(e.fs.Write(ctx, h, data, 0))
	}
	ok(e.t, e.fs.Release(ctx, h))
	return a.Ino
}

func (e *env) readAll(ino vfs.Ino) []byte {
	e.t.Helper()
	h := must(e.fs.Open(ctx, root, ino, syscall.O_RDONLY))
	defer e.fs.Release(ctx, h)
	var out []byte
	buf := make([]byte, 1<<20)
	for off := int64(0); ; {
		n, err := e.fs.Read(ctx, h, buf, off)
		ok(e.t, err)
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
		off += int64(n)
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }
