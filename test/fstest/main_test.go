package fsrobust

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"tarn.dev/tarn/internal/testserver"
	"testing"
	"time"

	"tarn.dev/tarn/internal/blob/disk"
	"tarn.dev/tarn/internal/filesvc"
	"tarn.dev/tarn/internal/meta/sqlmeta"
)

// childEnv selects a child-process role of the test binary (see children.go
// of this package's tests).
const childEnv = "TARN_FSTEST_CHILD"

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role, os.Args))
	}
	os.Exit(testserver.Main(m))
}

// tarnBinary returns the tarn binary under test (internal/testserver
// builds it once, or takes $TARN_E2E_BIN).
func tarnBinary(t *testing.T) string { return testserver.Binary(t) }

// needFUSE skips t unless it can mount FUSE file systems.
func needFUSE(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting FUSE needs root: run these tests as root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse on this machine: load the fuse module or give the container the device")
	}
}

// testSeed returns TARN_TEST_SEED or the time, and logs it.
func testSeed(t *testing.T) int64 {
	t.Helper()
	seed := time.Now().UnixNano()
	if s := os.Getenv("TARN_TEST_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("TARN_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (rerun with TARN_TEST_SEED=%d)", seed, seed)
	return seed
}

const testFS = "fs-0123456789abcdef0"

// service is an in-process file service over a fresh SQLite database and a
// disk block store.
type service struct {
	*filesvc.Service
	Blocks    *disk.Store
	BlocksDir string
}

// newService opens a file service whose metadata lives in a temporary
// directory and whose blocks live in blocksDir (a temporary directory if
// empty). It is closed when the test ends.
func newService(t *testing.T, blocksDir string) *service {
	t.Helper()
	dir := t.TempDir()
	if blocksDir == "" {
		blocksDir = filepath.Join(dir, "blocks")
	}
	db, err := sqlmeta.OpenSQLite(filepath.Join(dir, "tarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := disk.Open(blocksDir, disk.Options{})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	s := filesvc.New(filesvc.Config{DB: db, Blobs: blocks})
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close file service: %v", err)
		}
		blocks.Close()
		db.Close()
	})
	if err := s.ProvisionFileSystem(context.Background(), testFS); err != nil {
		t.Fatal(err)
	}
	return &service{Service: s, Blocks: blocks, BlocksDir: blocksDir}
}

// mount mounts the test file system at a new temporary directory and
// unmounts it when the test ends (unless the test did).
func (s *service) mount(t *testing.T, readOnly bool) string {
	t.Helper()
	mp := t.TempDir()
	if _, err := s.Mount(context.Background(), testFS, mp, readOnly); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.unmount(t, mp); err != nil && !errors.Is(err, filesvc.ErrNotMounted) {
			t.Errorf("unmount %s: %v", mp, err)
		}
	})
	return mp
}

// unmount unmounts mp (see unmountGuarded).
func (s *service) unmount(t *testing.T, mp string) error {
	return unmountGuarded(t, mp, func() error { return s.Unmount(mp) })
}

// fsckClean runs fsck without repair and fails t if it finds problems.
func (s *service) fsckClean(t *testing.T) {
	t.Helper()
	r, err := s.Fsck(context.Background(), testFS, false)
	if err != nil {
		t.Fatalf("fsck: %v", err)
	}
	if !r.OK() {
		t.Errorf("fsck found %d problems:\n  %s", len(r.Problems), strings.Join(r.Problems, "\n  "))
	}
	t.Logf("fsck clean: %d inodes, %d entries, %d slices, %d blocks", r.Inodes, r.Entries, r.Slices, r.Blocks)
}

// errnoOf returns the errno inside err, 0 for nil and EIO for an error
// without one (so that it never matches an expected errno by accident).
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}

// inTime runs fn and returns its error, or an error if fn does not return
// within d (fn is then left running: it is stuck in the kernel).
func inTime(d time.Duration, what string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("%s: no answer within %v (hung)", what, d)
	}
}

// dropCaches drops the kernel's page, dentry and inode caches, so that the
// next reads reach the server.
func dropCaches(t *testing.T) {
	t.Helper()
	syscall.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0); err != nil {
		t.Logf("cannot drop caches (%v): reads may come from the page cache", err)
	}
}
