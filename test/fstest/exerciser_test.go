package fsrobust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The exerciser's world: a few directories at the root that may be created,
// renamed and removed, a few file names in each and two at the root. Every
// path is drawn from this fixed universe, so that choices depend on the
// seed only (never on map order).
var (
	exDirs  = []string{"a", "b", "c", "d"}
	exNames = []string{"f0", "f1", "f2", "f3"}
	exRoot  = []string{"r0", "r1"}
	exPaths = func() []string {
		p := slices.Clone(exRoot)
		for _, d := range exDirs {
			for _, n := range exNames {
				p = append(p, d+"/"+n)
			}
		}
		return p
	}()
)

const (
	exMaxSize    = 1 << 20 // largest file the model keeps
	exPoolSize   = 1 << 20 // random bytes writes are cut from
	exMaxOrphans = 3       // unlinked files kept open
)

// exInode is the model of one file: its bytes, its links and the one
// descriptor the exerciser keeps open on it.
type exInode struct {
	id    int
	data  []byte
	nlink int
	f     *os.File
}

type exerciser struct {
	t       *testing.T
	seed    int64
	rng     *rand.Rand
	mp, mp2 string // the mount under test and a second mount of the same fs
	mm      *mmapChild
	pool    []byte
	rbuf    []byte
	files   map[string]*exInode
	dirs    map[string]bool
	live    []*exInode // every inode with an open descriptor, linked or not
	nextID  int
	op      int
	recent  [24]string
	counts  map[string]int
	noPunch bool
}

// exTarget is what the exerciser runs against: two mounts of one file
// system, a clean fsck, and a fresh mount after both are unmounted.
type exTarget struct {
	mp, mp2 string
	fsck    func(t *testing.T)
	remount func(t *testing.T) string
}

// exerciserOps is the length of a full run: TARN_FSTEST_OPS, or 100,000
// (20,000 with -short).
func exerciserOps(t *testing.T) int {
	if s := os.Getenv("TARN_FSTEST_OPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("TARN_FSTEST_OPS=%q: %v", s, err)
		}
		return n
	}
	if testing.Short() {
		return 20000
	}
	return 100000
}

// TestExerciserMatchesModel runs a long random sequence of file operations
// through a FUSE mount served by a tarn server and checks every result
// (data, sizes, link counts, directory listings, errors) against an
// in-memory model: positioned writes at random offsets including sparse ones
// beyond the end, reads, truncation up and down, hole punching, renames over
// existing files, hard links, unlinked open files, directory renames, and
// mmap reads and writes from a child process. Page caches are dropped now
// and then so that reads reach the server, and a second mount must see
// every change at once. At the end both mounts and a fresh one must show the
// model's contents and `tarn fsck` must report the file system clean.
//
// The server is the tarn binary, so that the race detector's cost on the
// test binary does not slow the server down; the in-process variant below
// runs the server code under the race detector.
func TestExerciserMatchesModel(t *testing.T) {
	needFUSE(t)
	ops := exerciserOps(t)
	srv := startServer(t, filepath.Join(t.TempDir(), "data"))
	id := srv.createFS("exerciser")
	tg := exTarget{
		mp: srv.mount(id, false), mp2: srv.mount(id, false),
		fsck: func(t *testing.T) {
			out, ok := srv.fsck(id, false)
			if !ok || !strings.Contains(out, "clean") {
				t.Errorf("tarn fsck after the run is not clean:\n%s", out)
			}
			t.Logf("tarn fsck: %s", strings.TrimSpace(out))
		},
	}
	tg.remount = func(t *testing.T) string {
		srv.umount(tg.mp)
		srv.umount(tg.mp2)
		return srv.mount(id, false)
	}
	runExerciser(t, ops, tg)
}

// TestExerciserInProcessServer is a shorter run against an in-process file
// service, so that the server side runs under the race detector too.
func TestExerciserInProcessServer(t *testing.T) {
	needFUSE(t)
	ops := 3000
	if testing.Short() {
		ops = 1000
	}
	svc := newService(t, "")
	tg := exTarget{mp: svc.mount(t, false), mp2: svc.mount(t, false), fsck: svc.fsckClean}
	tg.remount = func(t *testing.T) string {
		for _, mp := range []string{tg.mp, tg.mp2} {
			if err := svc.unmount(t, mp); err != nil {
				t.Fatal(err)
			}
		}
		return svc.mount(t, false)
	}
	runExerciser(t, ops, tg)
}

