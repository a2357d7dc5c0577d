package fuse_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tarn.dev/tarn/internal/blob/disk"
	"tarn.dev/tarn/internal/fuse"
	"tarn.dev/tarn/internal/lock"
	"tarn.dev/tarn/internal/meta/sqlmeta"
	"tarn.dev/tarn/internal/vfs"
)

// requireFUSE skips tests that need to mount.
func requireFUSE(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount FUSE directly: run the tests as root (go test -exec sudo)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("needs /dev/fuse: load the fuse module or run in a container with --device /dev/fuse")
	}
}

// world is one file system with its lock table, mountable several times.
type world struct {
	t     testing.TB
	fs    *vfs.FS
	locks *lock.Table
}

func newWorld(t testing.TB) *world {
	t.Helper()
	requireFUSE(t)
	f, closeFS, err := openFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFS)
	return &world{t: t, fs: f, locks: lock.New(lock.Config{})}
}

// openFS opens a file system stored in dir: SQLite metadata and a disk
// blob store.
func openFS(dir string) (*vfs.FS, func(), error) {
	db, err := sqlmeta.OpenSQLite(filepath.Join(dir, "meta.db"))
	if err != nil {
		return nil, nil, err
	}
	store, err := db.Open(context.Background(), "fs-1")
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	blobs, err := disk.Open(filepath.Join(dir, "blobs"), disk.Options{})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	f, err := vfs.New(context.Background(), store, blobs, vfs.Options{ID: "fs-1", RootMode: 0o777})
	if err != nil {
		blobs.Close()
		db.Close()
		return nil, nil, err
	}
	return f, func() {
		f.Close()
		blobs.Close()
		db.Close()
	}, nil
}

// mount mounts the file system on a fresh directory and unmounts it when
// the test ends.
func (w *world) mount(opts fuse.Options) *fuse.Server {
	w.t.Helper()
	dir, err := os.MkdirTemp("", "tarn-mnt-")
	if err != nil {
		w.t.Fatal(err)
	}
	opts.Locks = w.locks
	if opts.FSName == "" {
		opts.FSName = "tarn:test"
	}
	s, err := fuse.Mount(w.fs, w.fs.Watch, dir, opts)
	if err != nil {
		os.Remove(dir)
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() {
		if err := s.Unmount(); err != nil {
			w.t.Errorf("unmount: %v", err)
		}
		os.Remove(dir)
	})
	return s
}

// mounted reports whether dir is a mount point in /proc/self/mountinfo.
func mounted(t testing.TB, dir string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}
