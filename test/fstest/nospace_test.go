package fsrobust

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// tmpfsDir mounts a tmpfs of size bytes at a new temporary directory,
// unmounted when the test ends (after everything registered later).
func tmpfsDir(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): the out-of-space test needs one", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount tmpfs %s: %v", dir, err)
		}
	})
	return dir
}

// writeWhole creates path with data, fsyncs and closes it, and says which
// step failed.
func writeWhole(path string, data []byte) (step string, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "create", err
	}
	for off := 0; off < len(data); off += 1 << 20 {
		if _, err := f.Write(data[off:min(off+1<<20, len(data))]); err != nil {
			f.Close()
			return fmt.Sprintf("write at %d", off), err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "fsync", err
	}
	if err := f.Close(); err != nil {
		return "close", err
	}
	return "", nil
}

// TestFullDataDiskGivesENOSPC backs a file system's blocks with a 64 MiB
// tmpfs and writes 4 MiB files through a mount until the disk is full: the
// failing write, fsync or close must say ENOSPC (not EIO), every file
// written before must stay intact, deleting files must make room for new
// writes, a long stream must fail with ENOSPC too, and fsck must be clean.
func TestFullDataDiskGivesENOSPC(t *testing.T) {
	needFUSE(t)
	const fileSize = 4 << 20
	disk := tmpfsDir(t, 64<<20)
	svc := newService(t, filepath.Join(disk, "blocks"))
	mp := svc.mount(t, false)
	rng := rand.New(rand.NewSource(testSeed(t)))
	content := func(i int) []byte {
		b := make([]byte, fileSize)
		rand.New(rand.NewSource(int64(i) ^ rng.Int63())).Read(b[:4096])
		for off := 4096; off < len(b); off *= 2 {
			copy(b[off:], b[:off])
		}
		b[len(b)-1] = byte(i)
		return b
	}
	var (
		data    [][]byte
		full    = -1
		failAt  string
		failErr error
	)
	for i := 0; i < 40; i++ {
		b := content(i)
		data = append(data, b)
		step, err := writeWhole(filepath.Join(mp, fmt.Sprintf("f%02d", i)), b)
		if err != nil {
			full, failAt, failErr = i, step, err
			break
		}
	}
	if full < 0 {
		t.Fatalf("wrote 40 files of %d MiB to a 64 MiB disk without an error", fileSize>>20)
	}
	t.Logf("file f%02d hit the full disk at %s: %v", full, failAt, failErr)
	if errnoOf(failErr) != syscall.ENOSPC {
		t.Errorf("%s of file f%02d on a full disk: %v, want ENOSPC", failAt, full, failErr)
	}
	verify := func(i int) {
		t.Helper()
		got, err := os.ReadFile(filepath.Join(mp, fmt.Sprintf("f%02d", i)))
		if err != nil || !bytes.Equal(got, data[i]) {
			t.Errorf("file f%02d written before the disk filled: %d bytes, %v; want its %d bytes intact", i, len(got), err, len(data[i]))
		}
	}
	for i := range full {
		verify(i)
	}
	// The file that failed holds what it holds, but reads without error.
	if b, err := os.ReadFile(filepath.Join(mp, fmt.Sprintf("f%02d", full))); err != nil {
		t.Errorf("read the file whose write failed: %v", err)
	} else {
		t.Logf("the file whose write failed reads as %d bytes", len(b))
	}

	// Deleting files frees their blocks (in the background) and writing
	// works again.
	for _, i := range []int{full, 0, 1} {
		if err := os.Remove(filepath.Join(mp, fmt.Sprintf("f%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	again := content(99)
	deadline := time.Now().Add(20 * time.Second)
	for attempt := 1; ; attempt++ {
		step, err := writeWhole(filepath.Join(mp, "again"), again)
		if err == nil {
			t.Logf("writing after deleting three files worked on attempt %d", attempt)
			break
		}
		if errnoOf(err) != syscall.ENOSPC || time.Now().After(deadline) {
			t.Fatalf("write after deleting files, %s: %v", step, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := os.ReadFile(filepath.Join(mp, "again")); err != nil || !bytes.Equal(got, again) {
		t.Errorf("the file written after making room: %d bytes, %v", len(got), err)
	}

	// A stream larger than a file's write buffer meets the full disk in a
	// write (when the buffer is flushed) or at the latest in close.
	big := bytes.Repeat(again[:1<<20], 48)
	step, err := writeWhole(filepath.Join(mp, "stream"), big)
	t.Logf("a %d MiB stream on the nearly full disk failed at %s: %v", len(big)>>20, step, err)
	if errnoOf(err) != syscall.ENOSPC {
		t.Errorf("%s of a %d MiB stream on a nearly full disk: %v, want ENOSPC", step, len(big)>>20, err)
	}
	if err := os.Remove(filepath.Join(mp, "stream")); err != nil {
		t.Fatal(err)
	}
	for i := 2; i < full; i++ {
		verify(i)
	}
	svc.fsckClean(t)
}