func runExerciser(t *testing.T, ops int, tg exTarget) {
	seed := testSeed(t)
	e := &exerciser{
		t: t, seed: seed, rng: rand.New(rand.NewSource(seed)),
		mp: tg.mp, mp2: tg.mp2,
		mm:    startMmapChild(t),
		rbuf:  make([]byte, 256<<10),
		files: map[string]*exInode{}, dirs: map[string]bool{}, counts: map[string]int{},
	}
	// Descriptors left open on a failure must be closed before the mounts
	// go: a process exiting with files open on a mount it serves hangs,
	// and a mount with open files cannot be unmounted.
	t.Cleanup(func() {
		for _, in := range e.live {
			in.f.Close()
		}
	})
	e.pool = make([]byte, exPoolSize)
	e.rng.Read(e.pool)
	for _, d := range exDirs[:3] {
		e.do("mkdir", d, func() { e.mkdir(d) })
	}
	for e.op = 0; e.op < ops; e.op++ {
		e.step()
	}
	t.Logf("%d operations: %v", ops, e.counts)

	// Everything through both mounts, then quiet and fsck.
	e.verifyAll(e.mp, "the mount under test")
	e.verifyAll(e.mp2, "the second mount")
	for len(e.live) > 0 {
		e.closeInode(e.live[0])
	}
	tg.fsck(t)
	// And cold, through a fresh mount after both are gone.
	e.verifyAll(tg.remount(t), "a fresh mount")
}

// do runs one operation, recording its description for failure reports.
func (e *exerciser) do(kind, desc string, fn func()) {
	e.counts[kind]++
	e.recent[e.op%len(e.recent)] = fmt.Sprintf("%d %s %s", e.op, kind, desc)
	fn()
}

func (e *exerciser) fail(format string, args ...any) {
	e.t.Helper()
	var recent []string
	for i := e.op + 1; i <= e.op+len(e.recent); i++ {
		if r := e.recent[i%len(e.recent)]; r != "" {
			recent = append(recent, r)
		}
	}
	e.t.Fatalf("seed %d (TARN_TEST_SEED=%d reproduces), operation %d: %s\nlast operations:\n  %s",
		e.seed, e.seed, e.op, fmt.Sprintf(format, args...), strings.Join(recent, "\n  "))
}

// expect fails unless err carries errno want (0: success).
func (e *exerciser) expect(what string, err error, want syscall.Errno) {
	e.t.Helper()
	if got := errnoOf(err); got != want {
		e.fail("%s: got %v (errno %d), want errno %d (%v)", what, err, got, want, want)
	}
}

