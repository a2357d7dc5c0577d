package accesspoint

import (
	"errors"
	"sync"

	"tarn.dev/tarn/internal/vfs"
)

// NobodyID is the uid and gid a squashed superuser acts as.
const NobodyID = 65534

// User is a POSIX identity: the PosixUser of an access point.
type User struct {
	UID    uint32
	GID    uint32
	Groups []uint32 // secondary groups
}

// Config says how a view restricts the file system. The zero value is the
// whole file system with the callers' own identities, unrestricted.
type Config struct {
	// PosixUser, if set, is the identity every request runs as, whatever
	// the caller's; nil trusts the caller's identity.
	PosixUser *User
	// Root is the core inode presented as vfs.RootIno; the view never
	// reaches outside the tree beneath it. Zero means vfs.RootIno.
	Root vfs.Ino
	// SquashRoot maps the superuser (uid 0, whether the caller's or the
	// PosixUser's) to NobodyID:NobodyID, as without ClientRootAccess.
	SquashRoot bool
	// ReadOnly refuses every modifying operation with vfs.ErrReadOnly, as
	// without ClientWrite.
	ReadOnly bool
}

// FS is a restricted view of a file system; see the package documentation.
// It is safe for concurrent use.
type FS struct {
	fsys     vfs.FileSystem
	root     vfs.Ino // core inode presented as vfs.RootIno
	confined bool    // root is not the core's root: translate and confine
	readOnly bool
	squash   bool
	user     *vfs.Caller // fixed identity, if any (PID filled per request)

	// known holds the core inode numbers handed out by this view, other
	// than the root: only they are accepted back.
	known inoSet
	// dirs maps directory handles opened through a confined view to the
	// core inode they read, so that ReadDir can re-root "." and "..".
	dirs sync.Map
}

var _ vfs.FileSystem = (*FS)(nil)

// Wrap returns a view of fsys restricted by cfg. Root must be a directory
// of fsys (EnsureRoot finds or creates it); Wrap does no I/O and does not
// check it.
func Wrap(fsys vfs.FileSystem, cfg Config) (*FS, error) {
	if fsys == nil {
		return nil, errors.New("access point: no file system")
	}
	root := cfg.Root
	if root == 0 {
		root = vfs.RootIno
	}
	a := &FS{fsys: fsys, root: root, confined: root != vfs.RootIno, readOnly: cfg.ReadOnly, squash: cfg.SquashRoot}
	if u := cfg.PosixUser; u != nil {
		c := vfs.Caller{UID: u.UID, GID: u.GID, Groups: append([]uint32(nil), u.Groups...)}
		if a.squash {
			c = squash(c)
		}
		a.user = &c
	}
	return a, nil
}

// squash maps the superuser's ids, and gid 0 wherever it appears, to
// NobodyID, as root_squash does on an NFS server.
func squash(c vfs.Caller) vfs.Caller {
	if c.UID == 0 {
		return vfs.Caller{UID: NobodyID, GID: NobodyID, PID: c.PID}
	}
	if c.GID == 0 {
		c.GID = NobodyID
	}
	for i, g := range c.Groups {
		if g == 0 {
			groups := append([]uint32(nil), c.Groups...)
			for j := i; j < len(groups); j++ {
				if groups[j] == 0 {
					groups[j] = NobodyID
				}
			}
			c.Groups = groups
			break
		}
	}
	return c
}

// Identity returns the identity a request from c runs as.
func (a *FS) Identity(c vfs.Caller) vfs.Caller {
	if a.user != nil {
		u := *a.user
		u.PID = c.PID
		return u
	}
	if a.squash {
		return squash(c)
	}
	return c
}

// in maps an inode number the client gave to the core's, refusing numbers
// this view never handed out.
func (a *FS) in(op string, ino vfs.Ino) (vfs.Ino, error) {
	if !a.confined {
		return ino, nil
	}
	if ino == vfs.RootIno {
		return a.root, nil
	}
	if ino != a.root { // the root is only ever presented as vfs.RootIno
		if a.known.has(ino) {
			return ino, nil
		}
	}
	return 0, &vfs.Error{Op: op, Ino: ino, Err: vfs.ErrStale}
}

// knownOrRoot reports whether the core inode ino may be presented.
func (a *FS) knownOrRoot(ino vfs.Ino) bool {
	if ino == a.root {
		return true
	}
	return ino != vfs.RootIno && a.known.has(ino)
}

// out maps a core inode number to the one presented.
func (a *FS) out(ino vfs.Ino) vfs.Ino {
	if a.confined && ino == a.root {
		return vfs.RootIno
	}
	return ino
}

// hand records that the core inode of attr is handed out beneath the root
// and returns attr as presented.
func (a *FS) hand(attr vfs.Attr) vfs.Attr {
	if !a.confined {
		return attr
	}
	if attr.Ino == a.root {
		attr.Ino = vfs.RootIno
		return attr
	}
	a.learn(attr.Ino)
	return attr
}

func (a *FS) learn(ino vfs.Ino) { a.known.add(ino) }

func (a *FS) present(attr vfs.Attr) vfs.Attr {
	attr.Ino = a.out(attr.Ino)
	return attr
}

func readOnlyErr(op string, ino vfs.Ino, name string) error {
	return &vfs.Error{Op: op, Ino: ino, Name: name, Err: vfs.ErrReadOnly}
}

// Watch registers fn for the changes of fsys that concern this view, with
// inode numbers as presented; fsys must have a Watch method like vfs.FS's,
// otherwise no change is ever reported. Changes to inodes this view never
// handed out are dropped.
func (a *FS) Watch(fn func(vfs.Change)) (cancel func()) {
	w, ok := a.fsys.(interface {
		Watch(func(vfs.Change)) func()
	})
	if !ok {
		return func() {}
	}
	if !a.confined {
		return w.Watch(fn)
	}
	return w.Watch(func(ch vfs.Change) {
		switch ch.Kind {
		case vfs.ChangeEntry:
			if !a.knownOrRoot(ch.Parent) {
				return
			}
			ch.Parent = a.out(ch.Parent)
			ch.Ino = a.out(ch.Ino)
		default:
			if !a.knownOrRoot(ch.Ino) {
				return
			}
			ch.Ino = a.out(ch.Ino)
		}
		fn(ch)
	})
}

// Known reports how many inode numbers the view has handed out and will
// accept back.
func (a *FS) Known() int {
	return a.known.len()
}
