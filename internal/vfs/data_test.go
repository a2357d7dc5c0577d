package vfs_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/blob/mem"
	"tarn.dev/tarn/internal/meta/sqlmeta"
	"testing"

	"tarn.dev/tarn/internal/vfs"
)

func TestSparseFileHolesReadAsZeros(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	a, h, err := e.fs.Create(ctx, root, vfs.RootIno, "sparse", 0o644, syscall.O_RDWR, 0)
	ok(t, err)
	// Writes at the start, across a chunk boundary, and far out.
	writes := map[int64]string{0: "head", vfs.ChunkSize - 2: "span", 10 << 30: "tail"}
	for off, s := range writes {
		must(e.fs.Write(ctx, h, []byte(s), off))
	}
	ok(t, e.fs.Fsync(ctx, h))
	attr := must(e.fs.GetAttr(ctx, root, a.Ino))
	if attr.Size != 10<<30+4 {
		t.Errorf("size = %d, want %d", attr.Size, 10<<30+4)
	}
	for off, s := range writes {
		pad := min(off, 4)
		buf := make([]byte, int(pad)+len(s))
		n := must(e.fs.Read(ctx, h, buf, off-pad))
		want := append(make([]byte, pad), s...)
		if got := buf[:n]; !bytes.Equal(got, want) {
			t.Errorf("read around %d = %q, want %q", off, got, want)
		}
	}
	hole := make([]byte, 1<<20)
	for i := range hole {
		hole[i] = 0xff
	}
	n := must(e.fs.Read(ctx, h, hole, 5<<30))
	if n != len(hole) || !bytes.Equal(hole, make([]byte, len(hole))) {
		t.Errorf("hole read %d bytes, not all zero", n)
	}
	if n := must(e.fs.Read(ctx, h, hole, 10<<30+4)); n != 0 {
		t.Errorf("read at EOF = %d bytes, want 0", n)
	}
	ok(t, e.fs.Release(ctx, h))
}

