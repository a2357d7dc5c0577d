package accesspoint_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"tarn.dev/tarn/internal/accesspoint"
	"tarn.dev/tarn/internal/vfs"
)

// benchWorld is a core with an access point at /bench/a/b/c (uid 1001) and
// a file in it, with both the core's and the view's inode numbers.
type benchWorld struct {
	core     *vfs.FS
	ap       *accesspoint.FS
	apRoot   vfs.Ino
	file     vfs.Ino
	deep     vfs.Ino // /bench/a/b/c/d1/d2/d3/d4
	deepView vfs.Ino // the same, handed out by the view
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	w := &benchWorld{core: newCore(b)}
	w.apRoot = must(accesspoint.EnsureRoot(ctx, w.core, "/bench/a/b/c",
		&accesspoint.CreationInfo{OwnerUID: 1001, OwnerGID: 1001, Perm: 0o755}, &apUser))
	w.ap = wrap(b, w.core, accesspoint.Config{PosixUser: &apUser, Root: w.apRoot})
	w.file = writeFile(b, w.ap, stranger, vfs.RootIno, "file", 0o644, "data").Ino
	dir := vfs.RootIno
	for i := 1; i <= 4; i++ {
		dir = must(w.ap.Mkdir(ctx, stranger, dir, fmt.Sprintf("d%d", i), 0o755, 0)).Ino
	}
	w.deep, w.deepView = dir, dir
	return w
}

// compare runs bare and viewed alternately, so that both see the same
// machine load, and reports the time of each and the overhead of the view.
func compare(b *testing.B, bare, viewed func(i int)) {
	var tb, tv time.Duration
	i := 0
	for b.Loop() {
		i++
		first, second, t1, t2 := bare, viewed, &tb, &tv
		if i%2 == 0 {
			first, second, t1, t2 = viewed, bare, &tv, &tb
		}
		start := time.Now()
		first(i)
		mid := time.Now()
		second(i)
		*t1 += mid.Sub(start)
		*t2 += time.Since(mid)
	}
	b.ReportMetric(float64(tb.Nanoseconds())/float64(i), "bare-ns/op")
	b.ReportMetric(float64(tv.Nanoseconds())/float64(i), "accesspoint-ns/op")
	b.ReportMetric(100*(float64(tv)/float64(tb)-1), "overhead-%")
}

// BenchmarkGetAttr compares GetAttr on the bare core with GetAttr through
// an access point (identity, inode check and translation).
func BenchmarkGetAttr(b *testing.B) {
	w := newBenchWorld(b)
	getattr := func(fsys vfs.FileSystem) func(int) {
		return func(int) {
			if _, err := fsys.GetAttr(ctx, stranger, w.file); err != nil {
				b.Fatal(err)
			}
		}
	}
	compare(b, getattr(w.core), getattr(w.ap))
}

// BenchmarkCreate compares creating (and releasing) a file through the bare
// core, as the access point's user, with the same through the access point,
// in two sibling directories of the same size.
func BenchmarkCreate(b *testing.B) {
	w := newBenchWorld(b)
	owner := vfs.Caller{UID: 1001, GID: 1001, Groups: []uint32{3000}}
	create := func(fsys vfs.FileSystem, parent vfs.Ino, name string) func(int) {
		dir := must(fsys.Mkdir(ctx, owner, parent, name, 0o755, 0)).Ino
		return func(i int) {
			_, h, err := fsys.Create(ctx, owner, dir, fmt.Sprintf("f%d", i), 0o644, syscall.O_RDWR, 0o022)
			if err != nil {
				b.Fatal(err)
			}
			if err := fsys.Release(ctx, h); err != nil {
				b.Fatal(err)
			}
		}
	}
	compare(b, create(w.core, w.apRoot, "bare"), create(w.ap, vfs.RootIno, "viewed"))
}

// BenchmarkConfinementCheck compares the cost of deciding that a directory
// four levels below the root is inside the tree: the view's check (measured
// as GetAttr through the view minus GetAttr on the core) against walking
// the ".." chain through the metadata, which a view without a handed-out set
// would need on every call.
func BenchmarkConfinementCheck(b *testing.B) {
	w := newBenchWorld(b)
	b.Run("known-set+getattr", func(b *testing.B) {
		for b.Loop() {
			if _, err := w.ap.GetAttr(ctx, stranger, w.deepView); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ancestry-walk+getattr", func(b *testing.B) {
		for b.Loop() {
			ino := w.deep
			for ino != w.apRoot {
				a, err := w.core.Lookup(ctx, vfs.Root, ino, "..")
				if err != nil || a.Ino == vfs.RootIno {
					b.Fatalf("walk from %d: %v", w.deep, err)
				}
				ino = a.Ino
			}
			if _, err := w.core.GetAttr(ctx, stranger, w.deep); err != nil {
				b.Fatal(err)
			}
		}
	})
}
