package vfs_test

import (
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"

	"tarn.dev/tarn/internal/vfs"
)

func TestCreateLookupAndNameErrors(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	d := e.mkdir(root, vfs.RootIno, "d", 0o755)
	e.writeFile(root, d, "f", []byte("x"))
	long := strings.Repeat("n", 255)
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"mkdir 255-byte name", func() error { _, err := e.fs.Mkdir(ctx, root, d, long, 0o755, 0); return err }, nil},
		{"mkdir 256-byte name", func() error { _, err := e.fs.Mkdir(ctx, root, d, long+"x", 0o755, 0); return err }, vfs.ErrNameTooLong},
		{"lookup 256-byte name", func() error { _, err := e.fs.Lookup(ctx, root, d, long+"x"); return err }, vfs.ErrNameTooLong},
		{"mkdir existing", func() error { _, err := e.fs.Mkdir(ctx, root, d, "f", 0o755, 0); return err }, fs.ErrExist},
		{"mkdir dot", func() error { _, err := e.fs.Mkdir(ctx, root, d, ".", 0o755, 0); return err }, fs.ErrExist},
		{"mkdir slash", func() error { _, err := e.fs.Mkdir(ctx, root, d, "a/b", 0o755, 0); return err }, vfs.ErrInvalid},
		{"mkdir NUL", func() error { _, err := e.fs.Mkdir(ctx, root, d, "a\x00b", 0o755, 0); return err }, vfs.ErrInvalid},
		{"mkdir empty", func() error { _, err := e.fs.Mkdir(ctx, root, d, "", 0o755, 0); return err }, vfs.ErrInvalid},
		{"lookup missing", func() error { _, err := e.fs.Lookup(ctx, root, d, "nope"); return err }, fs.ErrNotExist},
		{"lookup in file", func() error {
			a := must(e.fs.Lookup(ctx, root, d, "f"))
			_, err := e.fs.Lookup(ctx, root, a.Ino, "x")
			return err
		}, vfs.ErrNotDir},
		{"create in missing dir", func() error { _, err := e.fs.Mkdir(ctx, root, 9999, "x", 0o755, 0); return err }, fs.ErrNotExist},
		{"create exclusive existing", func() error {
			_, _, err := e.fs.Create(ctx, root, d, "f", 0o644, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0)
			return err
		}, fs.ErrExist},
		{"symlink target too long", func() error { _, err := e.fs.Symlink(ctx, root, d, "l", strings.Repeat("t", 4081)); return err }, vfs.ErrNameTooLong},
		{"symlink 4080-byte target", func() error { _, err := e.fs.Symlink(ctx, root, d, "l2", strings.Repeat("t", 4080)); return err }, nil},
		{"readlink of file", func() error {
			a := must(e.fs.Lookup(ctx, root, d, "f"))
			_, err := e.fs.Readlink(ctx, root, a.Ino)
			return err
		}, vfs.ErrInvalid},
		{"unlink dir", func() error { return e.fs.Unlink(ctx, root, vfs.RootIno, "d") }, vfs.ErrIsDir},
		{"rmdir file", func() error { return e.fs.Rmdir(ctx, root, d, "f") }, vfs.ErrNotDir},
		{"rmdir non-empty", func() error { return e.fs.Rmdir(ctx, root, vfs.RootIno, "d") }, vfs.ErrNotEmpty},
		{"rmdir dot", func() error { return e.fs.Rmdir(ctx, root, d, ".") }, vfs.ErrInvalid},
		{"rmdir dotdot", func() error { return e.fs.Rmdir(ctx, root, d, "..") }, vfs.ErrNotEmpty},
		{"unlink missing", func() error { return e.fs.Unlink(ctx, root, d, "nope") }, fs.ErrNotExist},
		{"mknod fifo", func() error {
			_, err := e.fs.Mknod(ctx, alice, vfs.RootIno, "fifo", vfs.ModeFIFO|0o644, 0, 0)
			return err
		}, fs.ErrPermission},
		{"mknod char by user", func() error {
			_, err := e.fs.Mknod(ctx, alice, d, "c", vfs.ModeChar|0o644, 0x0101, 0)
			return err
		}, fs.ErrPermission},
		{"open dir for write", func() error { _, err := e.fs.Open(ctx, root, d, syscall.O_WRONLY); return err }, vfs.ErrIsDir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.op(), tc.want) })
	}
}

