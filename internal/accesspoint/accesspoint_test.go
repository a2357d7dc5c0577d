package accesspoint_test

import (
	"io/fs"
	"slices"
	"syscall"
	"testing"

	"tarn.dev/tarn/internal/accesspoint"
	"tarn.dev/tarn/internal/vfs"
)

func TestFilesAreOwnedByThePosixUserWhateverTheCaller(t *testing.T) {
	w := newWorld(t)
	for _, c := range []vfs.Caller{root, stranger} {
		name := "by-" + string(rune('a'+c.UID%26))
		created := map[string]vfs.Attr{
			"file":    writeFile(t, w.ap1, c, vfs.RootIno, name+"-file", 0o644, "x"),
			"dir":     must(w.ap1.Mkdir(ctx, c, vfs.RootIno, name+"-dir", 0o755, 0o022)),
			"fifo":    must(w.ap1.Mknod(ctx, c, vfs.RootIno, name+"-fifo", vfs.ModeFIFO|0o644, 0, 0)),
			"symlink": must(w.ap1.Symlink(ctx, c, vfs.RootIno, name+"-link", "target")),
		}
		for kind, a := range created {
			core := must(w.core.GetAttr(ctx, root, a.Ino))
			if core.UID != 1001 || core.GID != 1001 {
				t.Errorf("%s created by uid %d is owned by %d:%d, want 1001:1001", kind, c.UID, core.UID, core.GID)
			}
		}
	}
}

func TestPermissionChecksUseOnlyTheAccessPointIdentity(t *testing.T) {
	w := newWorld(t)
	// Files in the tree owned by others, created through the core.
	groupFile := chown(t, w.core, writeFile(t, w.core, root, w.message, "group", 0o640, "group data").Ino, 7000, 3000)
	privateFile := chown(t, w.core, writeFile(t, w.core, root, w.message, "private", 0o600, "private").Ino, 7000, 7000)
	strangerFile := chown(t, w.core, writeFile(t, w.core, root, w.message, "stranger", 0o600, "mine").Ino, 5000, 5000)
	for _, name := range []string{"group", "private", "stranger"} {
		must(w.ap1.Lookup(ctx, root, vfs.RootIno, name))
	}
	tests := []struct {
		name   string
		caller vfs.Caller
		ino    vfs.Ino
		want   error
	}{
		{"secondary group grants read", stranger, groupFile, nil},
		{"caller root is not root", root, privateFile, fs.ErrPermission},
		{"caller uid matching the owner does not count", stranger, strangerFile, fs.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readFile(w.ap1, tt.caller, tt.ino)
			wantErr(t, "read", err, tt.want)
		})
	}
	// Without the secondary group, the group file is closed.
	noGroups := wrap(t, w.core, accesspoint.Config{PosixUser: &accesspoint.User{UID: 1001, GID: 1001}, Root: w.message})
	must(noGroups.Lookup(ctx, root, vfs.RootIno, "group"))
	_, err := readFile(noGroups, root, groupFile)
	wantErr(t, "read without the secondary group", err, fs.ErrPermission)
}

func TestIdentityKeepsThePID(t *testing.T) {
	a := wrap(t, newCore(t), accesspoint.Config{PosixUser: &apUser})
	got := a.Identity(vfs.Caller{UID: 0, GID: 0, Groups: []uint32{0, 10}, PID: 77})
	want := vfs.Caller{UID: 1001, GID: 1001, Groups: []uint32{3000}, PID: 77}
	if got.UID != want.UID || got.GID != want.GID || !slices.Equal(got.Groups, want.Groups) || got.PID != want.PID {
		t.Errorf("Identity = %+v, want %+v", got, want)
	}
}

