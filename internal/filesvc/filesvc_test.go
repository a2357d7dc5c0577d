package filesvc_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tarn.dev/tarn/internal/blob/disk"
	"tarn.dev/tarn/internal/filesvc"
	"tarn.dev/tarn/internal/meta/sqlmeta"
)

func newService(t *testing.T) (*filesvc.Service, *disk.Store) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlmeta.OpenSQLite(filepath.Join(dir, "tarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := disk.Open(filepath.Join(dir, "blocks"), disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := filesvc.New(filesvc.Config{DB: db, Blobs: blocks})
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		blocks.Close()
		db.Close()
	})
	return s, blocks
}

func needFUSE(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting FUSE needs root: run the tests as root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse on this machine")
	}
}

func mounted(t *testing.T, mp string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), " "+mp+" ")
}

const fsID = "fs-0123456789abcdef0"

func TestNewFileSystemMetersAsEFSDoes(t *testing.T) {
	s, _ := newService(t)
	if err := s.ProvisionFileSystem(context.Background(), fsID); err != nil {
		t.Fatal(err)
	}
	if n, ok := s.Usage(fsID); !ok || n != 6144 {
		t.Errorf("Usage of a new file system = %d, %v; want 6144 (its root directory)", n, ok)
	}
}

func TestTwoLocalMountsShareDataAndUnmountCleanly(t *testing.T) {
	needFUSE(t)
	s, blocks := newService(t)
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	if _, err := s.Mount(ctx, fsID, a, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mount(ctx, fsID, b, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mount(ctx, fsID, a, false); err == nil {
		t.Error("mounting twice at the same mount point succeeded")
	}
	data := bytes.Repeat([]byte("tarn "), 100000)
	if err := os.WriteFile(filepath.Join(a, "f"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(b, "f"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read through the second mount: %d bytes, %v; want the %d written through the first", len(got), err, len(data))
	}
	if err := os.WriteFile(filepath.Join(b, "g"), []byte("x"), 0o644); err == nil {
		t.Error("writing through the read-only mount succeeded")
	}
	if n, ok := s.Usage(fsID); !ok || n < int64(len(data)) {
		t.Errorf("Usage = %d, want at least the %d bytes stored", n, len(data))
	}
	if len(s.Mounts()) != 2 {
		t.Errorf("Mounts() = %v, want 2", s.Mounts())
	}
	if err := s.Unmount(b); err != nil {
		t.Fatal(err)
	}
	if mounted(t, b) {
		t.Errorf("%s still in mountinfo after Unmount", b)
	}
	if err := s.Unmount(b); err == nil {
		t.Error("unmounting twice succeeded")
	}
	if err := s.DestroyFileSystem(ctx, fsID); err != nil {
		t.Fatal(err)
	}
	if mounted(t, a) {
		t.Errorf("%s still mounted after the file system was destroyed", a)
	}
	var left []string
	blocks.List(ctx, "chunks/"+fsID+"/", func(k string, _ int64) error { left = append(left, k); return nil })
	if len(left) != 0 {
		t.Errorf("blocks left after destroy: %v", left)
	}
}
