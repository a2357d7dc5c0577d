package fuse

import (
	"strings"
	"syscall"
	"time"

	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"tarn.dev/tarn/internal/vfs"
)

// raw translates FUSE requests into vfs calls. FUSE node ids are vfs inode
// numbers (the root is 1 in both), so the kernel's view and the file
// system's never need a table between them, and invalidations name inodes
// directly. Operations it does not implement (Lseek, CopyFileRange, Ioctl,
// Tmpfile, Statx) answer ENOSYS from the embedded default, and the kernel
// falls back to its generic code.
type raw struct {
	gofuse.RawFileSystem
	m *Server
}

func (r *raw) String() string { return r.m.opts.FSName }

func (r *raw) status(op string, err error) gofuse.Status { return r.m.errs.status(op, err) }

// modified finishes a modifying request: it waits until other mounts have
// dropped what they cached of the change.
func (r *raw) modified(op string, err error) gofuse.Status {
	if err == nil {
		settle(r.m.notes)
	}
	return r.status(op, err)
}

func (r *raw) readOnly() bool { return r.m.opts.ReadOnly }

func fillAttr(a vfs.Attr, out *gofuse.Attr) {
	*out = gofuse.Attr{
		Ino: uint64(a.Ino), Size: a.Size, Blocks: a.Blocks, Mode: a.Mode, Nlink: a.Nlink,
		Owner: gofuse.Owner{Uid: a.UID, Gid: a.GID}, Rdev: a.Rdev, Blksize: a.Blksize,
	}
	out.Atime, out.Atimensec = timespec(a.Atime)
	out.Mtime, out.Mtimensec = timespec(a.Mtime)
	out.Ctime, out.Ctimensec = timespec(a.Ctime)
}

func timespec(t time.Time) (uint64, uint32) {
	if t.IsZero() {
		return 0, 0
	}
	return uint64(t.Unix()), uint32(t.Nanosecond())
}

func (r *raw) entry(a vfs.Attr, out *gofuse.EntryOut) {
	out.NodeId = uint64(a.Ino)
	out.Generation = 0
	out.SetEntryTimeout(r.m.entryTTL)
	out.SetAttrTimeout(r.m.attrTTL)
	fillAttr(a, &out.Attr)
}

func (r *raw) attrOut(a vfs.Attr, out *gofuse.AttrOut) {
	out.SetTimeout(r.m.attrTTL)
	fillAttr(a, &out.Attr)
}

func (r *raw) caller(h *gofuse.InHeader) vfs.Caller { return r.m.groups.caller(h) }

func ino(h *gofuse.InHeader) vfs.Ino { return vfs.Ino(h.NodeId) }

func (r *raw) Lookup(cancel <-chan struct{}, h *gofuse.InHeader, name string, out *gofuse.EntryOut) gofuse.Status {
	a, err := r.m.fsys.Lookup(r.m.ctx, r.caller(h), ino(h), name)
	if err != nil {
		st := r.status("lookup", err)
		if st == gofuse.ENOENT && r.m.entryTTL > 0 {
			// A negative entry (node id 0): the kernel remembers that the
			// name does not exist as long as it would remember one that
			// does, so repeated probes of missing files (module searches)
			// stay in the kernel. A creation through another mount
			// invalidates it like any cached name.
			*out = gofuse.EntryOut{}
			out.SetEntryTimeout(r.m.entryTTL)
			return gofuse.OK
		}
		return st
	}
	r.entry(a, out)
	return gofuse.OK
}

// Forget does nothing: vfs inodes are persistent and need no reference
// counts from the kernel.
func (r *raw) Forget(nodeid, nlookup uint64) {}

func (r *raw) GetAttr(cancel <-chan struct{}, in *gofuse.GetAttrIn, out *gofuse.AttrOut) gofuse.Status {
	a, err := r.m.fsys.GetAttr(r.m.ctx, r.caller(&in.InHeader), ino(&in.InHeader))
	if err != nil {
		return r.status("getattr", err)
	}
	r.attrOut(a, out)
	return gofuse.OK
}