func TestEachAccessPointSeesOnlyItsTree(t *testing.T) {
	w := newWorld(t)
	writeFile(t, w.ap1, root, vfs.RootIno, "mine", 0o644, "one")
	views := []struct {
		name string
		ap   *accesspoint.FS
		uid  uint32
		want []string
	}{
		{"message", w.ap1, 1001, []string{".", "..", "mine"}},
		{"other", w.ap2, 2002, []string{".", "..", "theirs"}},
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			a := must(v.ap.GetAttr(ctx, root, vfs.RootIno))
			if a.Ino != vfs.RootIno || a.UID != v.uid || a.Mode&vfs.ModePerm != 0o750 {
				t.Errorf("root = ino %d uid %d mode %o, want ino 1 uid %d mode 750", a.Ino, a.UID, a.Mode&vfs.ModePerm, v.uid)
			}
			var names []string
			for n := range readDir(t, v.ap, root, vfs.RootIno) {
				names = append(names, n)
			}
			slices.Sort(names)
			if !slices.Equal(names, v.want) {
				t.Errorf("root lists %v, want %v", names, v.want)
			}
			for _, n := range []string{"secret", "public", "message", "other"} {
				_, err := v.ap.Lookup(ctx, root, vfs.RootIno, n)
				wantErr(t, "Lookup(root, "+n+")", err, fs.ErrNotExist)
			}
		})
	}
	// An inode handed out by one view is stale in the other.
	theirs := must(w.ap2.Lookup(ctx, root, vfs.RootIno, "theirs"))
	_, err := w.ap1.GetAttr(ctx, root, theirs.Ino)
	wantErr(t, "GetAttr through the other access point", err, vfs.ErrStale)
	// The other user cannot enter /message even through the whole file system.
	_, err = w.core.Lookup(ctx, vfs.Caller{UID: 2002, GID: 2002}, w.message, "mine")
	wantErr(t, "uid 2002 looks into /message", err, fs.ErrPermission)
}

func TestDotDotAtTheRootStaysAtTheRoot(t *testing.T) {
	w := newWorld(t)
	sub := must(w.ap1.Mkdir(ctx, root, vfs.RootIno, "sub", 0o755, 0))
	rootAttr := must(w.ap1.GetAttr(ctx, root, vfs.RootIno))
	for _, tc := range []struct {
		name   string
		parent vfs.Ino
		lookup string
	}{
		{"root/..", vfs.RootIno, ".."},
		{"root/.", vfs.RootIno, "."},
		{"sub/..", sub.Ino, ".."},
	} {
		a, err := w.ap1.Lookup(ctx, root, tc.parent, tc.lookup)
		ok(t, err)
		if a.Ino != vfs.RootIno || a.UID != rootAttr.UID || a.Mode != rootAttr.Mode {
			t.Errorf("Lookup(%s) = ino %d uid %d, want the root (ino 1 uid %d)", tc.name, a.Ino, a.UID, rootAttr.UID)
		}
	}
	// Repeating ".." never climbs.
	ino := sub.Ino
	for range 5 {
		ino = must(w.ap1.Lookup(ctx, root, ino, "..")).Ino
	}
	if ino != vfs.RootIno {
		t.Errorf("five .. from sub reach %d, want 1", ino)
	}
	ents := readDir(t, w.ap1, root, vfs.RootIno)
	if ents["."] != vfs.RootIno || ents[".."] != vfs.RootIno {
		t.Errorf("root lists . = %d and .. = %d, want 1 and 1", ents["."], ents[".."])
	}
	if ents["sub"] != sub.Ino {
		t.Errorf("root lists sub = %d, want %d", ents["sub"], sub.Ino)
	}
	ents = readDir(t, w.ap1, root, sub.Ino)
	if ents["."] != sub.Ino || ents[".."] != vfs.RootIno {
		t.Errorf("sub lists . = %d and .. = %d, want %d and 1", ents["."], ents[".."], sub.Ino)
	}
}

