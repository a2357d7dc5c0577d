package fuse

import (
	"syscall"

	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"tarn.dev/tarn/internal/lock"
)

// lockType converts an fcntl lock type.
func lockType(t uint32) lock.Type {
	switch t {
	case syscall.F_RDLCK:
		return lock.Read
	case syscall.F_WRLCK:
		return lock.Write
	}
	return lock.Unlock
}

func kernelType(t lock.Type) uint32 {
	switch t {
	case lock.Read:
		return syscall.F_RDLCK
	case lock.Write:
		return syscall.F_WRLCK
	}
	return syscall.F_UNLCK
}

// request builds a lock request from LK/SETLK/SETLKW. The pid the kernel
// puts in the lock is the one F_GETLK reports to other processes.
func (r *raw) request(in *gofuse.LkIn) lock.Request {
	pid := in.Lk.Pid
	if pid == 0 {
		pid = in.Pid
	}
	return lock.Request{
		Session: r.m.session, Ino: in.NodeId, Owner: in.Owner, PID: pid,
		Start: in.Lk.Start, End: lock.EndFromKernel(in.Lk.End), Type: lockType(in.Lk.Typ),
		Flock: in.LkFlags&gofuse.FUSE_LK_FLOCK != 0,
	}
}

func (r *raw) GetLk(cancel <-chan struct{}, in *gofuse.LkIn, out *gofuse.LkOut) gofuse.Status {
	held, err := r.m.opts.Locks.GetLk(r.request(in))
	if err != nil {
		return r.status("getlk", err)
	}
	if held.Type == lock.Unlock {
		out.Lk = gofuse.FileLock{Typ: syscall.F_UNLCK}
		return gofuse.OK
	}
	out.Lk = gofuse.FileLock{Start: held.Start, End: lock.EndToKernel(held.End), Typ: kernelType(held.Type), Pid: held.PID}
	return gofuse.OK
}

func (r *raw) SetLk(cancel <-chan struct{}, in *gofuse.LkIn) gofuse.Status {
	return r.status("setlk", r.m.opts.Locks.SetLk(r.request(in)))
}

// SetLkw waits for the lock; an interrupt (the waiting process got a
// signal or was killed) cancels the wait with EINTR.
func (r *raw) SetLkw(cancel <-chan struct{}, in *gofuse.LkIn) gofuse.Status {
	return r.status("setlkw", r.m.opts.Locks.SetLkw(reqCtx{cancel}, r.request(in)))
}
