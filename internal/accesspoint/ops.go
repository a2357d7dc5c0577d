package accesspoint

import (
	"context"
	"syscall"

	"tarn.dev/tarn/internal/vfs"
)

// Lookup resolves name in parent; ".." at the root is the root.
func (a *FS) Lookup(ctx context.Context, c vfs.Caller, parent vfs.Ino, name string) (vfs.Attr, error) {
	p, err := a.in("lookup", parent)
	if err != nil {
		return vfs.Attr{}, err
	}
	c = a.Identity(c)
	if a.confined && name == ".." {
		if p == a.root {
			name = "." // same permission check, and the root stays the root
		}
		attr, err := a.fsys.Lookup(ctx, c, p, name)
		if err != nil {
			return vfs.Attr{}, err
		}
		if !a.knownOrRoot(attr.Ino) {
			// The directory was moved out of the tree through another
			// view: its new parent was never handed out.
			return vfs.Attr{}, &vfs.Error{Op: "lookup", Ino: parent, Name: name, Err: vfs.ErrStale}
		}
		return a.present(attr), nil
	}
	attr, err := a.fsys.Lookup(ctx, c, p, name)
	if err != nil {
		return vfs.Attr{}, err
	}
	return a.hand(attr), nil
}

func (a *FS) GetAttr(ctx context.Context, c vfs.Caller, ino vfs.Ino) (vfs.Attr, error) {
	i, err := a.in("getattr", ino)
	if err != nil {
		return vfs.Attr{}, err
	}
	attr, err := a.fsys.GetAttr(ctx, a.Identity(c), i)
	if err != nil {
		return vfs.Attr{}, err
	}
	return a.present(attr), nil
}

func (a *FS) SetAttr(ctx context.Context, c vfs.Caller, ino vfs.Ino, in vfs.SetAttrIn) (vfs.Attr, error) {
	if a.readOnly {
		return vfs.Attr{}, readOnlyErr("setattr", ino, "")
	}
	i, err := a.in("setattr", ino)
	if err != nil {
		return vfs.Attr{}, err
	}
	attr, err := a.fsys.SetAttr(ctx, a.Identity(c), i, in)
	if err != nil {
		return vfs.Attr{}, err
	}
	return a.present(attr), nil
}

// Access checks permissions as the view's identity. On a read-only view,
// asking for write access to a file, directory or symlink fails with
// vfs.ErrReadOnly, as access(2) does on a read-only mount.
func (a *FS) Access(ctx context.Context, c vfs.Caller, ino vfs.Ino, mask uint32) error {
	i, err := a.in("access", ino)
	if err != nil {
		return err
	}
	c = a.Identity(c)
	if a.readOnly && mask&vfs.MayWrite != 0 {
		attr, err := a.fsys.GetAttr(ctx, c, i)
		if err != nil {
			return err
		}
		switch attr.Mode & vfs.ModeType {
		case vfs.ModeRegular, vfs.ModeDir, vfs.ModeSymlink:
			return readOnlyErr("access", ino, "")
		}
	}
	return a.fsys.Access(ctx, c, i, mask)
}

func (a *FS) Mknod(ctx context.Context, c vfs.Caller, parent vfs.Ino, name string, mode, rdev, umask uint32) (vfs.Attr, error) {
	if a.readOnly {
		return vfs.Attr{}, readOnlyErr("mknod", parent, name)
	}
	p, err := a.in("mknod", parent)
	if err != nil {
		return vfs.Attr{}, err
	}
	attr, err := a.fsys.Mknod(ctx, a.Identity(c), p, name, mode, rdev, umask)
	if err != nil {
		return vfs.Attr{}, err
	}
	return a.hand(attr), nil
}

func (a *FS) Mkdir(ctx context.Context, c vfs.Caller, parent vfs.Ino, name string, mode, umask uint32) (vfs.Attr, error) {
	if a.readOnly {
		return vfs.Attr{}, readOnlyErr("mkdir", parent, name)
	}
	p, err := a.in("mkdir", parent)
	if err != nil {
		return vfs.Attr{}, err
	}
	attr, err := a.fsys.Mkdir(ctx, a.Identity(c), p, name, mode, umask)
	if err != nil {
		return vfs.Attr{}, err
	}
	return a.hand(attr), nil
}

