package vfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"tarn.dev/tarn/internal/meta"
)

// dirInode loads parent, checks it is a live directory and that c may use it
// with mask.
func dirInode(tx meta.Tx, c Caller, parent Ino, mask uint32) (meta.Inode, error) {
	p, err := tx.Inode(parent)
	if err != nil {
		return p, err
	}
	if !isDir(p) {
		return p, ErrNotDir
	}
	if p.Nlink == 0 {
		return p, fs.ErrNotExist
	}
	if !mayAccess(p, c, mask) {
		return p, fs.ErrPermission
	}
	return p, nil
}

// Lookup resolves name in directory parent; "." and ".." are the directory
// itself and its parent.
func (f *FS) Lookup(ctx context.Context, c Caller, parent Ino, name string) (Attr, error) {
	if len(name) > MaxNameLen {
		return Attr{}, opErr("lookup", parent, name, ErrNameTooLong)
	}
	var in meta.Inode
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		p, err := dirInode(tx, c, parent, MayExec)
		if err != nil {
			return err
		}
		switch name {
		case ".":
			in = p
			return nil
		case "..":
			in, err = tx.Inode(p.Parent)
			return err
		case "":
			return fs.ErrNotExist
		}
		d, err := tx.Lookup(parent, name)
		if err != nil {
			return err
		}
		in, err = tx.Inode(d.Ino)
		return err
	})
	if err != nil {
		return Attr{}, opErr("lookup", parent, name, err)
	}
	f.overlay(&in)
	return attr(in), nil
}

// Access checks whether c may access ino with mask (MayRead|MayWrite|MayExec);
// a zero mask checks existence.
func (f *FS) Access(ctx context.Context, c Caller, ino Ino, mask uint32) error {
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		if !mayAccess(in, c, mask) {
			return fs.ErrPermission
		}
		return nil
	})
	return opErr("access", ino, "", err)
}

type newNode struct {
	mode   uint32 // type and permission bits after umask
	rdev   uint32
	target string
}

// create adds a new inode numbered ino, named name in parent, within tx.
// An existing name fails the entry's insert with fs.ErrExist.
func (f *FS) create(tx meta.Tx, c Caller, parent Ino, name string, ino Ino, n newNode) (meta.Inode, error) {
	if err := checkName(name); err != nil {
		if name == "." || name == ".." {
			return meta.Inode{}, fs.ErrExist
		}
		return meta.Inode{}, err
	}
	if name == "." || name == ".." {
		return meta.Inode{}, fs.ErrExist
	}
	p, err := dirInode(tx, c, parent, MayWrite|MayExec)
	if err != nil {
		return meta.Inode{}, err
	}
	now := f.opts.Now()
	in := meta.Inode{Ino: ino, Mode: n.mode, Nlink: 1, UID: c.UID, GID: c.GID, Rdev: n.rdev,
		Atime: now, Mtime: now, Ctime: now, Parent: parent}
	dir := n.mode&ModeType == ModeDir
	if p.Mode&ModeSetgid != 0 {
		in.GID = p.GID
		if dir {
			in.Mode |= ModeSetgid
		}
	}
	if !dir && in.Mode&ModeSetgid != 0 && c.UID != 0 && !c.member(in.GID) {
		in.Mode &^= ModeSetgid
	}
	if dir {
		in.Nlink = 2
		p.Nlink++
	}
	if n.mode&ModeType == ModeSymlink {
		in.Size = uint64(len(n.target))
		if err := tx.SetSymlink(in.Ino, n.target); err != nil {
			return in, err
		}
	}
	if err := tx.CreateInode(in); err != nil {
		return in, err
	}
	if err := tx.AddEntry(parent, meta.Dirent{Name: name, Ino: in.Ino, Mode: in.Mode & ModeType}); err != nil {
		return in, err
	}
	p.Mtime, p.Ctime = now, now
	if err := tx.UpdateInode(p); err != nil {
		return in, err
	}
	return in, tx.AddUsage(int64(in.Size), 1)
}

func (f *FS) createOp(ctx context.Context, op string, c Caller, parent Ino, name string, n newNode) (meta.Inode, error) {
	var in meta.Inode
	ino, err := f.allocID(ctx, meta.InoCounter, &f.inoIDs)
	if err == nil {
		err = f.meta.Update(ctx, func(tx meta.Tx) (err error) {
			in, err = f.create(tx, c, parent, name, Ino(ino), n)
			return err
		})
	}
	if err != nil {
		return in, opErr(op, parent, name, err)
	}
	f.notify(ctx, Change{Kind: ChangeEntry, Parent: parent, Name: name, Ino: in.Ino}, Change{Kind: ChangeAttr, Ino: parent})
	return in, nil
}