func (e *exerciser) step() {
	r := e.rng.Intn(1000)
	switch {
	case r < 250:
		in := e.pickInode()
		e.do("write", e.name(in), func() { e.write(in, false) })
	case r < 300:
		in := e.pickInode()
		e.do("append", e.name(in), func() { e.write(in, true) })
	case r < 520:
		in := e.pickInode()
		e.do("read", e.name(in), func() { e.read(in) })
	case r < 570:
		in := e.pickInode()
		e.do("truncate", e.name(in), func() { e.truncate(in) })
	case r < 610:
		p := e.randPath()
		e.do("create", p, func() { e.create(p) })
	case r < 670:
		src, dst := e.existingPath(), e.randPath()
		e.do("rename", src+" "+dst, func() { e.rename(src, dst) })
	case r < 700:
		src, dst := e.existingPath(), e.randPath()
		e.do("link", src+" "+dst, func() { e.link(src, dst) })
	case r < 740:
		p := e.randPath()
		e.do("unlink", p, func() { e.unlink(p) })
	case r < 790:
		p := e.randPath()
		e.do("stat", p, func() { e.stat(p) })
	case r < 805:
		in := e.pickInode()
		e.do("reopen", e.name(in), func() { e.reopen(in) })
	case r < 812:
		in := e.pickInode()
		e.do("fsync", e.name(in), func() { e.expect("fsync", in.f.Sync(), 0) })
	case r < 817:
		p := e.randPath()
		e.do("verify", p, func() { e.verifyPath(e.mp, p) })
	case r < 825:
		p := e.randPath()
		e.do("verify-second-mount", p, func() { e.verifyPath(e.mp2, p) })
	case r < 833:
		src, dst := e.randDir(), e.randDir()
		e.do("rename-dir", src+" "+dst, func() { e.renameDir(src, dst) })
	case r < 837:
		d := e.randDir()
		e.do("mkdir", d, func() { e.mkdir(d) })
	case r < 841:
		d := e.randDir()
		e.do("rmdir", d, func() { e.rmdir(d) })
	case r < 856:
		d := e.randDir()
		if e.rng.Intn(4) == 0 {
			d = "."
		}
		e.do("readdir", d, func() { e.readdir(e.mp, d) })
	case r < 880:
		in := e.pickLinked()
		e.do("mmap-read", e.name(in), func() { e.mmapRead(in) })
	case r < 895:
		in := e.pickLinked()
		e.do("mmap-write", e.name(in), func() { e.mmapWrite(in) })
	case r < 910:
		in := e.pickInode()
		e.do("punch-hole", e.name(in), func() { e.punch(in) })
	case r < 930:
		in := e.pickInode()
		e.do("drop-pages", e.name(in), func() {
			e.expect("fadvise DONTNEED", unix.Fadvise(int(in.f.Fd()), 0, 0, unix.FADV_DONTNEED), 0)
		})
	default:
		in := e.pickInode()
		e.do("read", e.name(in), func() { e.read(in) })
	}
}

// name describes an inode for reports: its id and first path.
func (e *exerciser) name(in *exInode) string {
	if p := e.pathOf(in); p != "" {
		return fmt.Sprintf("#%d(%s)", in.id, p)
	}
	return fmt.Sprintf("#%d(unlinked)", in.id)
}

func (e *exerciser) pathOf(in *exInode) string {
	for _, p := range exPaths {
		if e.files[p] == in {
			return p
		}
	}
	return ""
}

func (e *exerciser) randPath() string { return exPaths[e.rng.Intn(len(exPaths))] }
func (e *exerciser) randDir() string  { return exDirs[e.rng.Intn(len(exDirs))] }

// existingPath returns a random path that names a file, or a random one if
// none does.
func (e *exerciser) existingPath() string {
	var have []string
	for _, p := range exPaths {
		if e.files[p] != nil {
			have = append(have, p)
		}
	}
	if len(have) == 0 {
		return e.randPath()
	}
	return have[e.rng.Intn(len(have))]
}

// pickInode returns a random open inode, creating a file if there is none.
func (e *exerciser) pickInode() *exInode {
	if len(e.live) == 0 {
		e.ensureFile()
	}
	return e.live[e.rng.Intn(len(e.live))]
}

// pickLinked returns a random inode that has a name.
func (e *exerciser) pickLinked() *exInode {
	var linked []*exInode
	for _, in := range e.live {
		if in.nlink > 0 {
			linked = append(linked, in)
		}
	}
	if len(linked) == 0 {
		e.ensureFile()
		return e.pickLinked()
	}
	return linked[e.rng.Intn(len(linked))]
}

func (e *exerciser) ensureFile() {
	for _, p := range exRoot {
		if e.files[p] == nil {
			e.do("create", p, func() { e.create(p) })
			return
		}
	}
	e.do("unlink", exRoot[0], func() { e.unlink(exRoot[0]) })
	e.do("create", exRoot[0], func() { e.create(exRoot[0]) })
}

func (e *exerciser) abs(mp, p string) string { return filepath.Join(mp, p) }

func (e *exerciser) dirOf(p string) string {
	if d := path.Dir(p); d != "." {
		return d
	}
	return ""
}

func (e *exerciser) dirExists(p string) bool {
	d := e.dirOf(p)
	return d == "" || e.dirs[d]
}

// resize sets the model's length, zeroing bytes that come into view.
func resize(b []byte, n int) []byte {
	if n <= len(b) {
		return b[:n]
	}
	old := len(b)
	b = slices.Grow(b, n-old)[:n]
	clear(b[old:])
	return b
}