func TestHugeOffsetsFailWithEFBIG(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	_, h, err := e.fs.Create(ctx, root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	ok(t, err)
	defer e.fs.Release(ctx, h)
	_, err = e.fs.Write(ctx, h, []byte("x"), vfs.MaxFileSize)
	wantErr(t, "write at max size", err, vfs.ErrFileTooBig)
	_, err = e.fs.Write(ctx, h, []byte("x"), -1)
	wantErr(t, "write at negative offset", err, vfs.ErrInvalid)
	n, err := e.fs.Write(ctx, h, []byte("xyz"), vfs.MaxFileSize-1)
	if err != nil || n != 1 {
		t.Errorf("write straddling the limit = %d, %v; want 1 byte", n, err)
	}
	_, err = e.fs.SetAttr(ctx, root, 2, vfs.SetAttrIn{Size: ptr[uint64](vfs.MaxFileSize + 1)})
	wantErr(t, "truncate past max size", err, vfs.ErrFileTooBig)
	err = e.fs.Fallocate(ctx, h, vfs.MaxFileSize, 10, 0)
	wantErr(t, "fallocate past max size", err, vfs.ErrFileTooBig)
}

func TestTruncate(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	data := bytes.Repeat([]byte("0123456789"), 1000)
	f := e.writeFile(root, vfs.RootIno, "f", data)
	for _, tc := range []struct {
		size uint64
		want []byte
	}{
		{5000, data[:5000]},
		{8000, append(append([]byte{}, data[:5000]...), make([]byte, 3000)...)}, // re-extension reads zeros
		{0, nil},
		{vfs.ChunkSize + 10, make([]byte, vfs.ChunkSize+10)},
	} {
		must(e.fs.SetAttr(ctx, root, f, vfs.SetAttrIn{Size: &tc.size}))
		if got := e.readAll(f); !bytes.Equal(got, tc.want) {
			t.Errorf("after truncate to %d: %d bytes, mismatch", tc.size, len(got))
		}
	}
	d := e.mkdir(root, vfs.RootIno, "d", 0o755)
	_, err := e.fs.SetAttr(ctx, root, d, vfs.SetAttrIn{Size: ptr[uint64](0)})
	wantErr(t, "truncate a directory", err, vfs.ErrIsDir)
	// O_TRUNC on open.
	h := must(e.fs.Open(ctx, root, f, syscall.O_RDWR|syscall.O_TRUNC))
	ok(t, e.fs.Release(ctx, h))
	if a := must(e.fs.GetAttr(ctx, root, f)); a.Size != 0 {
		t.Errorf("size after O_TRUNC = %d", a.Size)
	}
}

func TestTruncateDropsBufferedWritesPastSize(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	a, h, err := e.fs.Create(ctx, root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	ok(t, err)
	must(e.fs.Write(ctx, h, []byte("abcdefgh"), 0))
	must(e.fs.SetAttr(ctx, root, a.Ino, vfs.SetAttrIn{Size: ptr[uint64](3), Handle: h}))
	must(e.fs.SetAttr(ctx, root, a.Ino, vfs.SetAttrIn{Size: ptr[uint64](6), Handle: h}))
	ok(t, e.fs.Release(ctx, h))
	if got := e.readAll(a.Ino); !bytes.Equal(got, []byte("abc\x00\x00\x00")) {
		t.Errorf("content = %q", got)
	}
}

func TestFallocate(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	a, h, err := e.fs.Create(ctx, root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	ok(t, err)
	defer e.fs.Release(ctx, h)
	must(e.fs.Write(ctx, h, bytes.Repeat([]byte("x"), 100), 0))
	ok(t, e.fs.Fallocate(ctx, h, 0, 200, 0))
	ok(t, e.fs.Fallocate(ctx, h, 0, 1000, vfs.FallocKeepSize))
	ok(t, e.fs.Fallocate(ctx, h, 10, 20, vfs.FallocPunchHole|vfs.FallocKeepSize))
	ok(t, e.fs.Fallocate(ctx, h, 90, 20, vfs.FallocZeroRange))
	wantErr(t, "punch without keep-size", e.fs.Fallocate(ctx, h, 0, 1, vfs.FallocPunchHole), vfs.ErrNotSupported)
	wantErr(t, "zero length", e.fs.Fallocate(ctx, h, 0, 0, 0), vfs.ErrInvalid)
	want := bytes.Repeat([]byte("x"), 100)
	copy(want[10:30], make([]byte, 20))
	want = append(want[:90], make([]byte, 110)...)
	if got := e.readAll(a.Ino); !bytes.Equal(got, want) {
		t.Errorf("content = %q\nwant %q", got, want)
	}
}

func TestReadAfterWriteAcrossHandles(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	a, w, err := e.fs.Create(ctx, alice, vfs.RootIno, "f", 0o644, syscall.O_WRONLY, 0)
	wantErr(t, "create in root-owned dir", err, fs.ErrPermission)
	a, w, err = e.fs.Create(ctx, root, vfs.RootIno, "f", 0o644, syscall.O_WRONLY, 0)
	ok(t, err)
	r := must(e.fs.Open(ctx, alice, a.Ino, syscall.O_RDONLY))
	must(e.fs.Write(ctx, w, []byte("hello"), 0))
	if got := must(e.fs.GetAttr(ctx, bob, a.Ino)); got.Size != 5 {
		t.Errorf("size seen by another caller before flush = %d, want 5", got.Size)
	}
	buf := make([]byte, 10)
	n := must(e.fs.Read(ctx, r, buf, 0))
	if string(buf[:n]) != "hello" {
		t.Errorf("read through another handle = %q", buf[:n])
	}
	_, err = e.fs.Read(ctx, w, buf, 0)
	wantErr(t, "read on write-only handle", err, vfs.ErrBadHandle)
	_, err = e.fs.Write(ctx, r, buf, 0)
	wantErr(t, "write on read-only handle", err, vfs.ErrBadHandle)
	ok(t, e.fs.Release(ctx, w))
	ok(t, e.fs.Release(ctx, r))
	wantErr(t, "double release", e.fs.Release(ctx, r), vfs.ErrBadHandle)
}

func TestAppendWritesAtEnd(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	f := e.writeFile(root, vfs.RootIno, "log", []byte("one\n"))
	h1 := must(e.fs.Open(ctx, root, f, syscall.O_WRONLY|syscall.O_APPEND))
	h2 := must(e.fs.Open(ctx, root, f, syscall.O_WRONLY|syscall.O_APPEND))
	must(e.fs.Write(ctx, h1, []byte("two\n"), 0))
	must(e.fs.Write(ctx, h2, []byte("three\n"), 0))
	ok(t, e.fs.Release(ctx, h1))
	ok(t, e.fs.Release(ctx, h2))
	if got := string(e.readAll(f)); got != "one\ntwo\nthree\n" {
		t.Errorf("content = %q", got)
	}
}

func TestUnlinkedOpenFileKeepsDataUntilRelease(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	data := bytes.Repeat([]byte("z"), 3<<20)
	f := e.writeFile(root, vfs.RootIno, "f", data)
	h := must(e.fs.Open(ctx, root, f, syscall.O_RDWR))
	ok(t, e.fs.Unlink(ctx, root, vfs.RootIno, "f"))
	lookupGone(t, e, vfs.RootIno, "f")
	a := must(e.fs.GetAttr(ctx, root, f))
	if a.Nlink != 0 {
		t.Errorf("nlink after unlink = %d, want 0", a.Nlink)
	}
	_, err := e.fs.Link(ctx, root, f, vfs.RootIno, "again")
	wantErr(t, "relink an unlinked file", err, fs.ErrNotExist)
	must(e.fs.Write(ctx, h, []byte("more"), int64(len(data))))
	ok(t, e.fs.Fsync(ctx, h))
	buf := make([]byte, len(data)+4)
	if n := must(e.fs.Read(ctx, h, buf, 0)); n != len(buf) || !bytes.Equal(buf[:len(data)], data) {
		t.Errorf("read of unlinked open file: %d bytes", n)
	}
	if r := must(e.fs.Fsck(ctx, false)); !r.OK() {
		t.Errorf("fsck with an unlinked open file: %v", r.Problems)
	}
	ok(t, e.fs.Release(ctx, h))
	if _, err := e.fs.GetAttr(ctx, root, f); !errIs(err, fs.ErrNotExist) {
		t.Errorf("inode after last release = %v, want gone", err)
	}
	must(e.fs.GC(ctx))
	if used, _ := e.blobs.Store.(interface{ Usage() (int64, int64) }).Usage(); used != 0 {
		t.Errorf("blob bytes after release and GC = %d, want 0", used)
	}
}

func TestSmallWriteIntoLargeFileCostsItsSize(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	a, h, err := e.fs.Create(ctx, root, vfs.RootIno, "big", 0o644, syscall.O_RDWR, 0)
	ok(t, err)
	must(e.fs.SetAttr(ctx, root, a.Ino, vfs.SetAttrIn{Size: ptr[uint64](10 << 30), Handle: h}))
	must(e.fs.Write(ctx, h, bytes.Repeat([]byte("a"), 8<<20), 5<<30))
	ok(t, e.fs.Fsync(ctx, h))
	put, read := e.blobs.put.Load(), e.blobs.read.Load()
	must(e.fs.Write(ctx, h, bytes.Repeat([]byte("b"), 4096), 5<<30+12345))
	ok(t, e.fs.Fsync(ctx, h))
	if d := e.blobs.put.Load() - put; d != 4096 {
		t.Errorf("4 KiB overwrite put %d blob bytes, want 4096", d)
	}
	if d := e.blobs.read.Load() - read; d != 0 {
		t.Errorf("4 KiB overwrite read %d blob bytes, want 0", d)
	}
	buf := make([]byte, 3)
	must(e.fs.Read(ctx, h, buf, 5<<30+12344))
	if string(buf) != "abb" {
		t.Errorf("read across the overwrite = %q", buf)
	}
	ok(t, e.fs.Release(ctx, h))
}

func TestOutOfSpaceLosesNothingElse(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	f := e.writeFile(root, vfs.RootIno, "f", []byte("safe"))
	h := must(e.fs.Open(ctx, root, f, syscall.O_RDWR))
	e.blobs.full.Store(true)
	must(e.fs.Write(ctx, h, []byte("lost?"), 4))
	wantErr(t, "fsync on a full store", e.fs.Fsync(ctx, h), vfs.ErrNoSpace)
	e.blobs.full.Store(false)
	ok(t, e.fs.Fsync(ctx, h)) // the buffered write survived and lands now
	ok(t, e.fs.Release(ctx, h))
	if got := string(e.readAll(f)); got != "safelost?" {
		t.Errorf("content = %q", got)
	}
	e.blobs.full.Store(true)
	h = must(e.fs.Open(ctx, root, f, syscall.O_RDWR))
	must(e.fs.Write(ctx, h, []byte("XXXX"), 0))
	wantErr(t, "release on a full store", e.fs.Release(ctx, h), vfs.ErrNoSpace)
	e.blobs.full.Store(false)
	if got := string(e.readAll(f)); got != "safelost?" {
		t.Errorf("content after failed flush = %q, want the old data", got)
	}
	if r := must(e.fs.Fsck(ctx, false)); !r.OK() {
		t.Errorf("fsck after ENOSPC: %v", r.Problems)
	}
}

// TestRandomOperationsMatchModel runs random writes, truncates, reads,
// renames, links and reopenings against an in-memory model.
func TestRandomOperationsMatchModel(t *testing.T) {
	seed := rand.Uint64()
	if s := os.Getenv("TARN_TEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with TARN_TEST_SEED)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	e := newEnv(t, vfs.Options{MaxDirtyPerFile: 64 << 10, CompactExtents: 8, CacheBytes: 256 << 10})
	type file struct {
		ino  vfs.Ino
		data []byte
		h    vfs.Handle
	}
	names := map[string]*file{}
	var order []string
	for i := range 4 {
		n := "f" + itoa(i+1)
		a, h, err := e.fs.Create(ctx, root, vfs.RootIno, n, 0o644, syscall.O_RDWR, 0)
		ok(t, err)
		names[n] = &file{ino: a.Ino, h: h}
		order = append(order, n)
	}
	const span = 2 << 20 // offsets are also drawn near the first chunk boundary
	pick := func() (string, *file) { n := order[rng.IntN(len(order))]; return n, names[n] }
	for step := range 400 {
		n, f := pick()
		switch op := rng.IntN(10); {
		case op < 5: // write
			off := rng.Int64N(span)
			if rng.IntN(4) == 0 {
				off = vfs.ChunkSize - int64(rng.IntN(40000))
			}
			p := make([]byte, 1+rng.IntN(70000))
			b := byte(rng.Uint32())
			for i := range p {
				p[i] = b + byte(i/7)
			}
			must(e.fs.Write(ctx, f.h, p, off))
			if need := int(off) + len(p); need > len(f.data) {
				f.data = append(f.data, make([]byte, need-len(f.data))...)
			}
			copy(f.data[off:], p)
		case op == 5: // truncate
			size := rng.Int64N(span)
			if rng.IntN(4) == 0 {
				size = vfs.ChunkSize + rng.Int64N(40000) - 20000
			}
			must(e.fs.SetAttr(ctx, root, f.ino, vfs.SetAttrIn{Size: ptr(uint64(size)), Handle: f.h}))
			if int(size) < len(f.data) {
				f.data = f.data[:size]
			} else {
				f.data = append(f.data, make([]byte, int(size)-len(f.data))...)
			}
		case op == 6: // read a range
			off := rng.Int64N(int64(len(f.data)) + 1)
			buf := make([]byte, rng.IntN(200000))
			got := must(e.fs.Read(ctx, f.h, buf, off))
			want := f.data[off:min(int(off)+len(buf), len(f.data))]
			if !bytes.Equal(buf[:got], want) {
				t.Fatalf("step %d: read %s at %d: mismatch (%d bytes, want %d)", step, n, off, got, len(want))
			}
		case op == 7: // rename over another name
			m, g := pick()
			if m == n {
				continue
			}
			ok(t, e.fs.Rename(ctx, root, vfs.RootIno, n, vfs.RootIno, m, 0))
			ok(t, e.fs.Release(ctx, g.h))
			names[m] = f
			a, h, err := e.fs.Create(ctx, root, vfs.RootIno, n, 0o644, syscall.O_RDWR, 0)
			ok(t, err)
			names[n] = &file{ino: a.Ino, h: h}
		case op == 8: // close and reopen, or fsync
			if rng.IntN(2) == 0 {
				ok(t, e.fs.Fsync(ctx, f.h))
				continue
			}
			ok(t, e.fs.Release(ctx, f.h))
			f.h = must(e.fs.Open(ctx, root, f.ino, syscall.O_RDWR))
		case op == 9: // compact everything of this file
			ok(t, e.fs.Compact(ctx, f.ino))
			must(e.fs.GC(ctx))
		}
		if a := must(e.fs.GetAttr(ctx, root, f.ino)); a.Size != uint64(len(f.data)) {
			t.Fatalf("step %d: size of %s = %d, want %d", step, n, a.Size, len(f.data))
		}
	}
	for _, n := range order {
		f := names[n]
		ok(t, e.fs.Release(ctx, f.h))
		if got := e.readAll(f.ino); !bytes.Equal(got, f.data) {
			t.Errorf("final content of %s: %d bytes, want %d, mismatch", n, len(got), len(f.data))
		}
	}
	must(e.fs.GC(ctx))
	if r := must(e.fs.Fsck(ctx, false)); !r.OK() {
		t.Errorf("fsck: %v", r.Problems)
	}
}

func TestFsyncSyncsOnceForEveryFlushSinceTheLastSync(t *testing.T) {
	var syncs atomic.Int64
	e := newEnv(t, vfs.Options{Sync: func(context.Context) error { syncs.Add(1); return nil }})
	_, h, err := e.fs.Create(ctx, vfs.Root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fs.Fsync(ctx, h); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 0 {
		t.Errorf("fsync with nothing written synced %d times, want 0", n)
	}
	if _, err := e.fs.Write(ctx, h, []byte("data"), 0); err != nil {
		t.Fatal(err)
	}
	if err := e.fs.Fsync(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := e.fs.Flush(ctx, h); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 1 {
		t.Errorf("write, fsync, close synced %d times, want 1", n)
	}
	failing := newEnv(t, vfs.Options{Sync: func(context.Context) error { return syscall.EIO }})
	_, h2, err := failing.fs.Create(ctx, vfs.Root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	failing.fs.Write(ctx, h2, []byte("data"), 0)
	if err := failing.fs.Fsync(ctx, h2); !errors.Is(err, syscall.EIO) {
		t.Errorf("fsync when Sync fails: %v, want EIO", err)
	}
}

// gatedStore holds every Put until the gate is opened, so that a flush
// behind the writer stays in flight while the test looks at the file.
type gatedStore struct {
	blob.Store
	gate chan struct{}
	fail atomic.Bool
}

func (g *gatedStore) Put(ctx context.Context, key string, data []byte) error {
	<-g.gate
	if g.fail.Load() {
		return blob.ErrNoSpace
	}
	return g.Store.Put(ctx, key, data)
}

func TestFlushBehindKeepsDataVisibleAndRecoversFromFailure(t *testing.T) {
	store, err := sqlmeta.OpenSQLite(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m, err := store.Open(ctx, "fs")
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedStore{Store: mem.New(), gate: make(chan struct{})}
	fsys, err := vfs.New(ctx, m, g, vfs.Options{MaxDirtyPerFile: 1 << 20, CompactExtents: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	_, h, err := fsys.Create(ctx, vfs.Root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.Repeat([]byte("a"), 1<<20)
	if _, err := fsys.Write(ctx, h, first, 0); err != nil { // fills the buffer: flush behind starts, held at the gate
		t.Fatal(err)
	}
	second := bytes.Repeat([]byte("b"), 4096)
	if _, err := fsys.Write(ctx, h, second, 1<<20-4096); err != nil { // overwrites the tail while it is in flight
		t.Fatal(err)
	}
	got := make([]byte, 1<<20)
	if n, err := fsys.Read(ctx, h, got, 0); err != nil || n != len(got) {
		t.Fatalf("read during the flush: %d, %v", n, err)
	}
	want := append(bytes.Repeat([]byte("a"), 1<<20-4096), second...)
	if !bytes.Equal(got, want) {
		t.Fatal("a read while the flush is in flight does not see the in-flight and newer data")
	}
	// The flush fails: its data must go back under the newer write, and
	// the next fsync must report the failure.
	g.fail.Store(true)
	close(g.gate)
	if err := fsys.Fsync(ctx, h); !errors.Is(err, vfs.ErrNoSpace) && !errors.Is(err, blob.ErrNoSpace) {
		t.Fatalf("fsync after a failed flush behind: %v, want ENOSPC", err)
	}
	g.fail.Store(false)
	if err := fsys.Fsync(ctx, h); err != nil {
		t.Fatalf("fsync once space is back: %v", err)
	}
	if _, err := fsys.Read(ctx, h, got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("content after recovery differs (%v)", err)
	}
	fsys.Release(ctx, h)
}

func TestSequentialReaderPrefetchesAndRandomReaderDoesNot(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	data := make([]byte, 4*vfs.BlockSize)
	for i := range data {
		data[i] = byte(i / 4096)
	}
	f := e.writeFile(root, vfs.RootIno, "f", data)
	e.reopen() // a cold block cache

	// A large read in the middle of the file fetches its own block whole
	// and nothing after it.
	h := must(e.fs.Open(ctx, root, f, syscall.O_RDONLY))
	buf := make([]byte, 256<<10)
	off := int64(2*vfs.BlockSize + 4096)
	must(e.fs.Read(ctx, h, buf, off))
	if !bytes.Equal(buf, data[off:off+int64(len(buf))]) {
		t.Fatal("random read returned other bytes")
	}
	ok(t, e.fs.Release(ctx, h))
	e.reopen() // Close waits for any prefetch
	if n := e.blobs.read.Load(); n != vfs.BlockSize {
		t.Fatalf("a random 256 KiB read made the store serve %d bytes, want the one block (%d)", n, vfs.BlockSize)
	}

	// A reader from the start is sequential: the blocks ahead of it are
	// fetched before it asks for them.
	e.blobs.read.Store(0)
	h = must(e.fs.Open(ctx, root, f, syscall.O_RDONLY))
	buf = make([]byte, 1<<20)
	must(e.fs.Read(ctx, h, buf, 0))
	if !bytes.Equal(buf, data[:len(buf)]) {
		t.Fatal("sequential read returned other bytes")
	}
	ok(t, e.fs.Release(ctx, h))
	e.reopen()
	if n := e.blobs.read.Load(); n != 3*vfs.BlockSize {
		t.Fatalf("after a 1 MiB read at 0 the store served %d bytes, want blocks 0, 1 and 2 (%d)", n, 3*vfs.BlockSize)
	}
}