// Mknod creates a regular file, FIFO, socket or (for root) device node.
func (f *FS) Mknod(ctx context.Context, c Caller, parent Ino, name string, mode, rdev, umask uint32) (Attr, error) {
	switch mode & ModeType {
	case 0:
		mode |= ModeRegular
	case ModeRegular, ModeFIFO, ModeSocket:
		rdev = 0
	case ModeChar, ModeBlock:
		if c.UID != 0 {
			return Attr{}, opErr("mknod", parent, name, ErrNotOwner)
		}
	default:
		return Attr{}, opErr("mknod", parent, name, ErrInvalid)
	}
	in, err := f.createOp(ctx, "mknod", c, parent, name, newNode{mode: mode&ModeType | mode&^umask&ModePerm, rdev: rdev})
	return attr(in), err
}

// Mkdir creates a directory.
func (f *FS) Mkdir(ctx context.Context, c Caller, parent Ino, name string, mode, umask uint32) (Attr, error) {
	in, err := f.createOp(ctx, "mkdir", c, parent, name, newNode{mode: ModeDir | mode&^umask&(ModePerm&^ModeSetgid)})
	return attr(in), err
}

// Symlink creates a symbolic link to target.
func (f *FS) Symlink(ctx context.Context, c Caller, parent Ino, name, target string) (Attr, error) {
	switch {
	case target == "":
		return Attr{}, opErr("symlink", parent, name, fs.ErrNotExist)
	case len(target) > MaxSymlinkLen:
		return Attr{}, opErr("symlink", parent, name, ErrNameTooLong)
	}
	in, err := f.createOp(ctx, "symlink", c, parent, name, newNode{mode: ModeSymlink | 0o777, target: target})
	return attr(in), err
}

// Readlink returns the target of a symbolic link.
func (f *FS) Readlink(ctx context.Context, c Caller, ino Ino) (string, error) {
	var target string
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		in, err := tx.Inode(ino)
		if err != nil {
			return err
		}
		if in.Mode&ModeType != ModeSymlink {
			return ErrInvalid
		}
		target, err = tx.Symlink(ino)
		return err
	})
	return target, opErr("readlink", ino, "", err)
}

// Link adds a hard link newName in newParent to ino.
func (f *FS) Link(ctx context.Context, c Caller, ino, newParent Ino, newName string) (Attr, error) {
	var in meta.Inode
	err := f.meta.Update(ctx, func(tx meta.Tx) (err error) {
		if err := checkName(newName); err != nil {
			return err
		}
		in, err = tx.Inode(ino)
		switch {
		case err != nil:
			return err
		case isDir(in):
			return ErrNotOwner
		case in.Nlink == 0:
			return fs.ErrNotExist
		}
		p, err := dirInode(tx, c, newParent, MayWrite|MayExec)
		if err != nil {
			return err
		}
		if newName == "." || newName == ".." {
			return fs.ErrExist
		}
		if _, err := tx.Lookup(newParent, newName); err == nil {
			return fs.ErrExist
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if in.Nlink >= MaxLinks {
			return ErrTooManyLinks
		}
		if err := tx.AddEntry(newParent, meta.Dirent{Name: newName, Ino: ino, Mode: in.Mode & ModeType}); err != nil {
			return err
		}
		now := f.opts.Now()
		in.Nlink++
		in.Ctime = now
		p.Mtime, p.Ctime = now, now
		if err := tx.UpdateInode(p); err != nil {
			return err
		}
		return tx.UpdateInode(in)
	})
	if err != nil {
		return Attr{}, opErr("link", newParent, newName, err)
	}
	f.notify(ctx, Change{Kind: ChangeEntry, Parent: newParent, Name: newName, Ino: ino}, Change{Kind: ChangeAttr, Ino: ino})
	f.overlay(&in)
	return attr(in), nil
}

// dropLink records that in lost a link within tx: the inode is deleted when
// it has no links left and nobody has it open; otherwise it is kept (with
// Nlink 0 until the last Release). reaped collects inodes deleted here.
func (f *FS) dropLink(tx meta.Tx, in meta.Inode, now time.Time, reaped *[]Ino) error {
	if isDir(in) {
		in.Nlink = 0
	} else if in.Nlink > 0 {
		in.Nlink--
	}
	in.Ctime = now
	if in.Nlink > 0 {
		return tx.UpdateInode(in)
	}
	f.mu.Lock()
	st := f.inodes[in.Ino]
	open := st != nil && st.opens > 0
	if open {
		st.unlinked = true
	} else {
		f.reaping[in.Ino] = true
		*reaped = append(*reaped, in.Ino)
	}
	f.mu.Unlock()
	if open {
		return tx.UpdateInode(in)
	}
	if err := tx.DeleteInode(in.Ino); err != nil {
		return err
	}
	return tx.AddUsage(-usageBytes(in), -1)
}

func usageBytes(in meta.Inode) int64 {
	switch in.Mode & ModeType {
	case ModeRegular, ModeSymlink:
		return int64(in.Size)
	}
	return 0
}

func (f *FS) doneReaping(reaped []Ino) {
	if len(reaped) == 0 {
		return
	}
	f.mu.Lock()
	for _, ino := range reaped {
		delete(f.reaping, ino)
	}
	f.mu.Unlock()
	f.kick()
}

// Unlink removes a non-directory entry.
func (f *FS) Unlink(ctx context.Context, c Caller, parent Ino, name string) error {
	var reaped []Ino
	var victim Ino
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		f.doneReaping(reaped)
		reaped = nil
		if len(name) > MaxNameLen {
			return ErrNameTooLong
		}
		p, err := dirInode(tx, c, parent, MayWrite|MayExec)
		if err != nil {
			return err
		}
		if name == "." || name == ".." {
			return ErrIsDir
		}
		d, err := tx.Lookup(parent, name)
		if err != nil {
			return err
		}
		in, err := tx.Inode(d.Ino)
		if err != nil {
			return err
		}
		victim = in.Ino
		if isDir(in) {
			return ErrIsDir
		}
		if stickyBlocks(p, in, c) {
			return ErrNotOwner
		}
		if err := tx.RemoveEntry(parent, name); err != nil {
			return err
		}
		now := f.opts.Now()
		p.Mtime, p.Ctime = now, now
		if err := tx.UpdateInode(p); err != nil {
			return err
		}
		return f.dropLink(tx, in, now, &reaped)
	})
	f.doneReaping(reaped)
	if err != nil {
		return opErr("unlink", parent, name, err)
	}
	f.notify(ctx, Change{Kind: ChangeEntry, Parent: parent, Name: name, Ino: victim}, Change{Kind: ChangeAttr, Ino: victim},
		Change{Kind: ChangeAttr, Ino: parent})
	return nil
}