func (r *raw) SetAttr(cancel <-chan struct{}, in *gofuse.SetAttrIn, out *gofuse.AttrOut) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	var s vfs.SetAttrIn
	if in.Valid&gofuse.FATTR_MODE != 0 {
		mode := in.Mode
		s.Mode = &mode
	}
	if in.Valid&gofuse.FATTR_UID != 0 {
		uid := in.Uid
		s.UID = &uid
	}
	if in.Valid&gofuse.FATTR_GID != 0 {
		gid := in.Gid
		s.GID = &gid
	}
	if in.Valid&gofuse.FATTR_SIZE != 0 {
		size := in.Size
		s.Size = &size
	}
	if in.Valid&gofuse.FATTR_FH != 0 {
		s.Handle = vfs.Handle(in.Fh)
	}
	if in.Valid&gofuse.FATTR_ATIME != 0 {
		if in.Valid&gofuse.FATTR_ATIME_NOW != 0 {
			s.AtimeNow = true
		} else {
			t := time.Unix(int64(in.Atime), int64(in.Atimensec))
			s.Atime = &t
		}
	}
	if in.Valid&gofuse.FATTR_MTIME != 0 {
		if in.Valid&gofuse.FATTR_MTIME_NOW != 0 {
			s.MtimeNow = true
		} else {
			t := time.Unix(int64(in.Mtime), int64(in.Mtimensec))
			s.Mtime = &t
		}
	}
	c := r.caller(&in.InHeader)
	a, err := r.m.fsys.SetAttr(r.m.ctx, c, ino(&in.InHeader), s)
	if err != nil && in.Valid == gofuse.FATTR_MODE && Errno(err) == syscall.EPERM {
		a, err = r.killPriv(c, ino(&in.InHeader), in.Mode)
	}
	if err != nil {
		return r.status("setattr", err)
	}
	r.attrOut(a, out)
	return r.modified("setattr", nil)
}

// killPriv applies a mode change that only clears the setuid and setgid
// bits, for a caller with write permission who does not own the file. This
// is how the kernel clears those bits when such a caller writes or
// truncates the file (ATTR_KILL_SUID and ATTR_KILL_SGID, which the FUSE
// protocol turns into a plain SETATTR of the mode); Linux does it with the
// kernel's authority, so it is applied as root here. Anything else keeps
// the EPERM of the original request.
func (r *raw) killPriv(c vfs.Caller, ino vfs.Ino, mode uint32) (vfs.Attr, error) {
	const privs = vfs.ModeSetuid | vfs.ModeSetgid
	a, err := r.m.fsys.GetAttr(r.m.ctx, c, ino)
	if err != nil {
		return vfs.Attr{}, err
	}
	cur := a.Mode & vfs.ModePerm
	if mode&vfs.ModePerm != cur&^privs || cur&privs == 0 {
		return vfs.Attr{}, vfs.ErrNotOwner
	}
	if err := r.m.fsys.Access(r.m.ctx, c, ino, vfs.MayWrite); err != nil {
		return vfs.Attr{}, vfs.ErrNotOwner
	}
	m := mode & vfs.ModePerm
	return r.m.fsys.SetAttr(r.m.ctx, vfs.Root, ino, vfs.SetAttrIn{Mode: &m})
}

func (r *raw) Mknod(cancel <-chan struct{}, in *gofuse.MknodIn, name string, out *gofuse.EntryOut) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	a, err := r.m.fsys.Mknod(r.m.ctx, r.caller(&in.InHeader), ino(&in.InHeader), name, in.Mode, in.Rdev, in.Umask)
	if err != nil {
		return r.status("mknod", err)
	}
	r.entry(a, out)
	return r.modified("mknod", nil)
}

