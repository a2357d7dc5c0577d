package fuse_test

import (
	"os"
	"path/filepath"
	"testing"

	"tarn.dev/tarn/internal/fuse"
)

func TestMountServesFiles(t *testing.T) {
	w := newWorld(t)
	m := w.mount(fuse.Options{})
	p := filepath.Join(m.Dir(), "hello")
	if err := os.WriteFile(p, []byte("world"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "world" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	if err := os.Mkdir(filepath.Join(m.Dir(), "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(m.Dir())
	if err != nil || len(ents) != 2 {
		t.Fatalf("ReadDir = %v, %v", ents, err)
	}
}