// Rmdir removes an empty directory.
func (f *FS) Rmdir(ctx context.Context, c Caller, parent Ino, name string) error {
	var reaped []Ino
	var victim Ino
	err := f.meta.Update(ctx, func(tx meta.Tx) error {
		f.doneReaping(reaped)
		reaped = nil
		if len(name) > MaxNameLen {
			return ErrNameTooLong
		}
		p, err := dirInode(tx, c, parent, MayWrite|MayExec)
		if err != nil {
			return err
		}
		switch name {
		case ".":
			return ErrInvalid
		case "..":
			return ErrNotEmpty
		}
		d, err := tx.Lookup(parent, name)
		if err != nil {
			return err
		}
		in, err := tx.Inode(d.Ino)
		if err != nil {
			return err
		}
		victim = in.Ino
		if !isDir(in) {
			return ErrNotDir
		}
		if stickyBlocks(p, in, c) {
			return ErrNotOwner
		}
		if has, err := tx.HasEntries(in.Ino); err != nil {
			return err
		} else if has {
			return ErrNotEmpty
		}
		if err := tx.RemoveEntry(parent, name); err != nil {
			return err
		}
		now := f.opts.Now()
		p.Nlink--
		p.Mtime, p.Ctime = now, now
		if err := tx.UpdateInode(p); err != nil {
			return err
		}
		return f.dropLink(tx, in, now, &reaped)
	})
	f.doneReaping(reaped)
	if err != nil {
		return opErr("rmdir", parent, name, err)
	}
	f.notify(ctx, Change{Kind: ChangeEntry, Parent: parent, Name: name, Ino: victim}, Change{Kind: ChangeAttr, Ino: parent})
	return nil
}

