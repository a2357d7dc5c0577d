package vfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"tarn.dev/tarn/internal/meta"
)

// Rename moves oldName in oldParent to newName in newParent in one
// transaction, so whole directory trees move atomically. flags may be
// RenameNoReplace (fail with fs.ErrExist if the target exists) or
// RenameExchange (swap two existing entries). A replaced target loses a link
// as with Unlink; a replaced directory must be empty.
func (f *FS) Rename(ctx context.Context, c Caller, oldParent Ino, oldName string, newParent Ino, newName string, flags uint32) error {
	var reaped []Ino
	var chs []Change
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		f.doneReaping(reaped)
		reaped, chs = nil, nil
		return f.rename(tx, c, oldParent, oldName, newParent, newName, flags, &reaped, &chs)
	})
	f.doneReaping(reaped)
	if err != nil {
		return opErr("rename", oldParent, oldName, err)
	}
	f.notify(ctx, chs...)
	return nil
}

func (f *FS) rename(tx meta.Tx, c Caller, oldParent Ino, oldName string, newParent Ino, newName string, flags uint32,
	reaped *[]Ino, chs *[]Change) error {
	if flags&^(RenameNoReplace|RenameExchange|RenameWhiteout) != 0 || flags&(RenameNoReplace|RenameExchange) == RenameNoReplace|RenameExchange {
		return ErrInvalid
	}
	if flags&RenameWhiteout != 0 {
		return ErrNotSupported
	}
	for _, n := range []string{oldName, newName} {
		if len(n) > MaxNameLen {
			return ErrNameTooLong
		}
		if n == "." || n == ".." {
			return ErrBusy
		}
	}
	if err := checkName(newName); err != nil {
		return err
	}
	op, err := dirInode(tx, c, oldParent, MayWrite|MayExec)
	if err != nil {
		return err
	}
	np := op
	if newParent != oldParent {
		if np, err = dirInode(tx, c, newParent, MayWrite|MayExec); err != nil {
			return err
		}
	}
	sd, err := tx.Lookup(oldParent, oldName)
	if err != nil {
		return err
	}
	src, err := tx.Inode(sd.Ino)
	if err != nil {
		return err
	}
	var dst meta.Inode
	dd, err := tx.Lookup(newParent, newName)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	case exists:
		if dst, err = tx.Inode(dd.Ino); err != nil {
			return err
		}
	case flags&RenameExchange != 0:
		return fs.ErrNotExist
	}
	if exists && flags&RenameNoReplace != 0 {
		return fs.ErrExist
	}
	if exists && dst.Ino == src.Ino {
		return nil // both names are links to the same inode: nothing to do
	}
	if stickyBlocks(op, src, c) || (exists && stickyBlocks(np, dst, c)) {
		return ErrNotOwner
	}
	moved := newParent != oldParent
	// A directory that changes parent has its ".." rewritten.
	if moved && isDir(src) && !mayAccess(src, c, MayWrite) {
		return fs.ErrPermission
	}
	if moved && isDir(src) {
		if err := notInside(tx, newParent, src.Ino); err != nil {
			return err
		}
	}
	now := f.opts.Now()
	*chs = append(*chs, Change{Kind: ChangeEntry, Parent: oldParent, Name: oldName, Ino: src.Ino},
		Change{Kind: ChangeEntry, Parent: newParent, Name: newName, Ino: src.Ino},
		Change{Kind: ChangeAttr, Ino: oldParent}, Change{Kind: ChangeAttr, Ino: newParent})

	if flags&RenameExchange != 0 {
		if moved && isDir(dst) {
			if !mayAccess(dst, c, MayWrite) {
				return fs.ErrPermission
			}
			if err := notInside(tx, oldParent, dst.Ino); err != nil {
				return err
			}
		}
		return exchange(tx, now, &op, &np, oldName, newName, src, dst)
	}

	if exists {
		switch {
		case isDir(src) && !isDir(dst):
			return ErrNotDir
		case !isDir(src) && isDir(dst):
			return ErrIsDir
		case isDir(dst):
			if has, err := tx.HasEntries(dst.Ino); err != nil {
				return err
			} else if has {
				return ErrNotEmpty
			}
			np.Nlink--
		}
		if err := tx.RemoveEntry(newParent, newName); err != nil {
			return err
		}
		*chs = append(*chs, Change{Kind: ChangeAttr, Ino: dst.Ino})
	}
	if err := tx.RemoveEntry(oldParent, oldName); err != nil {
		return err
	}
	if err := tx.AddEntry(newParent, meta.Dirent{Name: newName, Ino: src.Ino, Mode: src.Mode & ModeType}); err != nil {
		return err
	}
	if moved {
		src.Parent = newParent
		if isDir(src) {
			op.Nlink--
			np.Nlink++
		}
	}
	src.Ctime = now
	op.Mtime, op.Ctime = now, now
	np.Mtime, np.Ctime = now, now
	if err := tx.UpdateInode(src); err != nil {
		return err
	}
	if moved {
		if err := tx.UpdateInode(np); err != nil {
			return err
		}
	} else {
		op.Nlink = np.Nlink
	}
	if err := tx.UpdateInode(op); err != nil {
		return err
	}
	if exists {
		return f.dropLink(tx, dst, now, reaped)
	}
	return nil
}

// notInside fails with ErrInvalid if dir is ino or lies beneath it.
func notInside(tx meta.Tx, dir, ino Ino) error {
	for depth := 0; ; depth++ {
		if dir == ino {
			return fmt.Errorf("move a directory into itself: %w", ErrInvalid)
		}
		if dir == RootIno || depth > 1<<16 {
			return nil
		}
		in, err := tx.Inode(dir)
		if err != nil {
			return err
		}
		dir = in.Parent
	}
}

func exchange(tx meta.Tx, now time.Time, op, np *meta.Inode, oldName, newName string, src, dst meta.Inode) error {
	for _, e := range []struct {
		p    Ino
		name string
		in   meta.Inode
	}{{op.Ino, oldName, dst}, {np.Ino, newName, src}} {
		if err := tx.RemoveEntry(e.p, e.name); err != nil {
			return err
		}
		if err := tx.AddEntry(e.p, meta.Dirent{Name: e.name, Ino: e.in.Ino, Mode: e.in.Mode & ModeType}); err != nil {
			return err
		}
	}
	moved := op.Ino != np.Ino
	if moved {
		src.Parent, dst.Parent = np.Ino, op.Ino
		if isDir(src) != isDir(dst) {
			if isDir(src) {
				op.Nlink--
				np.Nlink++
			} else {
				op.Nlink++
				np.Nlink--
			}
		}
	}
	src.Ctime, dst.Ctime = now, now
	op.Mtime, op.Ctime = now, now
	np.Mtime, np.Ctime = now, now
	for _, in := range []meta.Inode{src, dst, *op} {
		if err := tx.UpdateInode(in); err != nil {
			return err
		}
	}
	if moved {
		return tx.UpdateInode(*np)
	}
	return nil
}
