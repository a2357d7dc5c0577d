package disk_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/blob/disk"
)

// openIn counts this process's file descriptors open on files below dir.
func openIn(t *testing.T, dir string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("skipping: cannot list open files: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, dir+"/") {
			n++
		}
	}
	return n
}

// TestOpenFilesStayCorrectUnderChurn reads through a cache much smaller than
// the set of keys while other goroutines overwrite and delete them: every
// read must return a whole version of its object or not-exist, and no file
// may stay open beyond the cache once the store is closed.
func TestOpenFilesStayCorrectUnderChurn(t *testing.T) {
	dir := t.TempDir()
	const cacheSize, nkeys = 4, 24
	s, err := disk.Open(dir, disk.Options{OpenFiles: cacheSize})
	if err != nil {
		t.Fatal(err)
	}
	content := func(key string, version int) []byte {
		return []byte(fmt.Sprintf("%s@%06d", key, version)) // same length for all versions
	}
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("churn/%d/%02d", i%3, i)
		if err := s.Put(ctx, keys[i], content(keys[i], 0)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	stop := make(chan struct{})
	for w := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for v := 1; v <= 60; v++ {
				k := keys[r.IntN(nkeys)]
				var err error
				if v%5 == 0 {
					err = s.Delete(ctx, k)
				} else {
					err = s.Put(ctx, k, content(k, v))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for w := range 4 {
		readers.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := keys[r.IntN(nkeys)]
				p := make([]byte, len(content(k, 0)))
				n, err := s.ReadAt(ctx, k, p, 0)
				if errors.Is(err, blob.ErrNotExist) {
					continue
				}
				if err != nil || n != len(p) || !strings.HasPrefix(string(p), k+"@") {
					errs <- fmt.Errorf("ReadAt(%q) = %d, %v, %q", k, n, err, p)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := openIn(t, dir); n > cacheSize {
		t.Errorf("%d files open below the store with OpenFiles %d and no read running", n, cacheSize)
	}
	// A read after the churn sees what the last Put or Delete left.
	for _, k := range keys {
		p := make([]byte, 64)
		_, err := s.ReadAt(ctx, k, p, 0)
		if err != nil && !errors.Is(err, blob.ErrNotExist) && err != io.EOF {
			t.Fatalf("ReadAt(%q) = %v", k, err)
		}
		_, statErr := os.Stat(filepath.Join(dir, "churn+", k[6:7]+"+", k[8:]))
		if errors.Is(err, blob.ErrNotExist) != errors.Is(statErr, os.ErrNotExist) {
			t.Fatalf("ReadAt(%q) = %v, but its file: %v", k, err, statErr)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := openIn(t, dir); n != 0 {
		t.Errorf("%d files open below the store after Close, want 0", n)
	}
}