func TestMknodTypesAndAttributes(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	for _, tc := range []struct {
		name string
		mode uint32
	}{{"fifo", vfs.ModeFIFO | 0o640}, {"sock", vfs.ModeSocket | 0o600}, {"reg", vfs.ModeRegular | 0o644}, {"chr", vfs.ModeChar | 0o600}} {
		a := must(e.fs.Mknod(ctx, root, vfs.RootIno, tc.name, tc.mode, 0x0501, 0o022))
		got := must(e.fs.Lookup(ctx, root, vfs.RootIno, tc.name))
		if got.Mode != tc.mode&^0o022 || got != a {
			t.Errorf("mknod %s: mode %o, lookup %+v vs create %+v", tc.name, got.Mode, got, a)
		}
	}
	// umask applies to mkdir and create.
	a := must(e.fs.Mkdir(ctx, root, vfs.RootIno, "m", 0o777, 0o027))
	if a.Mode != vfs.ModeDir|0o750 || a.Nlink != 2 {
		t.Errorf("mkdir mode %o nlink %d, want %o 2", a.Mode, a.Nlink, vfs.ModeDir|0o750)
	}
	r := must(e.fs.GetAttr(ctx, root, vfs.RootIno))
	if r.Nlink != 3 {
		t.Errorf("root nlink = %d after one mkdir, want 3", r.Nlink)
	}
}

func TestReadDirCookiesAreStable(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	for _, n := range []string{"a", "b", "c", "d"} {
		e.writeFile(root, vfs.RootIno, n, nil)
	}
	h := must(e.fs.OpenDir(ctx, root, vfs.RootIno))
	defer e.fs.ReleaseDir(ctx, h)
	var got []vfs.DirEntry
	ok(t, e.fs.ReadDir(ctx, h, 0, func(d vfs.DirEntry) bool { got = append(got, d); return len(got) < 4 }))
	if len(got) != 4 || got[0].Name != "." || got[1].Name != ".." || got[2].Name != "a" || got[3].Name != "b" {
		t.Fatalf("first page = %+v", got)
	}
	// Remove the entry we stopped at and add a new one; resuming continues.
	ok(t, e.fs.Unlink(ctx, root, vfs.RootIno, "b"))
	e.writeFile(root, vfs.RootIno, "e", nil)
	var rest []string
	ok(t, e.fs.ReadDir(ctx, h, got[3].Cookie, func(d vfs.DirEntry) bool { rest = append(rest, d.Name); return true }))
	if strings.Join(rest, ",") != "c,d,e" {
		t.Errorf("resumed = %v, want c,d,e", rest)
	}
}

