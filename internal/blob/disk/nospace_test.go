//go:build linux

package disk_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/blob/disk"
)

// mountSmallTmpfs mounts a 1 MiB tmpfs on a fresh directory, or skips the
// test when it cannot.
func mountSmallTmpfs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: mounting a small tmpfs to run out of space needs root; run the tests as root to enable")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("skipping: cannot mount a tmpfs on %s (%v); needs CAP_SYS_ADMIN", dir, err)
	}
	// Registered after t.TempDir, so it runs before the directory is removed.
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

func TestPutOutOfSpace(t *testing.T) {
	dir := mountSmallTmpfs(t)
	s, err := disk.Open(dir, disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	first := bytes.Repeat([]byte("first"), 100<<10/5)
	if err := s.Put(ctx, "keep/first", first); err != nil {
		t.Fatalf("Put of 100 KiB into an empty 1 MiB file system = %v", err)
	}
	wantBytes, wantObjects := s.Usage()

	checkNoSpace := func(t *testing.T, key string, err error) {
		t.Helper()
		if !errors.Is(err, blob.ErrNoSpace) {
			t.Fatalf("Put(%q) on a full file system = %v, want an error wrapping blob.ErrNoSpace", key, err)
		}
		if !errors.Is(err, unix.ENOSPC) {
			t.Errorf("Put(%q) error %v does not wrap the ENOSPC it came from", key, err)
		}
		if _, err := s.ReadAt(ctx, key, make([]byte, 1), 0); !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("ReadAt(%q) after its failed Put = %v, want blob.ErrNotExist", key, err)
		}
		for _, f := range files(t, dir) {
			if strings.Contains(f, "tmp#") || !strings.HasPrefix(f, "keep+/") && !strings.HasPrefix(f, "fill+/") {
				t.Errorf("%s left behind by the failed Put", f)
			}
		}
	}

	t.Run("ObjectLargerThanFreeSpace", func(t *testing.T) {
		err := s.Put(ctx, "big/object", make([]byte, 2<<20))
		checkNoSpace(t, "big/object", err)
		if b, n := s.Usage(); b != wantBytes || n != wantObjects {
			t.Errorf("Usage() after a failed Put = %d, %d; want %d, %d", b, n, wantBytes, wantObjects)
		}
	})

	var filled []string
	t.Run("FillUp", func(t *testing.T) {
		for i := 0; ; i++ {
			key := fmt.Sprintf("fill/%d", i)
			err := s.Put(ctx, key, bytes.Repeat([]byte{byte(i)}, 64<<10))
			if err != nil {
				checkNoSpace(t, key, err)
				break
			}
			filled = append(filled, key)
			if i > 32 {
				t.Fatalf("wrote %d × 64 KiB into a 1 MiB file system without running out of space", i)
			}
		}
		if len(filled) == 0 {
			t.Fatal("no 64 KiB object fitted beside 100 KiB in 1 MiB")
		}
	})

	t.Run("EarlierObjectsIntact", func(t *testing.T) {
		got := make([]byte, len(first)+1)
		if n, err := s.ReadAt(ctx, "keep/first", got, 0); n != len(first) || err != io.EOF || !bytes.Equal(got[:n], first) {
			t.Fatalf("ReadAt(keep/first) on a full file system = %d, %v (content intact %v)", n, err, bytes.Equal(got[:n], first))
		}
		for i, key := range filled {
			p := make([]byte, 64<<10)
			if n, err := s.ReadAt(ctx, key, p, 0); n != len(p) || err != nil || !bytes.Equal(p, bytes.Repeat([]byte{byte(i)}, len(p))) {
				t.Fatalf("ReadAt(%q) on a full file system = %d, %v", key, n, err)
			}
		}
		b, n := s.Usage()
		if want := wantBytes + int64(len(filled))*64<<10; b != want || n != wantObjects+int64(len(filled)) {
			t.Errorf("Usage() = %d, %d; want %d, %d", b, n, want, wantObjects+int64(len(filled)))
		}
	})

	t.Run("DeleteFreesSpace", func(t *testing.T) {
		for _, key := range filled {
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Put(ctx, "after/delete", make([]byte, 64<<10)); err != nil {
			t.Fatalf("Put after deleting objects = %v", err)
		}
	})

	// A store opened afterwards finds only whole objects.
	s.Close()
	s2, err := disk.Open(dir, disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var listed []string
	s2.List(ctx, "", func(key string, size int64) error { listed = append(listed, fmt.Sprint(key, "=", size)); return nil })
	if want := fmt.Sprint([]string{"after/delete=65536", "keep/first=102400"}); fmt.Sprint(listed) != want {
		t.Fatalf("List after reopening = %v, want %v", listed, want)
	}
}