// SetAttr changes attributes, with chmod/chown/truncate/utimes rules.
func (f *FS) SetAttr(ctx context.Context, c Caller, ino Ino, in SetAttrIn) (Attr, error) {
	if in.Size != nil {
		if err := f.truncate(ctx, c, ino, *in.Size, in.Handle); err != nil {
			return Attr{}, opErr("setattr", ino, "", err)
		}
	}
	var out meta.Inode
	err := f.meta.Update(ctx, func(tx meta.Tx) (err error) {
		out, err = tx.Inode(ino)
		if err != nil {
			return err
		}
		now := f.opts.Now()
		changed := false
		if in.Mode != nil {
			if !isOwner(out, c) {
				return ErrNotOwner
			}
			m := out.Mode&ModeType | *in.Mode&ModePerm
			if c.UID != 0 && !c.member(out.GID) {
				m &^= ModeSetgid
			}
			out.Mode = m
			changed = true
		}
		if in.UID != nil || in.GID != nil {
			uid, gid := out.UID, out.GID
			if in.UID != nil {
				uid = *in.UID
			}
			if in.GID != nil {
				gid = *in.GID
			}
			if c.UID != 0 {
				if uid != out.UID || c.UID != out.UID || (gid != out.GID && !c.member(gid)) {
					return ErrNotOwner
				}
			}
			if !isDir(out) {
				out.Mode &^= ModeSetuid
				if out.Mode&0o010 != 0 {
					out.Mode &^= ModeSetgid
				}
			}
			out.UID, out.GID = uid, gid
			changed = true
		}
		if in.AtimeNow || in.MtimeNow {
			if !isOwner(out, c) && !mayAccess(out, c, MayWrite) {
				return fs.ErrPermission
			}
		}
		if in.Atime != nil || in.Mtime != nil {
			if !isOwner(out, c) {
				return ErrNotOwner
			}
		}
		switch {
		case in.AtimeNow:
			out.Atime, changed = now, true
		case in.Atime != nil:
			out.Atime, changed = *in.Atime, true
		}
		switch {
		case in.MtimeNow:
			out.Mtime, changed = now, true
		case in.Mtime != nil:
			out.Mtime, changed = *in.Mtime, true
		}
		if !changed {
			return nil
		}
		out.Ctime = now
		return tx.UpdateInode(out)
	})
	if err != nil {
		return Attr{}, opErr("setattr", ino, "", err)
	}
	f.notify(ctx, Change{Kind: ChangeAttr, Ino: ino})
	f.overlay(&out)
	return attr(out), nil
}

type dirHandle struct{ ino Ino }

// OpenDir opens a directory for reading.
func (f *FS) OpenDir(ctx context.Context, c Caller, ino Ino) (Handle, error) {
	err := f.meta.View(ctx, func(tx meta.Tx) error {
		_, err := dirInode(tx, c, ino, MayRead)
		return err
	})
	if err != nil {
		return 0, opErr("opendir", ino, "", err)
	}
	return f.newHandle(&handle{ino: ino, dir: true}), nil
}

// ReadDir calls fn for the entries of an open directory after cookie after
// (0 starts at the beginning, with "." and ".."), until fn returns false.
// Cookies are stable: entries added or removed meanwhile do not shift others.
func (f *FS) ReadDir(ctx context.Context, h Handle, after uint64, fn func(DirEntry) bool) error {
	hd, err := f.handle(h)
	if err != nil {
		return opErr("readdir", 0, "", err)
	}
	if !hd.dir {
		return opErr("readdir", hd.ino, "", ErrNotDir)
	}
	err = f.meta.View(ctx, func(tx meta.Tx) error {
		d, err := tx.Inode(hd.ino)
		if err != nil {
			return err
		}
		if d.Nlink == 0 {
			return nil
		}
		if after < 1 && !fn(DirEntry{Name: ".", Ino: d.Ino, Mode: ModeDir, Cookie: 1}) {
			return nil
		}
		if after < 2 && !fn(DirEntry{Name: "..", Ino: d.Parent, Mode: ModeDir, Cookie: 2}) {
			return nil
		}
		return tx.ReadDir(hd.ino, after, func(e meta.Dirent) bool {
			return fn(DirEntry{Name: e.Name, Ino: e.Ino, Mode: e.Mode, Cookie: e.Cookie})
		})
	})
	return opErr("readdir", hd.ino, "", err)
}

// ReleaseDir closes a directory handle.
func (f *FS) ReleaseDir(ctx context.Context, h Handle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.handles[h]; !ok {
		return opErr("releasedir", 0, "", ErrBadHandle)
	}
	delete(f.handles, h)
	return nil
}

// StatFS reports capacity and usage.
func (f *FS) StatFS(ctx context.Context, c Caller) (StatFS, error) {
	var u meta.Usage
	err := f.meta.View(ctx, func(tx meta.Tx) (err error) { u, err = tx.Usage(); return err })
	if err != nil {
		return StatFS{}, opErr("statfs", RootIno, "", err)
	}
	const bs = 4096
	used := uint64(max(u.Bytes, 0)+bs-1) / bs
	total := f.opts.Capacity / bs
	free := total - min(used, total)
	const files = 1 << 40
	return StatFS{Bsize: bs, Frsize: bs, Blocks: total, Bfree: free, Bavail: free, Files: files,
		Ffree: files - min(uint64(max(u.Inodes, 0)), files), NameLen: MaxNameLen}, nil
}

func (f *FS) newHandle(hd *handle) Handle {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextH++
	f.handles[f.nextH] = hd
	return f.nextH
}

func (f *FS) handle(h Handle) (*handle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hd, ok := f.handles[h]
	if !ok {
		return nil, fmt.Errorf("handle %d: %w", h, ErrBadHandle)
	}
	return hd, nil
}