func (e *exerciser) writeLen() int {
	switch r := e.rng.Intn(100); {
	case r < 80:
		return 1 + e.rng.Intn(4<<10)
	case r < 98:
		return 1 + e.rng.Intn(64<<10)
	default:
		return 1 + e.rng.Intn(256<<10)
	}
}

func (e *exerciser) write(in *exInode, atEOF bool) {
	size := int64(len(in.data))
	var off int64
	switch r := e.rng.Intn(10); {
	case atEOF:
		off = size
	case r < 7:
		off = e.rng.Int63n(size + 1)
	case r < 9:
		off = size + e.rng.Int63n(256<<10) // a hole before the data
	default:
		off = e.rng.Int63n(exMaxSize)
	}
	off = min(off, exMaxSize-1)
	n := min(int64(e.writeLen()), exMaxSize-off)
	src := e.rng.Intn(exPoolSize - int(n) + 1)
	buf := e.pool[src : src+int(n)]
	k, err := in.f.WriteAt(buf, off)
	e.expect(fmt.Sprintf("pwrite %d bytes at %d", n, off), err, 0)
	if k != int(n) {
		e.fail("pwrite %d bytes at %d wrote %d", n, off, k)
	}
	if end := int(off + n); end > len(in.data) {
		in.data = resize(in.data, end)
	}
	copy(in.data[off:], buf)
}

// compare fails unless got equals want, naming the first differing byte.
func (e *exerciser) compare(what string, off int64, got, want []byte) {
	e.t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	detail := "lengths differ"
	if i < len(got) && i < len(want) {
		detail = fmt.Sprintf("byte %d is %#02x, want %#02x", off+int64(i), got[i], want[i])
	}
	e.fail("%s: got %d bytes, want %d; first difference at offset %d: %s", what, len(got), len(want), off+int64(i), detail)
}

func (e *exerciser) read(in *exInode) {
	size := int64(len(in.data))
	off := e.rng.Int63n(size + 4096 + 1)
	n := 1 + e.rng.Intn(64<<10)
	buf := e.rbuf[:n]
	k, err := in.f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		e.fail("pread %d at %d: %v", n, off, err)
	}
	var want []byte
	if off < size {
		want = in.data[off:min(off+int64(n), size)]
	}
	e.compare(fmt.Sprintf("pread %d at %d of a %d-byte file", n, off, size), off, buf[:k], want)
}

func (e *exerciser) truncate(in *exInode) {
	size := int64(len(in.data))
	n := e.rng.Int63n(exMaxSize + 1)
	if e.rng.Intn(2) == 0 {
		n = e.rng.Int63n(size + 1)
	}
	e.expect(fmt.Sprintf("ftruncate %d to %d", size, n), in.f.Truncate(n), 0)
	in.data = resize(in.data, int(n))
}