func TestGuessedInodeNumbersAreStale(t *testing.T) {
	w := newWorld(t)
	guesses := append(slices.Clone(w.allOutside), w.message) // the root only answers to 1
	for i := range 5 {
		guesses = append(guesses, w.readme+vfs.Ino(100+i)) // not yet allocated
	}
	ops := map[string]func(ino vfs.Ino) error{
		"GetAttr":     func(ino vfs.Ino) error { _, err := w.ap1.GetAttr(ctx, root, ino); return err },
		"Lookup":      func(ino vfs.Ino) error { _, err := w.ap1.Lookup(ctx, root, ino, "readme"); return err },
		"Lookup ..":   func(ino vfs.Ino) error { _, err := w.ap1.Lookup(ctx, root, ino, ".."); return err },
		"Access":      func(ino vfs.Ino) error { return w.ap1.Access(ctx, root, ino, 0) },
		"Open":        func(ino vfs.Ino) error { _, err := w.ap1.Open(ctx, root, ino, syscall.O_RDONLY); return err },
		"OpenDir":     func(ino vfs.Ino) error { _, err := w.ap1.OpenDir(ctx, root, ino); return err },
		"Readlink":    func(ino vfs.Ino) error { _, err := w.ap1.Readlink(ctx, root, ino); return err },
		"GetXattr":    func(ino vfs.Ino) error { _, err := w.ap1.GetXattr(ctx, root, ino, "user.x"); return err },
		"ListXattr":   func(ino vfs.Ino) error { _, err := w.ap1.ListXattr(ctx, root, ino); return err },
		"SetXattr":    func(ino vfs.Ino) error { return w.ap1.SetXattr(ctx, root, ino, "user.x", []byte("v"), 0) },
		"RemoveXattr": func(ino vfs.Ino) error { return w.ap1.RemoveXattr(ctx, root, ino, "user.x") },
		"SetAttr": func(ino vfs.Ino) error {
			m := uint32(0o777)
			_, err := w.ap1.SetAttr(ctx, root, ino, vfs.SetAttrIn{Mode: &m})
			return err
		},
		"Create": func(ino vfs.Ino) error {
			_, _, err := w.ap1.Create(ctx, root, ino, "planted", 0o644, syscall.O_RDWR, 0)
			return err
		},
		"Mkdir":   func(ino vfs.Ino) error { _, err := w.ap1.Mkdir(ctx, root, ino, "planted", 0o755, 0); return err },
		"Mknod":   func(ino vfs.Ino) error { _, err := w.ap1.Mknod(ctx, root, ino, "planted", 0o644, 0, 0); return err },
		"Symlink": func(ino vfs.Ino) error { _, err := w.ap1.Symlink(ctx, root, ino, "planted", "/etc"); return err },
		"Unlink":  func(ino vfs.Ino) error { return w.ap1.Unlink(ctx, root, ino, "readme") },
		"Rmdir":   func(ino vfs.Ino) error { return w.ap1.Rmdir(ctx, root, ino, "theirs") },
	}
	before := listing(t, w.core)
	for name, op := range ops {
		for _, ino := range guesses {
			if err := op(ino); !isStale(err) {
				t.Errorf("%s(%d) through the access point = %v, want ESTALE", name, ino, err)
			}
		}
	}
	if after := listing(t, w.core); after != before {
		t.Errorf("the file system changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func isStale(err error) bool { return err != nil && errorsIs(err, vfs.ErrStale) }

func TestRenameAndLinkCannotCrossTheRoot(t *testing.T) {
	w := newWorld(t)
	mine := writeFile(t, w.ap1, root, vfs.RootIno, "mine", 0o644, "data")
	dir := must(w.ap1.Mkdir(ctx, root, vfs.RootIno, "dir", 0o755, 0))
	before := listing(t, w.core)
	outside := []vfs.Ino{vfs.Ino(w.public), w.other, w.message}
	for _, o := range outside {
		tests := map[string]error{
			"rename out":          w.ap1.Rename(ctx, root, vfs.RootIno, "mine", o, "stolen", 0),
			"rename dir out":      w.ap1.Rename(ctx, root, vfs.RootIno, "dir", o, "stolen", 0),
			"rename in":           w.ap1.Rename(ctx, root, o, "readme", vfs.RootIno, "planted", 0),
			"exchange":            w.ap1.Rename(ctx, root, vfs.RootIno, "mine", o, "readme", vfs.RenameExchange),
			"rename within other": w.ap1.Rename(ctx, root, o, "readme", o, "moved", 0),
		}
		_, err := w.ap1.Link(ctx, root, w.readme, vfs.RootIno, "planted")
		tests["link outside file in"] = err
		_, err = w.ap1.Link(ctx, root, mine.Ino, o, "leaked")
		tests["link inside file out"] = err
		_, err = w.ap1.Link(ctx, root, w.secret, dir.Ino, "planted")
		tests["link secret into subdir"] = err
		for name, err := range tests {
			if !isStale(err) {
				t.Errorf("%s (outside ino %d) = %v, want ESTALE", name, o, err)
			}
		}
	}
	// The root cannot be renamed away from beneath itself either: ".." is
	// not a name that rename accepts, and the root's own name lies outside.
	err := w.ap1.Rename(ctx, root, vfs.RootIno, "..", vfs.RootIno, "x", 0)
	if err == nil {
		t.Errorf("rename of .. succeeded")
	}
	if after := listing(t, w.core); after != before {
		t.Errorf("the file system changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Renames and links inside the tree work.
	ok(t, w.ap1.Rename(ctx, root, vfs.RootIno, "mine", dir.Ino, "moved", 0))
	must(w.ap1.Link(ctx, root, mine.Ino, vfs.RootIno, "again"))
	if got, err := readFile(w.ap1, root, must(w.ap1.Lookup(ctx, root, dir.Ino, "moved")).Ino); got != "data" || err != nil {
		t.Errorf("read moved file = %q, %v", got, err)
	}
}

func TestDirectoryMovedOutElsewhereDoesNotLeakItsNewParent(t *testing.T) {
	w := newWorld(t)
	d := must(w.ap1.Mkdir(ctx, root, vfs.RootIno, "d", 0o755, 0))
	// Someone with the whole file system moves it out of the tree.
	ok(t, w.core.Rename(ctx, root, w.message, "d", w.public, "d", 0))
	_, err := w.ap1.Lookup(ctx, root, d.Ino, "..")
	wantErr(t, "Lookup(moved, ..)", err, vfs.ErrStale)
	ents := readDir(t, w.ap1, root, d.Ino)
	if ents[".."] != vfs.RootIno {
		t.Errorf("moved dir lists .. = %d, want 1", ents[".."])
	}
}

func TestSquashRoot(t *testing.T) {
	core := newCore(t)
	secret := writeFile(t, core, root, vfs.RootIno, "secret", 0o600, "top secret").Ino
	tmp := must(core.Mkdir(ctx, root, vfs.RootIno, "tmp", 0o777, 0)).Ino
	uid0 := accesspoint.User{UID: 0, GID: 0}
	tests := []struct {
		name      string
		cfg       accesspoint.Config
		caller    vfs.Caller
		wantRead  error
		wantOwner uint32
	}{
		{"squashed caller", accesspoint.Config{SquashRoot: true}, root, fs.ErrPermission, 65534},
		{"squashed posix user 0", accesspoint.Config{SquashRoot: true, PosixUser: &uid0}, stranger, fs.ErrPermission, 65534},
		{"unsquashed caller", accesspoint.Config{}, root, nil, 0},
		{"unsquashed posix user 0", accesspoint.Config{PosixUser: &uid0}, stranger, nil, 0},
		{"squash leaves other users", accesspoint.Config{SquashRoot: true}, stranger, fs.ErrPermission, 5000},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := wrap(t, core, tt.cfg)
			_, err := readFile(a, tt.caller, secret)
			wantErr(t, "read root's 0600 file", err, tt.wantRead)
			f := writeFile(t, a, tt.caller, tmp, "f"+string(rune('0'+i)), 0o644, "")
			if f.UID != tt.wantOwner || f.GID != tt.wantOwner {
				t.Errorf("created file owned by %d:%d, want %d:%d", f.UID, f.GID, tt.wantOwner, tt.wantOwner)
			}
		})
	}
	// A non-root caller with gid 0 loses it too, as with NFS root_squash.
	got := wrap(t, core, accesspoint.Config{SquashRoot: true}).Identity(vfs.Caller{UID: 5, GID: 0, Groups: []uint32{4, 0}})
	if got.UID != 5 || got.GID != 65534 || !slices.Equal(got.Groups, []uint32{4, 65534}) {
		t.Errorf("squashed gid 0 = %+v, want uid 5 gid 65534 groups [4 65534]", got)
	}
}

func TestReadOnlyRefusesEveryChange(t *testing.T) {
	core := newCore(t)
	file := writeFile(t, core, root, vfs.RootIno, "file", 0o666, "content")
	ok(t, core.SetXattr(ctx, root, file.Ino, "user.k", []byte("v"), 0))
	dir := must(core.Mkdir(ctx, root, vfs.RootIno, "dir", 0o777, 0))
	must(core.Symlink(ctx, root, vfs.RootIno, "link", "file"))
	for _, cfg := range []accesspoint.Config{
		{ReadOnly: true},
		{ReadOnly: true, Root: dir.Ino, PosixUser: &apUser},
	} {
		a := wrap(t, core, cfg)
		parent := vfs.RootIno
		target := file.Ino
		if cfg.Root != 0 {
			target = writeFile(t, core, root, dir.Ino, "inner", 0o666, "content").Ino
			must(a.Lookup(ctx, root, parent, "inner"))
		}
		before := listing(t, core)
		rh := must(a.Open(ctx, root, target, syscall.O_RDONLY))
		size := uint64(1)
		m := uint32(0o600)
		ops := map[string]func() error{
			"create": func() error { _, _, err := a.Create(ctx, root, parent, "new", 0o644, syscall.O_RDWR, 0); return err },
			"mkdir":  func() error { _, err := a.Mkdir(ctx, root, parent, "new", 0o755, 0); return err },
			"mknod":  func() error { _, err := a.Mknod(ctx, root, parent, "new", vfs.ModeFIFO|0o644, 0, 0); return err },
			"symlink": func() error {
				_, err := a.Symlink(ctx, root, parent, "new", "file")
				return err
			},
			"link":             func() error { _, err := a.Link(ctx, root, target, parent, "new"); return err },
			"unlink":           func() error { return a.Unlink(ctx, root, parent, "file") },
			"rmdir":            func() error { return a.Rmdir(ctx, root, parent, "dir") },
			"rename":           func() error { return a.Rename(ctx, root, parent, "file", parent, "renamed", 0) },
			"open O_WRONLY":    func() error { _, err := a.Open(ctx, root, target, syscall.O_WRONLY); return err },
			"open O_RDWR":      func() error { _, err := a.Open(ctx, root, target, syscall.O_RDWR); return err },
			"open O_TRUNC":     func() error { _, err := a.Open(ctx, root, target, syscall.O_RDONLY|syscall.O_TRUNC); return err },
			"write":            func() error { _, err := a.Write(ctx, rh, []byte("x"), 0); return err },
			"fallocate":        func() error { return a.Fallocate(ctx, rh, 0, 100, 0) },
			"setattr size":     func() error { _, err := a.SetAttr(ctx, root, target, vfs.SetAttrIn{Size: &size}); return err },
			"setattr mode":     func() error { _, err := a.SetAttr(ctx, root, target, vfs.SetAttrIn{Mode: &m}); return err },
			"setattr utimes":   func() error { _, err := a.SetAttr(ctx, root, target, vfs.SetAttrIn{MtimeNow: true}); return err },
			"setxattr":         func() error { return a.SetXattr(ctx, root, target, "user.k", []byte("w"), 0) },
			"removexattr":      func() error { return a.RemoveXattr(ctx, root, target, "user.k") },
			"access W_OK file": func() error { return a.Access(ctx, root, target, vfs.MayWrite) },
			"access W_OK dir":  func() error { return a.Access(ctx, root, parent, vfs.MayWrite) },
		}
		for name, op := range ops {
			wantErr(t, name, op(), vfs.ErrReadOnly)
		}
		// Reads work.
		buf := make([]byte, 16)
		if n, err := a.Read(ctx, rh, buf, 0); err != nil || string(buf[:n]) != "content" {
			t.Errorf("read = %q, %v", buf[:n], err)
		}
		ok(t, a.Flush(ctx, rh))
		ok(t, a.Release(ctx, rh))
		must(a.GetAttr(ctx, root, target))
		must(a.ListXattr(ctx, root, target))
		ok(t, a.Access(ctx, root, target, vfs.MayRead))
		if len(readDir(t, a, root, parent)) < 3 {
			t.Errorf("root lists fewer than 3 entries")
		}
		must(a.StatFS(ctx, root))
		if after := listing(t, core); after != before {
			t.Errorf("read-only view changed the file system:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	}
	must(wrap(t, core, accesspoint.Config{ReadOnly: true}).Readlink(ctx, root, must(core.Lookup(ctx, root, vfs.RootIno, "link")).Ino))
	must(wrap(t, core, accesspoint.Config{ReadOnly: true}).GetXattr(ctx, root, file.Ino, "user.k"))
}

func TestUnrestrictedViewPassesInodesThrough(t *testing.T) {
	w := newWorld(t)
	a := wrap(t, w.core, accesspoint.Config{})
	for _, ino := range w.allOutside {
		if got := must(a.GetAttr(ctx, root, ino)); got.Ino != ino {
			t.Errorf("GetAttr(%d).Ino = %d", ino, got.Ino)
		}
	}
	if got, err := readFile(a, root, w.secret); got != "top secret" || err != nil {
		t.Errorf("read secret as root = %q, %v", got, err)
	}
	if a.Known() != 0 {
		t.Errorf("unrestricted view remembers %d inodes, want 0", a.Known())
	}
}

func TestWatchReportsOnlyTheTreeWithPresentedNumbers(t *testing.T) {
	w := newWorld(t)
	var got []vfs.Change
	cancel := w.ap1.Watch(func(ch vfs.Change) { got = append(got, ch) })
	defer cancel()
	// Outside the tree: nothing.
	writeFile(t, w.core, root, w.public, "noise", 0o644, "x")
	ok(t, w.core.SetXattr(ctx, root, vfs.RootIno, "user.n", []byte("1"), 0))
	if len(got) != 0 {
		t.Fatalf("changes outside the tree reported: %+v", got)
	}
	f := writeFile(t, w.ap1, root, vfs.RootIno, "f", 0o644, "data")
	var sawEntry, sawRootAttr bool
	for _, ch := range got {
		switch {
		case ch.Kind == vfs.ChangeEntry && ch.Parent == vfs.RootIno && ch.Name == "f" && ch.Ino == f.Ino:
			sawEntry = true
		case ch.Kind == vfs.ChangeAttr && ch.Ino == vfs.RootIno:
			sawRootAttr = true
		}
		if ch.Ino == w.message || ch.Parent == w.message {
			t.Errorf("change names the root by its core number: %+v", ch)
		}
	}
	if !sawEntry || !sawRootAttr {
		t.Errorf("changes = %+v, want the entry f in 1 and the attributes of 1", got)
	}
}

func TestConcurrentClientsOfOneView(t *testing.T) {
	w := newWorld(t)
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			dir, err := w.ap1.Mkdir(ctx, stranger, vfs.RootIno, "g"+string(rune('a'+g)), 0o755, 0)
			for i := 0; err == nil && i < 10; i++ {
				name := "f" + string(rune('a'+i))
				_, h, cerr := w.ap1.Create(ctx, stranger, dir.Ino, name, 0o644, syscall.O_RDWR, 0)
				if err = cerr; err != nil {
					break
				}
				if err = w.ap1.Release(ctx, h); err != nil {
					break
				}
				var a vfs.Attr
				if a, err = w.ap1.Lookup(ctx, stranger, dir.Ino, name); err == nil {
					_, err = w.ap1.GetAttr(ctx, stranger, a.Ino)
				}
			}
			done <- err
		}()
	}
	for range 8 {
		ok(t, <-done)
	}
	if n := w.ap1.Known(); n != 8*11 {
		t.Errorf("view knows %d inodes, want %d", n, 8*11)
	}
}

func TestReadDirRefusesHandlesOpenedElsewhere(t *testing.T) {
	w := newWorld(t)
	h := must(w.core.OpenDir(ctx, root, w.public))
	defer w.core.ReleaseDir(ctx, h)
	err := w.ap1.ReadDir(ctx, h, 0, func(vfs.DirEntry) bool { return true })
	wantErr(t, "ReadDir of a core handle through the view", err, vfs.ErrBadHandle)
	// A handle of the view stops working for it once released.
	vh := must(w.ap1.OpenDir(ctx, root, vfs.RootIno))
	ok(t, w.ap1.ReleaseDir(ctx, vh))
	err = w.ap1.ReadDir(ctx, vh, 0, func(vfs.DirEntry) bool { return true })
	wantErr(t, "ReadDir after ReleaseDir", err, vfs.ErrBadHandle)
}

func TestSymlinkTargetsAreReturnedVerbatim(t *testing.T) {
	w := newWorld(t)
	for _, target := range []string{"/secret", "../../secret", "../other/theirs"} {
		l := must(w.ap1.Symlink(ctx, root, vfs.RootIno, "l", target))
		if got := must(w.ap1.Readlink(ctx, root, l.Ino)); got != target {
			t.Errorf("Readlink = %q, want %q", got, target)
		}
		ok(t, w.ap1.Unlink(ctx, root, vfs.RootIno, "l"))
	}
	// Resolving "../../secret" as a kernel would: every ".." stays at the root.
	dir := vfs.Ino(vfs.RootIno)
	for _, part := range []string{"..", ".."} {
		dir = must(w.ap1.Lookup(ctx, root, dir, part)).Ino
	}
	_, err := w.ap1.Lookup(ctx, root, dir, "secret")
	wantErr(t, "Lookup(../../secret)", err, fs.ErrNotExist)
}
