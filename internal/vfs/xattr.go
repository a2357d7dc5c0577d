package vfs

import (
	"context"
	"errors"
	"io/fs"
	"strings"

	"tarn.dev/tarn/internal/meta"
)

// checkXattr validates a name and the caller's right to read or write it:
// user.* follows the file's permissions and exists only on regular files and
// directories; trusted.* is for root; security.* is readable by all and
// writable by the owner; system.* (POSIX ACLs) is not supported.
func checkXattr(in meta.Inode, c Caller, name string, write bool) error {
	switch {
	case name == "":
		return ErrInvalid
	case len(name) > MaxXattrName:
		return ErrRange
	}
	switch {
	case strings.HasPrefix(name, "user."):
		t := in.Mode & ModeType
		if t != ModeRegular && t != ModeDir {
			if write {
				return ErrNotOwner
			}
			return ErrNoData
		}
		if in.Mode&ModeSticky != 0 && t == ModeDir && write && !isOwner(in, c) {
			return ErrNotOwner
		}
		mask := uint32(MayRead)
		if write {
			mask = MayWrite
		}
		if !mayAccess(in, c, mask) {
			return fs.ErrPermission
		}
	case strings.HasPrefix(name, "trusted."):
		if c.UID != 0 {
			if write {
				return ErrNotOwner
			}
			return ErrNoData
		}
	case strings.HasPrefix(name, "security."):
		if write && !isOwner(in, c) {
			return ErrNotOwner
		}
	default:
		return ErrNotSupported
	}
	return nil
}

// GetXattr returns the value of an extended attribute (ErrNoData if unset).
func (f *FS) GetXattr(ctx context.Context, c Caller, ino Ino, name string) ([]byte, error) {
	var v []byte
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		if err := checkXattr(in, c, name, false); err != nil {
			return err
		}
		v, err = tx.Xattr(ino, name)
		if errors.Is(err, fs.ErrNotExist) {
			return ErrNoData
		}
		return err
	})
	return v, opErr("getxattr", ino, name, err)
}

// SetXattr sets an extended attribute; flags may be XattrCreate (fail with
// fs.ErrExist if set) or XattrReplace (fail with ErrNoData if unset).
func (f *FS) SetXattr(ctx context.Context, c Caller, ino Ino, name string, value []byte, flags int) error {
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		if len(value) > MaxXattrValue {
			return ErrTooBig
		}
		if flags&^(XattrCreate|XattrReplace) != 0 || flags == XattrCreate|XattrReplace {
			return ErrInvalid
		}
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		if err := checkXattr(in, c, name, true); err != nil {
			return err
		}
		if flags != 0 {
			_, err := tx.Xattr(ino, name)
			switch {
			case err == nil && flags == XattrCreate:
				return fs.ErrExist
			case errors.Is(err, fs.ErrNotExist) && flags == XattrReplace:
				return ErrNoData
			case err != nil && !errors.Is(err, fs.ErrNotExist):
				return err
			}
		}
		if err := tx.SetXattr(ino, name, value); err != nil {
			return err
		}
		in.Ctime = f.opts.Now()
		return tx.UpdateInode(in)
	})
	if err != nil {
		return opErr("setxattr", ino, name, err)
	}
	f.notify(ctx, Change{Kind: ChangeAttr, Ino: ino})
	return nil
}

// ListXattr returns the names of the extended attributes the caller may see.
func (f *FS) ListXattr(ctx context.Context, c Caller, ino Ino) ([]string, error) {
	var names []string
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		all, err := tx.Xattrs(ino)
		for _, n := range all {
			if strings.HasPrefix(n, "trusted.") && c.UID != 0 {
				continue
			}
			names = append(names, n)
		}
		_ = in
		return err
	})
	return names, opErr("listxattr", ino, "", err)
}

// RemoveXattr removes an extended attribute (ErrNoData if unset).
func (f *FS) RemoveXattr(ctx context.Context, c Caller, ino Ino, name string) error {
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		if err := checkXattr(in, c, name, true); err != nil {
			return err
		}
		if err := tx.RemoveXattr(ino, name); errors.Is(err, fs.ErrNotExist) {
			return ErrNoData
		} else if err != nil {
			return err
		}
		in.Ctime = f.opts.Now()
		return tx.UpdateInode(in)
	})
	if err != nil {
		return opErr("removexattr", ino, name, err)
	}
	f.notify(ctx, Change{Kind: ChangeAttr, Ino: ino})
	return nil
}
