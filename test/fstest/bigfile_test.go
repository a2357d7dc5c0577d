package fsrobust

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bigPattern produces a file of deterministic bytes, one MiB block at a
// time: a random MiB with each 4 KiB page stamped with its block and page
// number, so that a block read from the wrong place never matches.
type bigPattern struct {
	base, block []byte
}

func newBigPattern(seed int64) *bigPattern {
	p := &bigPattern{base: make([]byte, 1<<20), block: make([]byte, 1<<20)}
	rand.New(rand.NewSource(seed)).Read(p.base)
	return p
}

// fill returns block i.
func (p *bigPattern) fill(i int) []byte {
	copy(p.block, p.base)
	for pg := 0; pg < len(p.block); pg += 4096 {
		binary.LittleEndian.PutUint64(p.block[pg:], uint64(i)<<32|uint64(pg))
	}
	return p.block
}

// sha256File streams a file and returns its digest and size.
func sha256File(path string) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	return h.Sum(nil), n, err
}

func mibps(n int64, d time.Duration) string {
	return fmt.Sprintf("%.0f MiB/s", float64(n)/(1<<20)/d.Seconds())
}

// TestLargeFileRoundTrips writes a 1.5 GiB file through a mount of a tarn
// server with a deterministic pattern, fsyncs it, and reads it back: with
// cold caches, and through a new mount after an unmount. Every read's
// SHA-256 must equal the written one. Memory stays low: the test streams one
// MiB at a time.
func TestLargeFileRoundTrips(t *testing.T) {
	needFUSE(t)
	blocks := 1536 // 1.5 GiB in MiB blocks
	if testing.Short() {
		blocks = 256
	}
	size := int64(blocks) << 20
	srv := startServer(t, filepath.Join(t.TempDir(), "data"))
	id := srv.createFS("big")
	mp := srv.mount(id, false)
	path := filepath.Join(mp, "big")

	pat := newBigPattern(testSeed(t))
	want := sha256.New()
	start := time.Now()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range blocks {
		b := pat.fill(i)
		want.Write(b)
		if _, err := f.Write(b); err != nil {
			f.Close()
			t.Fatalf("write block %d: %v", i, err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		t.Fatalf("fsync: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	sum := want.Sum(nil)
	t.Logf("wrote and fsync'd %d MiB in %v (%s)", blocks, time.Since(start).Round(time.Millisecond), mibps(size, time.Since(start)))

	check := func(what, p string) {
		t.Helper()
		dropCaches(t)
		start := time.Now()
		got, n, err := sha256File(p)
		if err != nil {
			t.Fatalf("read back %s: %v", what, err)
		}
		if n != size || !bytes.Equal(got, sum) {
			t.Fatalf("read back %s: %d bytes with sha256 %x, want %d bytes with %x", what, n, got, size, sum)
		}
		t.Logf("read back %s in %v (%s): sha256 matches", what, time.Since(start).Round(time.Millisecond), mibps(size, time.Since(start)))
	}
	check("with cold caches", path)
	srv.umount(mp)
	mp = srv.mount(id, false)
	check("through a new mount", filepath.Join(mp, "big"))
	if out, ok := srv.fsck(id, false); !ok || !strings.Contains(out, "clean") {
		t.Errorf("tarn fsck after the large file: %s", out)
	}
}