func TestPermissions(t *testing.T) {
	e := newEnv(t, vfs.Options{RootMode: 0o777})
	// alice owns f (0640, group 50 shared with bob) and d (0750).
	f := e.writeFile(alice, vfs.RootIno, "f", []byte("secret"))
	must(e.fs.SetAttr(ctx, alice, f, vfs.SetAttrIn{GID: ptr[uint32](50), Mode: ptr[uint32](0o640)}))
	d := e.mkdir(alice, vfs.RootIno, "d", 0o750)
	must(e.fs.SetAttr(ctx, alice, d, vfs.SetAttrIn{GID: ptr[uint32](50)}))
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"owner reads", func() error { return e.fs.Access(ctx, alice, f, vfs.MayRead|vfs.MayWrite) }, nil},
		{"supplementary group reads", func() error { return e.fs.Access(ctx, bob, f, vfs.MayRead) }, nil},
		{"group cannot write", func() error { return e.fs.Access(ctx, bob, f, vfs.MayWrite) }, fs.ErrPermission},
		{"other cannot read", func() error { return e.fs.Access(ctx, carol, f, vfs.MayRead) }, fs.ErrPermission},
		{"other open fails", func() error { _, err := e.fs.Open(ctx, carol, f, syscall.O_RDONLY); return err }, fs.ErrPermission},
		{"group open for write fails", func() error { _, err := e.fs.Open(ctx, bob, f, syscall.O_WRONLY); return err }, fs.ErrPermission},
		{"root reads anything", func() error { return e.fs.Access(ctx, root, f, vfs.MayRead|vfs.MayWrite) }, nil},
		{"root cannot exec non-exec file", func() error { return e.fs.Access(ctx, root, f, vfs.MayExec) }, fs.ErrPermission},
		{"group searches dir", func() error { _, err := e.fs.Lookup(ctx, bob, d, "x"); return err }, fs.ErrNotExist},
		{"other cannot search dir", func() error { _, err := e.fs.Lookup(ctx, carol, d, "x"); return err }, fs.ErrPermission},
		{"group cannot create in dir", func() error { _, err := e.fs.Mkdir(ctx, bob, d, "x", 0o755, 0); return err }, fs.ErrPermission},
		{"non-owner chmod", func() error { _, err := e.fs.SetAttr(ctx, bob, f, vfs.SetAttrIn{Mode: ptr[uint32](0o777)}); return err }, vfs.ErrNotOwner},
		{"non-root chown", func() error { _, err := e.fs.SetAttr(ctx, alice, f, vfs.SetAttrIn{UID: ptr[uint32](1001)}); return err }, vfs.ErrNotOwner},
		{"owner chgrp to non-member group", func() error { _, err := e.fs.SetAttr(ctx, alice, f, vfs.SetAttrIn{GID: ptr[uint32](7)}); return err }, vfs.ErrNotOwner},
		{"root chown", func() error { _, err := e.fs.SetAttr(ctx, root, d, vfs.SetAttrIn{UID: ptr[uint32](1000)}); return err }, nil},
		{"non-owner truncate without write", func() error { _, err := e.fs.SetAttr(ctx, bob, f, vfs.SetAttrIn{Size: ptr[uint64](0)}); return err }, fs.ErrPermission},
		{"utimes now by non-owner without write", func() error { _, err := e.fs.SetAttr(ctx, bob, f, vfs.SetAttrIn{MtimeNow: true}); return err }, fs.ErrPermission},
		{"explicit utimes by non-owner", func() error {
			_, err := e.fs.SetAttr(ctx, bob, f, vfs.SetAttrIn{Mtime: ptr(time.Now())})
			return err
		}, vfs.ErrNotOwner},
		{"opendir without read", func() error { _, err := e.fs.OpenDir(ctx, carol, d); return err }, fs.ErrPermission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.op(), tc.want) })
	}
}

func ptr[T any](v T) *T { return &v }

func TestStickyDirectory(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	tmp := e.mkdir(root, vfs.RootIno, "tmp", 0o1777)
	e.writeFile(alice, tmp, "a", nil)
	e.writeFile(alice, tmp, "a2", nil)
	e.writeFile(bob, tmp, "b", nil)
	wantErr(t, "bob unlinks alice's file", e.fs.Unlink(ctx, bob, tmp, "a"), vfs.ErrNotOwner)
	wantErr(t, "bob renames alice's file", e.fs.Rename(ctx, bob, tmp, "a", tmp, "x", 0), vfs.ErrNotOwner)
	wantErr(t, "bob replaces alice's file", e.fs.Rename(ctx, bob, tmp, "b", tmp, "a", 0), vfs.ErrNotOwner)
	wantErr(t, "alice unlinks her file", e.fs.Unlink(ctx, alice, tmp, "a"), nil)
	wantErr(t, "root unlinks bob's file", e.fs.Unlink(ctx, root, tmp, "b"), nil)
	// The directory owner may remove anything.
	must(e.fs.SetAttr(ctx, root, tmp, vfs.SetAttrIn{UID: ptr[uint32](1002)}))
	wantErr(t, "dir owner unlinks alice's file", e.fs.Unlink(ctx, carol, tmp, "a2"), nil)
}

