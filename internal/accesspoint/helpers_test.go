package accesspoint_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"tarn.dev/tarn/internal/accesspoint"
	"tarn.dev/tarn/internal/blob/mem"
	"tarn.dev/tarn/internal/meta/sqlmeta"
	"tarn.dev/tarn/internal/vfs"
)

var ctx = context.Background()

var (
	root      = vfs.Root
	stranger  = vfs.Caller{UID: 5000, GID: 5000, PID: 42}
	apUser    = accesspoint.User{UID: 1001, GID: 1001, Groups: []uint32{3000}}
	otherUser = accesspoint.User{UID: 2002, GID: 2002}
)

// newCore opens a file system on a temporary SQLite database and an
// in-memory blob store.
func newCore(t testing.TB) *vfs.FS {
	t.Helper()
	db, err := sqlmeta.OpenSQLite(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.Open(ctx, "fs-1")
	if err != nil {
		t.Fatal(err)
	}
	f, err := vfs.New(ctx, s, mem.New(), vfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		db.Close()
	})
	return f
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s = %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", what, err, want)
	}
}

// wrap returns a view of fsys, failing the test on error.
func wrap(t testing.TB, fsys vfs.FileSystem, cfg accesspoint.Config) *accesspoint.FS {
	t.Helper()
	a, err := accesspoint.Wrap(fsys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// writeFile creates name in parent as c with data and mode and closes it.
func writeFile(t testing.TB, fsys vfs.FileSystem, c vfs.Caller, parent vfs.Ino, name string, mode uint32, data string) vfs.Attr {
	t.Helper()
	a, h, err := fsys.Create(ctx, c, parent, name, mode, syscall.O_RDWR, 0)
	ok(t, err)
	if data != "" {
		must(fsys.Write(ctx, h, []byte(data), 0))
	}
	ok(t, fsys.Release(ctx, h))
	return a
}

// readFile reads a whole file as c.
func readFile(fsys vfs.FileSystem, c vfs.Caller, ino vfs.Ino) (string, error) {
	h, err := fsys.Open(ctx, c, ino, syscall.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer fsys.Release(ctx, h)
	buf := make([]byte, 1<<16)
	n, err := fsys.Read(ctx, h, buf, 0)
	return string(buf[:n]), err
}

// readDir lists a directory as c, "." and ".." included.
func readDir(t testing.TB, fsys vfs.FileSystem, c vfs.Caller, dir vfs.Ino) map[string]vfs.Ino {
	t.Helper()
	h, err := fsys.OpenDir(ctx, c, dir)
	ok(t, err)
	defer fsys.ReleaseDir(ctx, h)
	out := map[string]vfs.Ino{}
	ok(t, fsys.ReadDir(ctx, h, 0, func(e vfs.DirEntry) bool { out[e.Name] = e.Ino; return true }))
	return out
}

// listing describes every entry of the core file system, with its
// attributes and times, one line each in path order.
func listing(t testing.TB, fsys vfs.FileSystem) string {
	t.Helper()
	var lines []string
	var walk func(dir vfs.Ino, path string)
	walk = func(dir vfs.Ino, path string) {
		for name, ino := range readDir(t, fsys, root, dir) {
			if name == "." || name == ".." {
				continue
			}
			a := must(fsys.GetAttr(ctx, root, ino))
			p := path + "/" + name
			x, _ := fsys.ListXattr(ctx, root, ino)
			lines = append(lines, fmt.Sprintf("%s ino=%d mode=%o uid=%d gid=%d nlink=%d size=%d mtime=%v ctime=%v xattrs=%v",
				p, a.Ino, a.Mode, a.UID, a.GID, a.Nlink, a.Size, a.Mtime.UnixNano(), a.Ctime.UnixNano(), x))
			if a.IsDir() {
				walk(ino, p)
			}
		}
	}
	a := must(fsys.GetAttr(ctx, root, vfs.RootIno))
	lines = append(lines, fmt.Sprintf("/ mode=%o mtime=%v", a.Mode, a.Mtime.UnixNano()))
	walk(vfs.RootIno, "")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// world is a file system with two access point roots and files outside
// them:
//
//	/message   1001:1001 0750  (access point 1, uid 1001)
//	/other     2002:2002 0750  (access point 2, uid 2002)
//	/secret    0:0 0600 "top secret"
//	/public    0:0 0755 dir with /public/readme 0644
type world struct {
	core       *vfs.FS
	message    vfs.Ino // core inode of /message
	other      vfs.Ino
	secret     vfs.Ino
	public     vfs.Ino
	readme     vfs.Ino
	ap1, ap2   *accesspoint.FS
	ap1Config  accesspoint.Config
	ap2Config  accesspoint.Config
	allOutside []vfs.Ino // core inodes outside /message, root excluded
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{core: newCore(t)}
	w.message = must(accesspoint.EnsureRoot(ctx, w.core, "/message",
		&accesspoint.CreationInfo{OwnerUID: 1001, OwnerGID: 1001, Perm: 0o750}, &apUser))
	w.other = must(accesspoint.EnsureRoot(ctx, w.core, "/other",
		&accesspoint.CreationInfo{OwnerUID: 2002, OwnerGID: 2002, Perm: 0o750}, &otherUser))
	w.secret = writeFile(t, w.core, root, vfs.RootIno, "secret", 0o600, "top secret").Ino
	w.public = must(w.core.Mkdir(ctx, root, vfs.RootIno, "public", 0o755, 0)).Ino
	w.readme = writeFile(t, w.core, root, w.public, "readme", 0o644, "hello").Ino
	writeFile(t, w.core, vfs.Caller{UID: 2002, GID: 2002}, w.other, "theirs", 0o644, "not yours")
	w.ap1Config = accesspoint.Config{PosixUser: &apUser, Root: w.message}
	w.ap2Config = accesspoint.Config{PosixUser: &otherUser, Root: w.other}
	w.ap1 = wrap(t, w.core, w.ap1Config)
	w.ap2 = wrap(t, w.core, w.ap2Config)
	w.allOutside = w.outside(t)
	return w
}

// outside lists every core inode not beneath /message, the root excluded.
func (w *world) outside(t testing.TB) []vfs.Ino {
	var out []vfs.Ino
	var walk func(dir vfs.Ino)
	walk = func(dir vfs.Ino) {
		for name, ino := range readDir(t, w.core, root, dir) {
			if name == "." || name == ".." || ino == w.message {
				continue
			}
			out = append(out, ino)
			if must(w.core.GetAttr(ctx, root, ino)).IsDir() {
				walk(ino)
			}
		}
	}
	walk(vfs.RootIno)
	return out
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// chown gives ino to uid:gid through the core.
func chown(t testing.TB, fsys vfs.FileSystem, ino vfs.Ino, uid, gid uint32) vfs.Ino {
	t.Helper()
	must(fsys.SetAttr(ctx, root, ino, vfs.SetAttrIn{UID: &uid, GID: &gid}))
	return ino
}
