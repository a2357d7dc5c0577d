package vfs_test

import (
	"io/fs"
	"testing"

	"tarn.dev/tarn/internal/vfs"
)

func TestRename(t *testing.T) {
	type tree struct {
		e          *env
		a, b, sub  vfs.Ino
		fa, fb, fc vfs.Ino
	}
	// Every case starts from: /a/{fa, sub/fc, emptydir/}, /b/{fb, full/x}.
	setup := func(t *testing.T) tree {
		e := newEnv(t, vfs.Options{})
		tr := tree{e: e}
		tr.a = e.mkdir(root, vfs.RootIno, "a", 0o755)
		tr.b = e.mkdir(root, vfs.RootIno, "b", 0o755)
		tr.fa = e.writeFile(root, tr.a, "fa", []byte("A"))
		tr.fb = e.writeFile(root, tr.b, "fb", []byte("B"))
		tr.sub = e.mkdir(root, tr.a, "sub", 0o755)
		tr.fc = e.writeFile(root, tr.sub, "fc", []byte("C"))
		e.mkdir(root, tr.a, "emptydir", 0o755)
		full := e.mkdir(root, tr.b, "full", 0o755)
		e.writeFile(root, full, "x", nil)
		return tr
	}
	tests := []struct {
		name  string
		op    func(tr tree) error
		want  error
		check func(t *testing.T, tr tree)
	}{
		{"file within dir", func(tr tree) error { return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.a, "fa2", 0) }, nil,
			func(t *testing.T, tr tree) { lookupIs(t, tr.e, tr.a, "fa2", tr.fa); lookupGone(t, tr.e, tr.a, "fa") }},
		{"file replaces file", func(tr tree) error { return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.b, "fb", 0) }, nil,
			func(t *testing.T, tr tree) {
				lookupIs(t, tr.e, tr.b, "fb", tr.fa)
				if _, err := tr.e.fs.GetAttr(ctx, root, tr.fb); !errIs(err, fs.ErrNotExist) {
					t.Errorf("replaced inode still exists: %v", err)
				}
			}},
		{"noreplace onto existing", func(tr tree) error {
			return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.b, "fb", vfs.RenameNoReplace)
		}, fs.ErrExist, nil},
		{"noreplace onto free name", func(tr tree) error {
			return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.b, "new", vfs.RenameNoReplace)
		}, nil, func(t *testing.T, tr tree) { lookupIs(t, tr.e, tr.b, "new", tr.fa) }},
		{"exchange file and dir", func(tr tree) error {
			return tr.e.fs.Rename(ctx, root, tr.a, "sub", tr.b, "fb", vfs.RenameExchange)
		}, nil, func(t *testing.T, tr tree) {
			lookupIs(t, tr.e, tr.b, "fb", tr.sub)
			lookupIs(t, tr.e, tr.a, "sub", tr.fb)
			nlinkIs(t, tr.e, tr.a, 3) // ., .., emptydir
			nlinkIs(t, tr.e, tr.b, 4) // ., .., full, fb(dir)
			dotdot := must(tr.e.fs.Lookup(ctx, root, tr.sub, ".."))
			if dotdot.Ino != tr.b {
				t.Errorf(".. of moved dir = %d, want %d", dotdot.Ino, tr.b)
			}
		}},
		{"exchange with missing", func(tr tree) error {
			return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.b, "nope", vfs.RenameExchange)
		}, fs.ErrNotExist, nil},
		{"exchange and noreplace", func(tr tree) error {
			return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.b, "fb", vfs.RenameExchange|vfs.RenameNoReplace)
		}, vfs.ErrInvalid, nil},
		{"dir replaces empty dir", func(tr tree) error { return tr.e.fs.Rename(ctx, root, tr.a, "sub", tr.a, "emptydir", 0) }, nil,
			func(t *testing.T, tr tree) { lookupIs(t, tr.e, tr.a, "emptydir", tr.sub); nlinkIs(t, tr.e, tr.a, 3) }},
		{"dir onto non-empty dir", func(tr tree) error { return tr.e.fs.Rename(ctx, root, tr.a, "sub", tr.b, "full", 0) }, vfs.ErrNotEmpty, nil},
		{"dir onto file", func(tr tree) error { return tr.e.fs.Rename(ctx, root, tr.a, "sub", tr.b, "fb", 0) }, vfs.ErrNotDir, nil},
		{"file onto dir", func(tr tree) error { return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.a, "emptydir", 0) }, vfs.ErrIsDir, nil},
		{"dir into itself", func(tr tree) error { return tr.e.fs.Rename(ctx, root, vfs.RootIno, "a", tr.sub, "a", 0) }, vfs.ErrInvalid, nil},
		{"dir into its own child", func(tr tree) error { return tr.e.fs.Rename(ctx, root, vfs.RootIno, "a", tr.a, "x", 0) }, vfs.ErrInvalid, nil},
		{"whole tree moves", func(tr tree) error { return tr.e.fs.Rename(ctx, root, vfs.RootIno, "a", tr.b, "a", 0) }, nil,
			func(t *testing.T, tr tree) {
				lookupIs(t, tr.e, tr.b, "a", tr.a)
				lookupIs(t, tr.e, tr.sub, "fc", tr.fc)
				nlinkIs(t, tr.e, vfs.RootIno, 3)
				nlinkIs(t, tr.e, tr.b, 4)
			}},
		{"missing source", func(tr tree) error { return tr.e.fs.Rename(ctx, root, tr.a, "nope", tr.b, "x", 0) }, fs.ErrNotExist, nil},
		{"dot source", func(tr tree) error { return tr.e.fs.Rename(ctx, root, tr.a, ".", tr.b, "x", 0) }, vfs.ErrBusy, nil},
		{"long target name", func(tr tree) error {
			return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.b, string(make([]byte, 256)), 0)
		}, vfs.ErrNameTooLong, nil},
		{"whiteout", func(tr tree) error { return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.b, "x", vfs.RenameWhiteout) }, vfs.ErrNotSupported, nil},
		{"hard links to same inode", func(tr tree) error {
			must(tr.e.fs.Link(ctx, root, tr.fa, tr.b, "alias"))
			return tr.e.fs.Rename(ctx, root, tr.a, "fa", tr.b, "alias", 0)
		}, nil, func(t *testing.T, tr tree) { lookupIs(t, tr.e, tr.a, "fa", tr.fa); nlinkIs(t, tr.e, tr.fa, 2) }},
		{"no write permission on target dir", func(tr tree) error {
			return tr.e.fs.Rename(ctx, alice, tr.a, "fa", tr.b, "x", 0)
		}, fs.ErrPermission, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := setup(t)
			wantErr(t, tc.name, tc.op(tr), tc.want)
			if tc.check != nil {
				tc.check(t, tr)
			}
			if r := must(tr.e.fs.Fsck(ctx, false)); !r.OK() {
				t.Errorf("fsck after %s: %v", tc.name, r.Problems)
			}
		})
	}
}