func TestSetgidDirectoryInheritsGroup(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	d := e.mkdir(root, vfs.RootIno, "shared", 0o2777)
	must(e.fs.SetAttr(ctx, root, d, vfs.SetAttrIn{GID: ptr[uint32](50), Mode: ptr[uint32](0o2777)}))
	f := e.writeFile(carol, d, "f", nil)
	sub := e.mkdir(carol, d, "sub", 0o755)
	fa := must(e.fs.GetAttr(ctx, carol, f))
	sa := must(e.fs.GetAttr(ctx, carol, sub))
	if fa.GID != 50 || sa.GID != 50 {
		t.Errorf("gids = %d, %d; want 50 (inherited)", fa.GID, sa.GID)
	}
	if sa.Mode&vfs.ModeSetgid == 0 {
		t.Errorf("subdirectory mode %o lacks setgid", sa.Mode)
	}
	// A file created setgid in a group the creator is not in loses the bit.
	a, h, err := e.fs.Create(ctx, carol, d, "g", 0o2755, syscall.O_RDWR, 0)
	ok(t, err)
	e.fs.Release(ctx, h)
	if a.Mode&vfs.ModeSetgid != 0 {
		t.Errorf("file mode %o kept setgid of a foreign group", a.Mode)
	}
	// chmod by a non-member owner clears setgid too.
	a = must(e.fs.SetAttr(ctx, carol, f, vfs.SetAttrIn{Mode: ptr[uint32](0o2755)}))
	if a.Mode&vfs.ModeSetgid != 0 {
		t.Errorf("chmod kept setgid for non-member: %o", a.Mode)
	}
	// chown clears setuid.
	must(e.fs.SetAttr(ctx, root, f, vfs.SetAttrIn{Mode: ptr[uint32](0o4755)}))
	a = must(e.fs.SetAttr(ctx, root, f, vfs.SetAttrIn{UID: ptr[uint32](1000)}))
	if a.Mode&vfs.ModeSetuid != 0 {
		t.Errorf("chown kept setuid: %o", a.Mode)
	}
}

func TestXattrs(t *testing.T) {
	e := newEnv(t, vfs.Options{RootMode: 0o777})
	f := e.writeFile(alice, vfs.RootIno, "f", nil)
	l := must(e.fs.Symlink(ctx, alice, vfs.RootIno, "l", "f")).Ino
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"set", func() error { return e.fs.SetXattr(ctx, alice, f, "user.k", []byte("v"), 0) }, nil},
		{"create existing", func() error { return e.fs.SetXattr(ctx, alice, f, "user.k", []byte("v"), vfs.XattrCreate) }, fs.ErrExist},
		{"replace missing", func() error { return e.fs.SetXattr(ctx, alice, f, "user.x", []byte("v"), vfs.XattrReplace) }, vfs.ErrNoData},
		{"get missing", func() error { _, err := e.fs.GetXattr(ctx, alice, f, "user.x"); return err }, vfs.ErrNoData},
		{"remove missing", func() error { return e.fs.RemoveXattr(ctx, alice, f, "user.x") }, vfs.ErrNoData},
		{"other writes", func() error { return e.fs.SetXattr(ctx, carol, f, "user.k", []byte("v"), 0) }, fs.ErrPermission},
		{"user xattr on symlink", func() error { return e.fs.SetXattr(ctx, alice, l, "user.k", []byte("v"), 0) }, vfs.ErrNotOwner},
		{"trusted by user", func() error { return e.fs.SetXattr(ctx, alice, f, "trusted.k", []byte("v"), 0) }, vfs.ErrNotOwner},
		{"trusted by root", func() error { return e.fs.SetXattr(ctx, root, f, "trusted.k", []byte("v"), 0) }, nil},
		{"unknown namespace", func() error { return e.fs.SetXattr(ctx, alice, f, "foo.k", []byte("v"), 0) }, vfs.ErrNotSupported},
		{"value too large", func() error { return e.fs.SetXattr(ctx, alice, f, "user.big", make([]byte, 65537), 0) }, vfs.ErrTooBig},
		{"name too long", func() error { return e.fs.SetXattr(ctx, alice, f, "user."+strings.Repeat("k", 251), nil, 0) }, vfs.ErrRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.op(), tc.want) })
	}
	v := must(e.fs.GetXattr(ctx, bob, f, "user.k"))
	if string(v) != "v" {
		t.Errorf("GetXattr = %q", v)
	}
	names := must(e.fs.ListXattr(ctx, alice, f))
	if strings.Join(names, ",") != "user.k" {
		t.Errorf("ListXattr for user = %v (trusted must be hidden)", names)
	}
	ok(t, e.fs.RemoveXattr(ctx, alice, f, "user.k"))
}

func TestStatFSCountsUsage(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	before := must(e.fs.StatFS(ctx, root))
	e.writeFile(root, vfs.RootIno, "f", make([]byte, 1<<20))
	after := must(e.fs.StatFS(ctx, root))
	if before.Bfree-after.Bfree != 256 || before.Ffree-after.Ffree != 1 {
		t.Errorf("statfs free blocks %d→%d, files %d→%d; want -256, -1", before.Bfree, after.Bfree, before.Ffree, after.Ffree)
	}
	if after.NameLen != 255 {
		t.Errorf("NameLen = %d", after.NameLen)
	}
}