func (a *FS) Create(ctx context.Context, c vfs.Caller, parent vfs.Ino, name string, mode uint32, flags int, umask uint32) (vfs.Attr, vfs.Handle, error) {
	if a.readOnly {
		return vfs.Attr{}, 0, readOnlyErr("create", parent, name)
	}
	p, err := a.in("create", parent)
	if err != nil {
		return vfs.Attr{}, 0, err
	}
	attr, h, err := a.fsys.Create(ctx, a.Identity(c), p, name, mode, flags, umask)
	if err != nil {
		return vfs.Attr{}, 0, err
	}
	return a.hand(attr), h, nil
}

func (a *FS) Symlink(ctx context.Context, c vfs.Caller, parent vfs.Ino, name, target string) (vfs.Attr, error) {
	if a.readOnly {
		return vfs.Attr{}, readOnlyErr("symlink", parent, name)
	}
	p, err := a.in("symlink", parent)
	if err != nil {
		return vfs.Attr{}, err
	}
	attr, err := a.fsys.Symlink(ctx, a.Identity(c), p, name, target)
	if err != nil {
		return vfs.Attr{}, err
	}
	return a.hand(attr), nil
}

// Readlink returns the target unchanged: the client's kernel resolves it.
func (a *FS) Readlink(ctx context.Context, c vfs.Caller, ino vfs.Ino) (string, error) {
	i, err := a.in("readlink", ino)
	if err != nil {
		return "", err
	}
	return a.fsys.Readlink(ctx, a.Identity(c), i)
}

func (a *FS) Link(ctx context.Context, c vfs.Caller, ino, newParent vfs.Ino, newName string) (vfs.Attr, error) {
	if a.readOnly {
		return vfs.Attr{}, readOnlyErr("link", ino, newName)
	}
	i, err := a.in("link", ino)
	if err != nil {
		return vfs.Attr{}, err
	}
	p, err := a.in("link", newParent)
	if err != nil {
		return vfs.Attr{}, err
	}
	attr, err := a.fsys.Link(ctx, a.Identity(c), i, p, newName)
	if err != nil {
		return vfs.Attr{}, err
	}
	return a.hand(attr), nil
}

func (a *FS) Unlink(ctx context.Context, c vfs.Caller, parent vfs.Ino, name string) error {
	if a.readOnly {
		return readOnlyErr("unlink", parent, name)
	}
	p, err := a.in("unlink", parent)
	if err != nil {
		return err
	}
	return a.fsys.Unlink(ctx, a.Identity(c), p, name)
}

func (a *FS) Rmdir(ctx context.Context, c vfs.Caller, parent vfs.Ino, name string) error {
	if a.readOnly {
		return readOnlyErr("rmdir", parent, name)
	}
	p, err := a.in("rmdir", parent)
	if err != nil {
		return err
	}
	return a.fsys.Rmdir(ctx, a.Identity(c), p, name)
}

// Rename moves an entry between two directories of the tree; both parents
// must have been handed out, so nothing moves into or out of the tree.
func (a *FS) Rename(ctx context.Context, c vfs.Caller, oldParent vfs.Ino, oldName string, newParent vfs.Ino, newName string, flags uint32) error {
	if a.readOnly {
		return readOnlyErr("rename", oldParent, oldName)
	}
	op, err := a.in("rename", oldParent)
	if err != nil {
		return err
	}
	np, err := a.in("rename", newParent)
	if err != nil {
		return err
	}
	return a.fsys.Rename(ctx, a.Identity(c), op, oldName, np, newName, flags)
}

// Open opens ino; on a read-only view only for reading, without O_TRUNC.
func (a *FS) Open(ctx context.Context, c vfs.Caller, ino vfs.Ino, flags int) (vfs.Handle, error) {
	if a.readOnly && (flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0) {
		return 0, readOnlyErr("open", ino, "")
	}
	i, err := a.in("open", ino)
	if err != nil {
		return 0, err
	}
	return a.fsys.Open(ctx, a.Identity(c), i, flags)
}

// Read and the other handle operations need no translation: handles come
// from Open and Create of this view, and the kernel never lets a client
// choose one.
func (a *FS) Read(ctx context.Context, h vfs.Handle, p []byte, off int64) (int, error) {
	return a.fsys.Read(ctx, h, p, off)
}

