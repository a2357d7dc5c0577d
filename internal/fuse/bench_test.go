package fuse_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"tarn.dev/tarn/internal/fuse"
)

func BenchmarkCreate(b *testing.B) {
	w := newWorld(b)
	m := w.mount(fuse.Options{})
	b.ResetTimer()
	for i := range b.N {
		f, err := os.Create(filepath.Join(m.Dir(), fmt.Sprint("f", i)))
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func BenchmarkStat(b *testing.B) {
	w := newWorld(b)
	m := w.mount(fuse.Options{})
	const files = 1000
	for i := range files {
		if err := os.WriteFile(filepath.Join(m.Dir(), fmt.Sprint("f", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := os.Stat(filepath.Join(m.Dir(), fmt.Sprint("f", i%files))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite1MiB(b *testing.B) {
	w := newWorld(b)
	m := w.mount(fuse.Options{})
	f, err := os.Create(filepath.Join(m.Dir(), "big"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.WriteAt(buf, int64(i%256)*int64(len(buf))); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRead1MiB(b *testing.B) {
	w := newWorld(b)
	m := w.mount(fuse.Options{})
	p := filepath.Join(m.Dir(), "big")
	if err := os.WriteFile(p, make([]byte, 64<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.ReadAt(buf, int64(i%64)*int64(len(buf))); err != nil {
			b.Fatal(err)
		}
	}
}
