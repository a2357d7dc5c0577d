package disk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"tarn.dev/tarn/internal/blob"
)

var ctx = context.Background()

func TestLargeAlignedObjectsRoundTripOnEveryFileSystem(t *testing.T) {
	dirs := []string{t.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "disktest-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			dirs = append(dirs, d) // tmpfs: direct I/O may be refused
		}
	}
	for _, dir := range dirs {
		s, err := Open(dir, Options{DeferSync: true})
		if err != nil {
			t.Fatal(err)
		}
		// A page-aligned buffer (Go allocates large objects on page
		// boundaries) of a whole number of pages goes the direct way.
		big := make([]byte, 4<<20)
		for i := range big {
			big[i] = byte(i * 7)
		}
		odd := big[:directMin+1] // not a whole number of pages: buffered
		for key, data := range map[string][]byte{"a/big": big, "a/odd": odd} {
			if err := s.Put(blob.Streaming(ctx), key, data); err != nil {
				t.Fatalf("%s: put %s: %v", dir, key, err)
			}
			got := make([]byte, len(data)+10)
			n, err := s.ReadAt(ctx, key, got, 0)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatalf("%s: read %s: %v", dir, key, err)
			}
			if !bytes.Equal(got[:n], data) {
				t.Fatalf("%s: %s read back %d bytes, differing from the %d put", dir, key, n, len(data))
			}
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}