func (a *FS) Write(ctx context.Context, h vfs.Handle, p []byte, off int64) (int, error) {
	if a.readOnly {
		return 0, readOnlyErr("write", 0, "")
	}
	return a.fsys.Write(ctx, h, p, off)
}

func (a *FS) Fallocate(ctx context.Context, h vfs.Handle, off, length int64, mode uint32) error {
	if a.readOnly {
		return readOnlyErr("fallocate", 0, "")
	}
	return a.fsys.Fallocate(ctx, h, off, length, mode)
}

func (a *FS) Fsync(ctx context.Context, h vfs.Handle) error   { return a.fsys.Fsync(ctx, h) }
func (a *FS) Flush(ctx context.Context, h vfs.Handle) error   { return a.fsys.Flush(ctx, h) }
func (a *FS) Release(ctx context.Context, h vfs.Handle) error { return a.fsys.Release(ctx, h) }

func (a *FS) OpenDir(ctx context.Context, c vfs.Caller, ino vfs.Ino) (vfs.Handle, error) {
	i, err := a.in("opendir", ino)
	if err != nil {
		return 0, err
	}
	h, err := a.fsys.OpenDir(ctx, a.Identity(c), i)
	if err != nil {
		return 0, err
	}
	if a.confined {
		a.dirs.Store(h, i)
	}
	return h, nil
}

// ReadDir lists an open directory with inode numbers as presented: "." and
// ".." of the root are the root, and every entry's inode is handed out.
func (a *FS) ReadDir(ctx context.Context, h vfs.Handle, after uint64, fn func(vfs.DirEntry) bool) error {
	if !a.confined {
		return a.fsys.ReadDir(ctx, h, after, fn)
	}
	v, ok := a.dirs.Load(h)
	if !ok {
		return &vfs.Error{Op: "readdir", Err: vfs.ErrBadHandle}
	}
	dir := v.(vfs.Ino)
	return a.fsys.ReadDir(ctx, h, after, func(e vfs.DirEntry) bool {
		switch {
		case e.Name == ".":
			e.Ino = a.out(dir)
		case e.Name == "..":
			if dir == a.root || !a.knownOrRoot(e.Ino) {
				e.Ino = vfs.RootIno
			} else {
				e.Ino = a.out(e.Ino)
			}
		case e.Ino == a.root:
			e.Ino = vfs.RootIno
		default:
			a.learn(e.Ino)
		}
		return fn(e)
	})
}

func (a *FS) ReleaseDir(ctx context.Context, h vfs.Handle) error {
	if a.confined {
		a.dirs.Delete(h)
	}
	return a.fsys.ReleaseDir(ctx, h)
}

// StatFS reports the whole file system's figures, as EFS does through an
// access point.
func (a *FS) StatFS(ctx context.Context, c vfs.Caller) (vfs.StatFS, error) {
	return a.fsys.StatFS(ctx, a.Identity(c))
}

func (a *FS) GetXattr(ctx context.Context, c vfs.Caller, ino vfs.Ino, name string) ([]byte, error) {
	i, err := a.in("getxattr", ino)
	if err != nil {
		return nil, err
	}
	return a.fsys.GetXattr(ctx, a.Identity(c), i, name)
}

func (a *FS) SetXattr(ctx context.Context, c vfs.Caller, ino vfs.Ino, name string, value []byte, flags int) error {
	if a.readOnly {
		return readOnlyErr("setxattr", ino, name)
	}
	i, err := a.in("setxattr", ino)
	if err != nil {
		return err
	}
	return a.fsys.SetXattr(ctx, a.Identity(c), i, name, value, flags)
}

func (a *FS) ListXattr(ctx context.Context, c vfs.Caller, ino vfs.Ino) ([]string, error) {
	i, err := a.in("listxattr", ino)
	if err != nil {
		return nil, err
	}
	return a.fsys.ListXattr(ctx, a.Identity(c), i)
}

func (a *FS) RemoveXattr(ctx context.Context, c vfs.Caller, ino vfs.Ino, name string) error {
	if a.readOnly {
		return readOnlyErr("removexattr", ino, name)
	}
	i, err := a.in("removexattr", ino)
	if err != nil {
		return err
	}
	return a.fsys.RemoveXattr(ctx, a.Identity(c), i, name)
}
