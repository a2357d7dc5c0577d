package disk_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/blob/blobtest"
	"tarn.dev/tarn/internal/blob/disk"
)

var ctx = context.Background()

func open(t *testing.T, dir string) *disk.Store {
	t.Helper()
	s, err := disk.Open(dir, disk.Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func keys(t *testing.T, s *disk.Store) []string {
	t.Helper()
	var out []string
	if err := s.List(ctx, "", func(key string, size int64) error { out = append(out, key); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// files lists the regular files and directories below dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLayoutMapsKeysToFiles(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	long := strings.Repeat("x", 250)
	for _, k := range []string{"chunks/7/42_0_4096", "a", "a/b", long} {
		if err := s.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"a", "a+/", "a+/b",
		"chunks+/", "chunks+/7+/", "chunks+/7+/42_0_4096",
		strings.Repeat("x", 240) + "%/", strings.Repeat("x", 240) + "%/xxxxxxxxxx",
	}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files in the store directory = %q\nwant %q", got, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, "chunks+/7+/42_0_4096"))
	if err != nil || string(data) != "chunks/7/42_0_4096" {
		t.Fatalf("object file content = %q, %v", data, err)
	}
}

func TestReopenKeepsObjects(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	for _, k := range []string{"x/1", "x/2", "y"} {
		if err := s.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s2 := open(t, dir)
	if got, want := keys(t, s2), []string{"x/1", "x/2", "y"}; !slices.Equal(got, want) {
		t.Fatalf("List after reopening = %q, want %q", got, want)
	}
	p := make([]byte, 3)
	if n, err := s2.ReadAt(ctx, "x/2", p, 0); n != 3 || err != nil || string(p) != "x/2" {
		t.Fatalf("ReadAt(x/2) after reopening = %d, %v, %q", n, err, p)
	}
}

func TestCrashLeftoversAreIgnoredAndCleanedAtOpen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Put(ctx, "a/b/obj", []byte("data")); err != nil {
		t.Fatal(err)
	}
	// What a process killed in the middle of Puts leaves: temporary files
	// beside objects and in directories holding nothing else.
	leftovers := []string{"a+/b+/tmp#123", "tmp#456", "c+/d+/tmp#789"}
	for _, l := range leftovers {
		p := filepath.Join(dir, l)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Names no key maps to are not the store's: ignored and kept. A file
	// whose name is a valid key is an object, whoever put it there.
	foreign := []string{"README", "a+/notes.txt~", "e/f"}
	for _, l := range foreign {
		p := filepath.Join(dir, l)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"README", "a/b/obj"}
	if got := keys(t, s); !slices.Equal(got, want) {
		t.Fatalf("List with leftovers = %q, want %q", got, want)
	}
	s.Close()

	s2 := open(t, dir)
	if got, want := files(t, dir), []string{"README", "a+/", "a+/b+/", "a+/b+/obj", "a+/notes.txt~", "e/", "e/f"}; !slices.Equal(got, want) {
		t.Fatalf("files after Open = %q\nwant %q (temporary files and empty directories removed)", got, want)
	}
	if b, n := s2.Usage(); b != 4 || n != 2 {
		t.Fatalf("Usage() after Open = %d bytes, %d objects; want 4, 2", b, n)
	}
}

func TestDeletePrunesEmptyDirectories(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	for _, k := range []string{"a/b/c/1", "a/b/c/2", "a/x", strings.Repeat("l", 500) + "/z"} {
		if err := s.Put(ctx, k, nil); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		del  string
		want []string
	}{
		{"a/b/c/1", []string{"a+/", "a+/b+/", "a+/b+/c+/", "a+/b+/c+/2", "a+/x"}},
		{"a/b/c/2", []string{"a+/", "a+/x"}},
		{strings.Repeat("l", 500) + "/z", []string{"a+/", "a+/x"}},
		{"a/x", nil},
	}
	for _, st := range steps {
		if err := s.Delete(ctx, st.del); err != nil {
			t.Fatal(err)
		}
		got := slices.DeleteFunc(files(t, dir), func(f string) bool { return strings.HasPrefix(f, "l") })
		if !slices.Equal(got, st.want) {
			t.Fatalf("after Delete(%.20q) files = %q, want %q", st.del, got, st.want)
		}
	}
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("after deleting everything files = %q, want none", got)
	}
	// Putting under a pruned directory creates it again.
	if err := s.Put(ctx, "a/b/c/1", []byte("x")); err != nil {
		t.Fatalf("Put under a pruned directory = %v", err)
	}
}

func TestUsageIsCountedAtOpenAndKept(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	type usage struct{ bytes, objects int64 }
	check := func(step string, want usage) {
		t.Helper()
		if b, n := s.Usage(); (usage{b, n}) != want {
			t.Fatalf("after %s: Usage() = %d, %d; want %d, %d", step, b, n, want.bytes, want.objects)
		}
	}
	check("Open", usage{0, 0})
	s.Put(ctx, "a", make([]byte, 100))
	s.Put(ctx, "b/c", make([]byte, 10))
	check("two Puts", usage{110, 2})
	s.Put(ctx, "a", make([]byte, 40))
	check("overwrite", usage{50, 2})
	s.Delete(ctx, "b/c")
	s.Delete(ctx, "b/c")
	check("Delete twice", usage{40, 1})
	s.Put(ctx, "b/d", make([]byte, 7))
	s.Close()
	s = open(t, dir)
	check("reopen", usage{47, 2})
}

func TestDeferredSyncStoresObjectsWhole(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := disk.Open(t.TempDir(), disk.Options{DeferSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Sync(context.Background()); err != nil {
				t.Errorf("Sync: %v", err)
			}
			s.Close()
		})
		return s
	})
}