func (r *raw) Mkdir(cancel <-chan struct{}, in *gofuse.MkdirIn, name string, out *gofuse.EntryOut) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	a, err := r.m.fsys.Mkdir(r.m.ctx, r.caller(&in.InHeader), ino(&in.InHeader), name, in.Mode, in.Umask)
	if err != nil {
		return r.status("mkdir", err)
	}
	r.entry(a, out)
	return r.modified("mkdir", nil)
}

func (r *raw) Unlink(cancel <-chan struct{}, h *gofuse.InHeader, name string) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	return r.modified("unlink", r.m.fsys.Unlink(r.m.ctx, r.caller(h), ino(h), name))
}

func (r *raw) Rmdir(cancel <-chan struct{}, h *gofuse.InHeader, name string) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	return r.modified("rmdir", r.m.fsys.Rmdir(r.m.ctx, r.caller(h), ino(h), name))
}

func (r *raw) Rename(cancel <-chan struct{}, in *gofuse.RenameIn, oldName, newName string) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	err := r.m.fsys.Rename(r.m.ctx, r.caller(&in.InHeader), ino(&in.InHeader), oldName, vfs.Ino(in.Newdir), newName, in.Flags)
	return r.modified("rename", err)
}

func (r *raw) Link(cancel <-chan struct{}, in *gofuse.LinkIn, name string, out *gofuse.EntryOut) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	a, err := r.m.fsys.Link(r.m.ctx, r.caller(&in.InHeader), vfs.Ino(in.Oldnodeid), ino(&in.InHeader), name)
	if err != nil {
		return r.status("link", err)
	}
	r.entry(a, out)
	return r.modified("link", nil)
}

func (r *raw) Symlink(cancel <-chan struct{}, h *gofuse.InHeader, target, name string, out *gofuse.EntryOut) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	a, err := r.m.fsys.Symlink(r.m.ctx, r.caller(h), ino(h), name, target)
	if err != nil {
		return r.status("symlink", err)
	}
	r.entry(a, out)
	return r.modified("symlink", nil)
}

func (r *raw) Readlink(cancel <-chan struct{}, h *gofuse.InHeader) ([]byte, gofuse.Status) {
	target, err := r.m.fsys.Readlink(r.m.ctx, r.caller(h), ino(h))
	if err != nil {
		return nil, r.status("readlink", err)
	}
	return []byte(target), gofuse.OK
}

func (r *raw) Access(cancel <-chan struct{}, in *gofuse.AccessIn) gofuse.Status {
	if r.readOnly() && in.Mask&vfs.MayWrite != 0 {
		return gofuse.EROFS
	}
	return r.status("access", r.m.fsys.Access(r.m.ctx, r.caller(&in.InHeader), ino(&in.InHeader), in.Mask))
}

// writes reports whether open flags ask to modify the file.
func writes(flags uint32) bool {
	return flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0
}

// openFlags are the FOPEN flags of every file: the kernel keeps its page
// cache across opens, because changes made through other mounts are pushed
// as invalidations.
const openFlags = gofuse.FOPEN_KEEP_CACHE

func (r *raw) Create(cancel <-chan struct{}, in *gofuse.CreateIn, name string, out *gofuse.CreateOut) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	a, h, err := r.m.fsys.Create(r.m.ctx, r.caller(&in.InHeader), ino(&in.InHeader), name, in.Mode, int(in.Flags), in.Umask)
	if err != nil {
		return r.status("create", err)
	}
	r.entry(a, &out.EntryOut)
	out.Fh = uint64(h)
	out.OpenFlags = openFlags
	return r.modified("create", nil)
}

func (r *raw) Open(cancel <-chan struct{}, in *gofuse.OpenIn, out *gofuse.OpenOut) gofuse.Status {
	if r.readOnly() && writes(in.Flags) {
		return gofuse.EROFS
	}
	h, err := r.m.fsys.Open(r.m.ctx, r.caller(&in.InHeader), ino(&in.InHeader), int(in.Flags))
	if err != nil {
		return r.status("open", err)
	}
	out.Fh = uint64(h)
	out.OpenFlags = openFlags
	return gofuse.OK
}