func (e *exerciser) punch(in *exInode) {
	if e.noPunch {
		return
	}
	size := int64(len(in.data))
	off := e.rng.Int63n(size + 1)
	n := 1 + e.rng.Int63n(128<<10)
	err := unix.Fallocate(int(in.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		e.t.Logf("punching holes is not supported (%v); not exercised", err)
		e.noPunch = true
		return
	}
	e.expect(fmt.Sprintf("punch %d at %d", n, off), err, 0)
	if off < size {
		clear(in.data[off:min(off+n, size)])
	}
}

func (e *exerciser) create(p string) {
	f, err := os.OpenFile(e.abs(e.mp, p), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if !e.dirExists(p) {
		e.expect("create in a missing directory", err, syscall.ENOENT)
		return
	}
	e.expect("create", err, 0)
	if in := e.files[p]; in != nil {
		in.data = in.data[:0]
		e.expect("close", f.Close(), 0)
		return
	}
	e.nextID++
	in := &exInode{id: e.nextID, nlink: 1, f: f}
	e.files[p] = in
	e.live = append(e.live, in)
}

// dropLink removes one link of in; an inode without links keeps its
// descriptor open for a while (reads and writes of an unlinked file) or is
// closed.
func (e *exerciser) dropLink(in *exInode) {
	in.nlink--
	if in.nlink > 0 {
		return
	}
	orphans := 0
	for _, o := range e.live {
		if o.nlink == 0 {
			orphans++
		}
	}
	if orphans > exMaxOrphans || e.rng.Intn(3) != 0 {
		e.closeInode(in)
	}
}

func (e *exerciser) closeInode(in *exInode) {
	e.expect(fmt.Sprintf("close #%d", in.id), in.f.Close(), 0)
	in.f = nil
	i := slices.Index(e.live, in)
	e.live = slices.Delete(e.live, i, i+1)
}

func (e *exerciser) rename(src, dst string) {
	err := syscall.Rename(e.abs(e.mp, src), e.abs(e.mp, dst))
	in := e.files[src]
	switch {
	case in == nil:
		e.expect("rename of a missing file", err, syscall.ENOENT)
	case !e.dirExists(dst):
		e.expect("rename into a missing directory", err, syscall.ENOENT)
	case e.files[dst] == in:
		e.expect("rename onto a link of the same file", err, 0) // does nothing
	default:
		e.expect("rename", err, 0)
		old := e.files[dst]
		e.files[dst] = in
		delete(e.files, src)
		if old != nil {
			e.dropLink(old)
		}
	}
}

func (e *exerciser) link(src, dst string) {
	err := os.Link(e.abs(e.mp, src), e.abs(e.mp, dst))
	in := e.files[src]
	switch {
	case in == nil || !e.dirExists(dst):
		e.expect("link with a missing name or directory", err, syscall.ENOENT)
	case e.files[dst] != nil:
		e.expect("link over an existing name", err, syscall.EEXIST)
	default:
		e.expect("link", err, 0)
		e.files[dst] = in
		in.nlink++
	}
}

func (e *exerciser) unlink(p string) {
	err := syscall.Unlink(e.abs(e.mp, p))
	in := e.files[p]
	if in == nil {
		e.expect("unlink of a missing name", err, syscall.ENOENT)
		return
	}
	e.expect("unlink", err, 0)
	delete(e.files, p)
	e.dropLink(in)
}

func (e *exerciser) stat(p string) {
	var st syscall.Stat_t
	err := syscall.Stat(e.abs(e.mp, p), &st)
	in := e.files[p]
	if in == nil {
		e.expect("stat of a missing name", err, syscall.ENOENT)
		return
	}
	e.expect("stat", err, 0)
	if st.Size != int64(len(in.data)) || int(st.Nlink) != in.nlink || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		e.fail("stat %s: size %d nlink %d mode %o, want size %d nlink %d regular file", p, st.Size, st.Nlink, st.Mode, len(in.data), in.nlink)
	}
}

func (e *exerciser) reopen(in *exInode) {
	p := e.pathOf(in)
	if p == "" {
		e.closeInode(in)
		return
	}
	e.expect("close", in.f.Close(), 0)
	f, err := os.OpenFile(e.abs(e.mp, p), os.O_RDWR, 0)
	e.expect("reopen", err, 0)
	in.f = f
}

// verifyPath reads p whole through mount mp and compares with the model.
func (e *exerciser) verifyPath(mp, p string) {
	got, err := os.ReadFile(e.abs(mp, p))
	in := e.files[p]
	if in == nil {
		e.expect("read of a missing file through "+mp, err, syscall.ENOENT)
		return
	}
	e.expect("read through "+mp, err, 0)
	e.compare("whole file "+p+" through "+mp, 0, got, in.data)
}

func (e *exerciser) dirEmpty(d string) bool {
	for _, n := range exNames {
		if e.files[d+"/"+n] != nil {
			return false
		}
	}
	return true
}

func (e *exerciser) renameDir(src, dst string) {
	err := syscall.Rename(e.abs(e.mp, src), e.abs(e.mp, dst))
	switch {
	case !e.dirs[src]:
		e.expect("rename of a missing directory", err, syscall.ENOENT)
	case src == dst:
		e.expect("rename of a directory onto itself", err, 0)
	case e.dirs[dst] && !e.dirEmpty(dst):
		if got := errnoOf(err); got != syscall.ENOTEMPTY && got != syscall.EEXIST {
			e.fail("rename of a directory over a non-empty one: got %v, want ENOTEMPTY or EEXIST", err)
		}
	default:
		e.expect("rename of a directory", err, 0)
		for _, n := range exNames {
			if in := e.files[src+"/"+n]; in != nil {
				e.files[dst+"/"+n] = in
				delete(e.files, src+"/"+n)
			}
		}
		e.dirs[src], e.dirs[dst] = false, true
	}
}

func (e *exerciser) mkdir(d string) {
	err := syscall.Mkdir(e.abs(e.mp, d), 0o755)
	if e.dirs[d] {
		e.expect("mkdir of an existing directory", err, syscall.EEXIST)
		return
	}
	e.expect("mkdir", err, 0)
	e.dirs[d] = true
}

func (e *exerciser) rmdir(d string) {
	err := syscall.Rmdir(e.abs(e.mp, d))
	switch {
	case !e.dirs[d]:
		e.expect("rmdir of a missing directory", err, syscall.ENOENT)
	case !e.dirEmpty(d):
		e.expect("rmdir of a non-empty directory", err, syscall.ENOTEMPTY)
	default:
		e.expect("rmdir", err, 0)
		e.dirs[d] = false
	}
}

// readdir compares a listing through mp with the model.
func (e *exerciser) readdir(mp, d string) {
	ents, err := os.ReadDir(e.abs(mp, d))
	var want []string
	if d == "." {
		want = slices.Clone(exRoot[:0])
		for _, p := range exRoot {
			if e.files[p] != nil {
				want = append(want, p)
			}
		}
		for _, x := range exDirs {
			if e.dirs[x] {
				want = append(want, x)
			}
		}
	} else {
		if !e.dirs[d] {
			e.expect("readdir of a missing directory", err, syscall.ENOENT)
			return
		}
		for _, n := range exNames {
			if e.files[d+"/"+n] != nil {
				want = append(want, n)
			}
		}
	}
	e.expect("readdir", err, 0)
	var got []string
	for _, de := range ents {
		got = append(got, de.Name())
	}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		e.fail("readdir %s through %s: %q, want %q", d, mp, got, want)
	}
}

