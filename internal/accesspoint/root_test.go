package accesspoint_test

import (
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"tarn.dev/tarn/internal/accesspoint"
	"tarn.dev/tarn/internal/vfs"
)

// lookupPath walks path from the root through the core.
func lookupPath(t testing.TB, fsys vfs.FileSystem, path string) vfs.Attr {
	t.Helper()
	a := must(fsys.GetAttr(ctx, root, vfs.RootIno))
	for _, n := range strings.Split(strings.Trim(path, "/"), "/") {
		if n == "" {
			continue
		}
		var err error
		if a, err = fsys.Lookup(ctx, root, a.Ino, n); err != nil {
			t.Fatalf("lookup %s: %v", path, err)
		}
	}
	return a
}

func TestEnsureRootCreatesMissingDirectories(t *testing.T) {
	core := newCore(t)
	info := &accesspoint.CreationInfo{OwnerUID: 1001, OwnerGID: 1002, Perm: 0o2750}
	ino, err := accesspoint.EnsureRoot(ctx, core, "/a/b/c/d", info, &apUser)
	ok(t, err)
	want := []struct {
		path     string
		mode     uint32
		uid, gid uint32
	}{
		{"/a", 0o755, 1001, 1002},
		{"/a/b", 0o755, 1001, 1002},
		{"/a/b/c", 0o755, 1001, 1002},
		{"/a/b/c/d", 0o2750, 1001, 1002},
	}
	for _, w := range want {
		a := lookupPath(t, core, w.path)
		if !a.IsDir() || a.Mode&vfs.ModePerm != w.mode || a.UID != w.uid || a.GID != w.gid {
			t.Errorf("%s = mode %o %d:%d, want dir mode %o %d:%d", w.path, a.Mode, a.UID, a.GID, w.mode, w.uid, w.gid)
		}
	}
	if d := lookupPath(t, core, "/a/b/c/d"); d.Ino != ino {
		t.Errorf("EnsureRoot = %d, want %d", ino, d.Ino)
	}
	// Exact modes, without umask, including the special bits.
	for _, perm := range []uint32{0o777, 0o1777, 0o700, 0o711} {
		name := fmt.Sprintf("/perm%04o", perm)
		ok(t, ignoreIno(accesspoint.EnsureRoot(ctx, core, name, &accesspoint.CreationInfo{OwnerUID: 7, OwnerGID: 8, Perm: perm}, nil)))
		if a := lookupPath(t, core, name); a.Mode&vfs.ModePerm != perm {
			t.Errorf("%s mode = %o, want %o", name, a.Mode&vfs.ModePerm, perm)
		}
	}
	assertNoTemporaries(t, core)
}

func ignoreIno(_ vfs.Ino, err error) error { return err }

func TestEnsureRootKeepsAnExistingDirectory(t *testing.T) {
	core := newCore(t)
	d := must(core.Mkdir(ctx, root, vfs.RootIno, "data", 0o711, 0))
	chown(t, core, d.Ino, 5, 6)
	ino, err := accesspoint.EnsureRoot(ctx, core, "/data", &accesspoint.CreationInfo{OwnerUID: 1001, OwnerGID: 1001, Perm: 0o700}, &apUser)
	ok(t, err)
	a := must(core.GetAttr(ctx, root, ino))
	if ino != d.Ino || a.Mode&vfs.ModePerm != 0o711 || a.UID != 5 || a.GID != 6 {
		t.Errorf("existing /data = ino %d mode %o %d:%d, want ino %d mode 711 5:6", ino, a.Mode&vfs.ModePerm, a.UID, a.GID, d.Ino)
	}
	if got := must(accesspoint.EnsureRoot(ctx, core, "/", nil, &apUser)); got != vfs.RootIno {
		t.Errorf(`EnsureRoot("/") = %d, want 1`, got)
	}
}