func (r *raw) Read(cancel <-chan struct{}, in *gofuse.ReadIn, buf []byte) (gofuse.ReadResult, gofuse.Status) {
	if int(in.Size) < len(buf) {
		buf = buf[:in.Size]
	}
	n, err := r.m.fsys.Read(r.m.ctx, vfs.Handle(in.Fh), buf, int64(in.Offset))
	if err != nil && n == 0 {
		return nil, r.status("read", err)
	}
	return gofuse.ReadResultData(buf[:n]), gofuse.OK
}

func (r *raw) Write(cancel <-chan struct{}, in *gofuse.WriteIn, data []byte) (uint32, gofuse.Status) {
	if r.readOnly() {
		return 0, gofuse.EROFS
	}
	n, err := r.m.fsys.Write(r.m.ctx, vfs.Handle(in.Fh), data, int64(in.Offset))
	if err != nil && n == 0 {
		return 0, r.status("write", err)
	}
	settle(r.m.notes)
	return uint32(n), gofuse.OK
}

func (r *raw) Flush(cancel <-chan struct{}, in *gofuse.FlushIn) gofuse.Status {
	err := r.m.fsys.Flush(r.m.ctx, vfs.Handle(in.Fh))
	// The kernel sends no unlock when a process closes a file or dies: its
	// POSIX locks on the file go with the FLUSH of each close.
	r.m.opts.Locks.ReleasePOSIX(r.m.session, in.NodeId, in.LockOwner)
	return r.status("flush", err)
}

func (r *raw) Release(cancel <-chan struct{}, in *gofuse.ReleaseIn) {
	if in.ReleaseFlags&gofuse.FUSE_RELEASE_FLOCK_UNLOCK != 0 {
		r.m.opts.Locks.ReleaseFlock(r.m.session, in.NodeId, in.LockOwner)
	}
	if err := r.m.fsys.Release(r.m.ctx, vfs.Handle(in.Fh)); err != nil {
		r.m.errs.status("release", err)
	}
}

func (r *raw) Fsync(cancel <-chan struct{}, in *gofuse.FsyncIn) gofuse.Status {
	return r.status("fsync", r.m.fsys.Fsync(r.m.ctx, vfs.Handle(in.Fh)))
}

func (r *raw) Fallocate(cancel <-chan struct{}, in *gofuse.FallocateIn) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	err := r.m.fsys.Fallocate(r.m.ctx, vfs.Handle(in.Fh), int64(in.Offset), int64(in.Length), in.Mode)
	return r.modified("fallocate", err)
}

func (r *raw) OpenDir(cancel <-chan struct{}, in *gofuse.OpenIn, out *gofuse.OpenOut) gofuse.Status {
	h, err := r.m.fsys.OpenDir(r.m.ctx, r.caller(&in.InHeader), ino(&in.InHeader))
	if err != nil {
		return r.status("opendir", err)
	}
	out.Fh = uint64(h)
	return gofuse.OK
}

func (r *raw) ReadDir(cancel <-chan struct{}, in *gofuse.ReadIn, out *gofuse.DirEntryList) gofuse.Status {
	err := r.m.fsys.ReadDir(r.m.ctx, vfs.Handle(in.Fh), in.Offset, func(e vfs.DirEntry) bool {
		return out.AddDirEntry(gofuse.DirEntry{Name: e.Name, Ino: uint64(e.Ino), Mode: e.Mode, Off: e.Cookie})
	})
	return r.status("readdir", err)
}

// direntPlusSize estimates the bytes one READDIRPLUS entry takes: an
// EntryOut, a dirent header and the padded name.
func direntPlusSize(name string) int { return 128 + 24 + (len(name)+7)&^7 }