// mmapRange picks a range within in for a mapping, or ok=false if in is
// empty.
func (e *exerciser) mmapRange(in *exInode) (off int64, n int, ok bool) {
	size := int64(len(in.data))
	if size == 0 {
		return 0, 0, false
	}
	off = e.rng.Int63n(size)
	n = 1 + e.rng.Intn(int(min(64<<10, size-off)))
	return off, n, true
}

func (e *exerciser) mmapRead(in *exInode) {
	off, n, ok := e.mmapRange(in)
	if !ok {
		return
	}
	got, err := e.mm.do(mmapReq{Path: e.abs(e.mp, e.pathOf(in)), Off: off, Len: n})
	if err != nil {
		e.fail("mmap read %d at %d: %v", n, off, err)
	}
	e.compare(fmt.Sprintf("mmap read %d at %d", n, off), off, got, in.data[off:off+int64(n)])
}

func (e *exerciser) mmapWrite(in *exInode) {
	off, n, ok := e.mmapRange(in)
	if !ok {
		return
	}
	src := e.rng.Intn(exPoolSize - n + 1)
	data := e.pool[src : src+n]
	if _, err := e.mm.do(mmapReq{Write: true, Path: e.abs(e.mp, e.pathOf(in)), Off: off, Data: data}); err != nil {
		e.fail("mmap write %d at %d: %v", n, off, err)
	}
	copy(in.data[off:], data)
}

// verifyAll compares every path, link count and listing through mp with
// the model.
func (e *exerciser) verifyAll(mp, what string) {
	e.t.Helper()
	e.op = -1
	e.recent[len(e.recent)-1] = "final check through " + what
	for _, p := range exPaths {
		e.verifyPath(mp, p)
		if in := e.files[p]; in != nil {
			var st syscall.Stat_t
			e.expect("stat "+p, syscall.Stat(e.abs(mp, p), &st), 0)
			if int(st.Nlink) != in.nlink || st.Size != int64(len(in.data)) {
				e.fail("%s through %s: nlink %d size %d, want %d and %d", p, what, st.Nlink, st.Size, in.nlink, len(in.data))
			}
		}
	}
	e.readdir(mp, ".")
	for _, d := range exDirs {
		e.readdir(mp, d)
	}
}
