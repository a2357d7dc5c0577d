package accesspoint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"tarn.dev/tarn/internal/vfs"
)

// CreationInfo is how a missing access point root directory is created.
// Perm is the exact permission bits (up to 0o7777), applied without umask.
type CreationInfo struct {
	OwnerUID uint32
	OwnerGID uint32
	Perm     uint32
}

// MaxPathComponents and MaxPathLen bound an access point root path, as EFS
// does.
const (
	MaxPathComponents = 4
	MaxPathLen        = 100
)

// intermediateMode is the mode of missing parent directories that
// EnsureRoot creates on the way to the root. They are owned like the root
// (CreationInfo's owner) but searchable by everyone, so that the root's own
// mode alone decides who gets in, and access points that share a parent do
// not lock each other out.
const intermediateMode = 0o755

// EnsureRoot finds the directory path ("/" or up to four components) of
// fsys, walking from vfs.RootIno as the superuser, and returns its inode.
// Missing directories are created when info is given: the last one owned by
// info's owner with exactly info.Perm, the ones above it with the same owner
// and mode 0755; existing directories keep their owner and mode. A missing
// directory without info fails with an error wrapping fs.ErrNotExist.
//
// Each directory is created under a temporary name, given its owner and
// mode, and renamed into place without replacing, so that it never appears
// with the wrong owner or mode and concurrent calls create it exactly once.
// A crash in between can leave an empty ".tarn-ap-*" directory next to it.
//
// If user is not nil, it is the identity clients of the access point run as
// (after root squashing), and it must be able to search the root directory:
// otherwise EnsureRoot fails with an error wrapping fs.ErrPermission, as an
// EFS mount does.
func EnsureRoot(ctx context.Context, fsys vfs.FileSystem, path string, info *CreationInfo, user *User) (vfs.Ino, error) {
	names, err := splitPath(path)
	if err != nil {
		return 0, err
	}
	if info != nil && info.Perm&^vfs.ModePerm != 0 {
		return 0, fmt.Errorf("access point root directory %s: permissions %#o: %w", path, info.Perm, vfs.ErrInvalid)
	}
	ino := vfs.RootIno
	for i, name := range names {
		here := "/" + strings.Join(names[:i+1], "/")
		attr, err := fsys.Lookup(ctx, vfs.Root, ino, name)
		if errors.Is(err, fs.ErrNotExist) {
			if info == nil {
				return 0, fmt.Errorf("access point root directory %s does not exist and has no CreationInfo: %w",
					path, fs.ErrNotExist)
			}
			mode := uint32(intermediateMode)
			if i == len(names)-1 {
				mode = info.Perm
			}
			attr, err = mkdirAs(ctx, fsys, ino, name, info.OwnerUID, info.OwnerGID, mode)
		}
		if err != nil {
			return 0, fmt.Errorf("access point root directory %s: %s: %w", path, here, err)
		}
		if !attr.IsDir() {
			return 0, fmt.Errorf("access point root directory %s: %s is not a directory: %w", path, here, vfs.ErrNotDir)
		}
		ino = attr.Ino
	}
	if user != nil {
		c := vfs.Caller{UID: user.UID, GID: user.GID, Groups: user.Groups}
		if err := fsys.Access(ctx, c, ino, vfs.MayExec); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return 0, fmt.Errorf("access point root directory %s: user %d:%d may not search it: %w",
					path, user.UID, user.GID, fs.ErrPermission)
			}
			return 0, fmt.Errorf("access point root directory %s: %w", path, err)
		}
	}
	return ino, nil
}

// mkdirAs creates directory name in parent owned by uid:gid with exactly
// mode, or returns the entry that a concurrent call created first.
func mkdirAs(ctx context.Context, fsys vfs.FileSystem, parent vfs.Ino, name string, uid, gid, mode uint32) (vfs.Attr, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".tarn-ap-" + hex.EncodeToString(rnd[:])
	d, err := fsys.Mkdir(ctx, vfs.Root, parent, tmp, 0o700, 0)
	if err != nil {
		return vfs.Attr{}, err
	}
	_, err = fsys.SetAttr(ctx, vfs.Root, d.Ino, vfs.SetAttrIn{Mode: &mode, UID: &uid, GID: &gid})
	if err == nil {
		err = fsys.Rename(ctx, vfs.Root, parent, tmp, parent, name, vfs.RenameNoReplace)
		if errors.Is(err, fs.ErrExist) {
			err = nil // created meanwhile: use that one
		}
	}
	if rerr := fsys.Rmdir(ctx, vfs.Root, parent, tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
		err = rerr
	}
	if err != nil {
		return vfs.Attr{}, err
	}
	return fsys.Lookup(ctx, vfs.Root, parent, name)
}

// splitPath validates an access point root path as EFS does and returns
// its components.
func splitPath(path string) ([]string, error) {
	bad := func(why string) error {
		return fmt.Errorf("access point root directory %q: %s: %w", path, why, vfs.ErrInvalid)
	}
	if path == "/" {
		return nil, nil
	}
	if !strings.HasPrefix(path, "/") {
		return nil, bad("not absolute")
	}
	if len(path) > MaxPathLen {
		return nil, bad("longer than 100 characters")
	}
	names := strings.Split(path[1:], "/")
	if len(names) > MaxPathComponents {
		return nil, bad("more than 4 components")
	}
	for _, n := range names {
		switch {
		case n == "":
			return nil, bad("empty component")
		case n[0] == '.':
			return nil, bad("component starts with a dot")
		case strings.ContainsAny(n, "$#<>;`|&?{}^*\n\x00"):
			return nil, bad("forbidden character")
		case len(n) > vfs.MaxNameLen:
			return nil, bad("component too long")
		}
	}
	return names, nil
}