func (r *raw) ReadDirPlus(cancel <-chan struct{}, in *gofuse.ReadIn, out *gofuse.DirEntryList) gofuse.Status {
	// Collect first: ReadDir runs fn inside a metadata transaction, which
	// must not call back into the file system.
	var ents []vfs.DirEntry
	budget := int(in.Size)
	err := r.m.fsys.ReadDir(r.m.ctx, vfs.Handle(in.Fh), in.Offset, func(e vfs.DirEntry) bool {
		budget -= direntPlusSize(e.Name)
		if budget < 0 && len(ents) > 0 {
			return false
		}
		ents = append(ents, e)
		return true
	})
	if err != nil {
		return r.status("readdirplus", err)
	}
	for _, e := range ents {
		eo := out.AddDirLookupEntry(gofuse.DirEntry{Name: e.Name, Ino: uint64(e.Ino), Mode: e.Mode, Off: e.Cookie})
		if eo == nil {
			break
		}
		if e.Name == "." || e.Name == ".." {
			continue // a zero EntryOut: the kernel takes no reference
		}
		a, err := r.m.fsys.GetAttr(r.m.ctx, r.caller(&in.InHeader), e.Ino)
		if err != nil {
			continue // gone meanwhile: the name only
		}
		out.FixMode(a.Mode)
		r.entry(a, eo)
	}
	return gofuse.OK
}

func (r *raw) ReleaseDir(in *gofuse.ReleaseIn) {
	if err := r.m.fsys.ReleaseDir(r.m.ctx, vfs.Handle(in.Fh)); err != nil {
		r.m.errs.status("releasedir", err)
	}
}

func (r *raw) FsyncDir(cancel <-chan struct{}, in *gofuse.FsyncIn) gofuse.Status { return gofuse.OK }

func (r *raw) StatFs(cancel <-chan struct{}, h *gofuse.InHeader, out *gofuse.StatfsOut) gofuse.Status {
	s, err := r.m.fsys.StatFS(r.m.ctx, r.caller(h))
	if err != nil {
		return r.status("statfs", err)
	}
	*out = gofuse.StatfsOut{Blocks: s.Blocks, Bfree: s.Bfree, Bavail: s.Bavail, Files: s.Files, Ffree: s.Ffree,
		Bsize: s.Bsize, NameLen: s.NameLen, Frsize: s.Frsize}
	return gofuse.OK
}

func (r *raw) GetXAttr(cancel <-chan struct{}, h *gofuse.InHeader, name string, dest []byte) (uint32, gofuse.Status) {
	v, err := r.m.fsys.GetXattr(r.m.ctx, r.caller(h), ino(h), name)
	if err != nil {
		return 0, r.status("getxattr", err)
	}
	return sized(v, dest)
}

// sized answers an xattr read: the size alone for a zero-length buffer,
// ERANGE with the size if it is too small.
func sized(v, dest []byte) (uint32, gofuse.Status) {
	if len(dest) == 0 {
		return uint32(len(v)), gofuse.OK
	}
	if len(dest) < len(v) {
		return uint32(len(v)), gofuse.ERANGE
	}
	return uint32(copy(dest, v)), gofuse.OK
}

func (r *raw) ListXAttr(cancel <-chan struct{}, h *gofuse.InHeader, dest []byte) (uint32, gofuse.Status) {
	names, err := r.m.fsys.ListXattr(r.m.ctx, r.caller(h), ino(h))
	if err != nil {
		return 0, r.status("listxattr", err)
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
	}
	return sized([]byte(b.String()), dest)
}

func (r *raw) SetXAttr(cancel <-chan struct{}, in *gofuse.SetXAttrIn, name string, data []byte) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	return r.modified("setxattr", r.m.fsys.SetXattr(r.m.ctx, r.caller(&in.InHeader), ino(&in.InHeader), name, data, int(in.Flags)))
}

func (r *raw) RemoveXAttr(cancel <-chan struct{}, h *gofuse.InHeader, name string) gofuse.Status {
	if r.readOnly() {
		return gofuse.EROFS
	}
	return r.modified("removexattr", r.m.fsys.RemoveXattr(r.m.ctx, r.caller(h), ino(h), name))
}
