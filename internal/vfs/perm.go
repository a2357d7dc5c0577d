package vfs

import (
	"strings"

	"tarn.dev/tarn/internal/meta"
)

// mayAccess applies the classic owner/group/other permission check, with the
// superuser bypass (which still needs one execute bit to execute a
// non-directory).
func mayAccess(in meta.Inode, c Caller, mask uint32) bool {
	mask &= 7
	if c.UID == 0 {
		if mask&MayExec != 0 && in.Mode&ModeType != ModeDir && in.Mode&0o111 == 0 {
			return false
		}
		return true
	}
	var bits uint32
	switch {
	case c.UID == in.UID:
		bits = in.Mode >> 6
	case c.member(in.GID):
		bits = in.Mode >> 3
	default:
		bits = in.Mode
	}
	return bits&mask == mask
}

func isOwner(in meta.Inode, c Caller) bool { return c.UID == 0 || c.UID == in.UID }

// stickyBlocks reports whether the sticky bit of dir forbids c to remove or
// rename victim.
func stickyBlocks(dir, victim meta.Inode, c Caller) bool {
	return dir.Mode&ModeSticky != 0 && c.UID != 0 && c.UID != dir.UID && c.UID != victim.UID
}

// checkName validates a name for a new entry.
func checkName(name string) error {
	switch {
	case name == "" || strings.ContainsAny(name, "/\x00"):
		return ErrInvalid
	case len(name) > MaxNameLen:
		return ErrNameTooLong
	}
	return nil
}

func isDir(in meta.Inode) bool { return in.Mode&ModeType == ModeDir }
