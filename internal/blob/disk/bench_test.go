package disk_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"tarn.dev/tarn/internal/blob/disk"
)

// The benchmarks run each operation on the Store and, beside it, the plain
// system calls it is built on, so the ratio shows the store's overhead:
//
//	go test -run - -bench . ./internal/blob/disk/

func BenchmarkPut(b *testing.B) {
	for _, size := range []int{4 << 10, 4 << 20} {
		data := make([]byte, size)
		rand.NewChaCha8([32]byte{}).Read(data)
		b.Run(fmt.Sprintf("%dKiB/Store", size>>10), func(b *testing.B) {
			s, err := disk.Open(b.TempDir(), disk.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				if err := s.Put(ctx, fmt.Sprintf("bench/%d/%d", i%16, i), data); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		// Reference: os.WriteFile and fsync of the file, in place; no
		// temporary file, rename or directory fsync.
		b.Run(fmt.Sprintf("%dKiB/WriteFileFsync", size>>10), func(b *testing.B) {
			dir := b.TempDir()
			for d := range 16 {
				os.Mkdir(filepath.Join(dir, fmt.Sprint(d)), 0o700)
			}
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				name := filepath.Join(dir, fmt.Sprint(i%16), fmt.Sprint(i))
				if err := os.WriteFile(name, data, 0o600); err != nil {
					b.Fatal(err)
				}
				f, err := os.Open(name)
				if err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				f.Close()
				i++
			}
		})
	}
}

// BenchmarkReadAt reads 4 KiB at random aligned offsets of sixteen 4 MiB
// objects, all in the page cache.
func BenchmarkReadAt(b *testing.B) {
	const objects, size, chunk = 16, 4 << 20, 4 << 10
	dir := b.TempDir()
	s, err := disk.Open(dir, disk.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := make([]byte, size)
	keys := make([]string, objects)
	for i := range keys {
		keys[i] = fmt.Sprintf("chunks/%d/%d_0_%d", i%4, i, size)
		if err := s.Put(ctx, keys[i], data); err != nil {
			b.Fatal(err)
		}
	}
	uncached, err := disk.Open(dir, disk.Options{OpenFiles: -1})
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range []struct {
		name  string
		store *disk.Store
	}{{"4KiB/Store", s}, {"4KiB/StoreNoOpenFiles", uncached}} {
		b.Run(st.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			p := make([]byte, chunk)
			b.SetBytes(chunk)
			for b.Loop() {
				off := int64(r.IntN(size/chunk)) * chunk
				if n, err := st.store.ReadAt(ctx, keys[r.IntN(objects)], p, off); n != chunk || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
	// Reference: pread on files opened once.
	b.Run("4KiB/PreadOpenFile", func(b *testing.B) {
		files := make([]*os.File, objects)
		for i := range keys {
			f, err := os.Open(filepath.Join(dir, "chunks+", fmt.Sprint(i%4)+"+", fmt.Sprintf("%d_0_%d", i, size)))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			files[i] = f
		}
		r := rand.New(rand.NewPCG(3, 4))
		p := make([]byte, chunk)
		b.SetBytes(chunk)
		for b.Loop() {
			off := int64(r.IntN(size/chunk)) * chunk
			if n, err := files[r.IntN(objects)].ReadAt(p, off); n != chunk || err != nil {
				b.Fatal(n, err)
			}
		}
	})
	// Reference: open, pread and close per read, what the Store does.
	b.Run("4KiB/OpenPreadClose", func(b *testing.B) {
		r := rand.New(rand.NewPCG(3, 4))
		p := make([]byte, chunk)
		b.SetBytes(chunk)
		for b.Loop() {
			i := r.IntN(objects)
			off := int64(r.IntN(size/chunk)) * chunk
			f, err := os.Open(filepath.Join(dir, "chunks+", fmt.Sprint(i%4)+"+", fmt.Sprintf("%d_0_%d", i, size)))
			if err != nil {
				b.Fatal(err)
			}
			if n, err := f.ReadAt(p, off); n != chunk || err != nil {
				b.Fatal(n, err)
			}
			f.Close()
		}
	})
}