func errIs(err, target error) bool { return err != nil && (target == nil || isErr(err, target)) }

func lookupIs(t *testing.T, e *env, dir vfs.Ino, name string, want vfs.Ino) {
	t.Helper()
	a, err := e.fs.Lookup(ctx, root, dir, name)
	if err != nil || a.Ino != want {
		t.Errorf("Lookup(%q) = %d, %v; want %d", name, a.Ino, err, want)
	}
}

func lookupGone(t *testing.T, e *env, dir vfs.Ino, name string) {
	t.Helper()
	if _, err := e.fs.Lookup(ctx, root, dir, name); !errIs(err, fs.ErrNotExist) {
		t.Errorf("Lookup(%q) = %v, want fs.ErrNotExist", name, err)
	}
}

func nlinkIs(t *testing.T, e *env, ino vfs.Ino, want uint32) {
	t.Helper()
	a := must(e.fs.GetAttr(ctx, root, ino))
	if a.Nlink != want {
		t.Errorf("nlink of %d = %d, want %d", ino, a.Nlink, want)
	}
}

func TestHardLinks(t *testing.T) {
	e := newEnv(t, vfs.Options{})
	d := e.mkdir(root, vfs.RootIno, "d", 0o755)
	f := e.writeFile(root, vfs.RootIno, "f", []byte("data"))
	for i := 2; i <= vfs.MaxLinks; i++ {
		must(e.fs.Link(ctx, root, f, d, "l"+itoa(i)))
	}
	nlinkIs(t, e, f, vfs.MaxLinks)
	_, err := e.fs.Link(ctx, root, f, d, "one-too-many")
	wantErr(t, "link past the limit", err, vfs.ErrTooManyLinks)
	_, err = e.fs.Link(ctx, root, d, vfs.RootIno, "dirlink")
	wantErr(t, "link to a directory", err, vfs.ErrNotOwner)
	_, err = e.fs.Link(ctx, root, f, d, "l2")
	wantErr(t, "link onto existing name", err, fs.ErrExist)
	ok(t, e.fs.Unlink(ctx, root, vfs.RootIno, "f"))
	nlinkIs(t, e, f, vfs.MaxLinks-1)
	if got := string(e.readAll(f)); got != "data" {
		t.Errorf("content via remaining link = %q", got)
	}
}

func itoa(i int) string {
	b := []byte{}
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