func TestEnsureRootErrors(t *testing.T) {
	core := newCore(t)
	writeFile(t, core, root, vfs.RootIno, "file", 0o644, "")
	must(core.Symlink(ctx, root, vfs.RootIno, "link", "/"))
	closed := must(core.Mkdir(ctx, root, vfs.RootIno, "closed", 0o700, 0))
	must(core.Mkdir(ctx, root, vfs.RootIno, "exists", 0o755, 0))
	info := &accesspoint.CreationInfo{OwnerUID: 1, OwnerGID: 1, Perm: 0o755}
	tests := []struct {
		name     string
		path     string
		info     *accesspoint.CreationInfo
		user     *accesspoint.User
		want     error
		wantText string
	}{
		{"missing without CreationInfo", "/x", nil, nil, fs.ErrNotExist,
			"access point root directory /x does not exist and has no CreationInfo"},
		{"missing parent without CreationInfo", "/exists/y/z", nil, nil, fs.ErrNotExist, "has no CreationInfo"},
		{"file component", "/file", info, nil, vfs.ErrNotDir, "/file is not a directory"},
		{"file in the middle", "/file/sub", info, nil, vfs.ErrNotDir, "/file is not a directory"},
		{"symlink is not followed", "/link", info, nil, vfs.ErrNotDir, "/link is not a directory"},
		{"user cannot search", "/closed", info, &apUser, fs.ErrPermission, "may not search"},
		{"created root the user cannot search", "/new", &accesspoint.CreationInfo{Perm: 0o700}, &apUser, fs.ErrPermission, ""},
		{"relative", "x", info, nil, vfs.ErrInvalid, ""},
		{"trailing slash", "/x/", info, nil, vfs.ErrInvalid, ""},
		{"dot component", "/.x", info, nil, vfs.ErrInvalid, ""},
		{"dotdot component", "/a/..", info, nil, vfs.ErrInvalid, ""},
		{"five components", "/a/b/c/d/e", info, nil, vfs.ErrInvalid, ""},
		{"forbidden character", "/a;b", info, nil, vfs.ErrInvalid, ""},
		{"too long", "/" + strings.Repeat("a", 100), info, nil, vfs.ErrInvalid, ""},
		{"bad permissions", "/p", &accesspoint.CreationInfo{Perm: 0o10000}, nil, vfs.ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := accesspoint.EnsureRoot(ctx, core, tt.path, tt.info, tt.user)
			wantErr(t, "EnsureRoot("+tt.path+")", err, tt.want)
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
		})
	}
	// Root passes the search check; so does the owner.
	ok(t, ignoreIno(accesspoint.EnsureRoot(ctx, core, "/closed", nil, &accesspoint.User{})))
	chown(t, core, closed.Ino, apUser.UID, 0)
	ok(t, ignoreIno(accesspoint.EnsureRoot(ctx, core, "/closed", nil, &apUser)))
	if _, err := core.Lookup(ctx, root, vfs.RootIno, "x"); err == nil {
		t.Errorf("a failed EnsureRoot left /x behind")
	}
	assertNoTemporaries(t, core)
}

func TestEnsureRootConcurrentCallersCreateItOnce(t *testing.T) {
	core := newCore(t)
	const n = 16
	inos := make([]vfs.Ino, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			inos[i], errs[i] = accesspoint.EnsureRoot(ctx, core, "/shared/app",
				&accesspoint.CreationInfo{OwnerUID: 1001, OwnerGID: 1001, Perm: 0o750}, &apUser)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if inos[i] != inos[0] {
			t.Errorf("caller %d got inode %d, caller 0 got %d", i, inos[i], inos[0])
		}
	}
	for _, dir := range []vfs.Ino{vfs.RootIno, lookupPath(t, core, "/shared").Ino} {
		if got := len(readDir(t, core, root, dir)); got != 3 {
			t.Errorf("directory %d has %d entries, want ., .. and one", dir, got)
		}
	}
	if a := lookupPath(t, core, "/shared/app"); a.Mode&vfs.ModePerm != 0o750 || a.UID != 1001 {
		t.Errorf("/shared/app = mode %o uid %d", a.Mode&vfs.ModePerm, a.UID)
	}
}

// assertNoTemporaries checks that no temporary directory is left anywhere.
func assertNoTemporaries(t *testing.T, fsys vfs.FileSystem) {
	t.Helper()
	if l := listing(t, fsys); strings.Contains(l, ".tarn-ap-") {
		t.Errorf("temporary directories left behind:\n%s", l)
	}
}
