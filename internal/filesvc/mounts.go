package filesvc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"tarn.dev/tarn/internal/accesspoint"
	"tarn.dev/tarn/internal/fuse"
	"tarn.dev/tarn/internal/store"
	"tarn.dev/tarn/internal/vfs"
)

// MountInfo describes a local mount.
type MountInfo struct {
	FileSystemID  string
	AccessPointID string // "" for a mount of the whole file system
	MountPoint    string
	ReadOnly      bool
	SquashRoot    bool
	Mounted       time.Time
}

// MountOptions says how to mount: through an access point or not, and with
// what the caller's IAM permissions allow (no ClientWrite: read-only; no
// ClientRootAccess: root squashed).
type MountOptions struct {
	ReadOnly    bool
	SquashRoot  bool
	AccessPoint *AccessPoint
}

// AccessPoint is what a mount needs to know of an access point.
type AccessPoint struct {
	ID           string
	PosixUser    *accesspoint.User         // nil: the caller's identity is trusted
	Path         string                    // root directory, "/" for the whole file system
	CreationInfo *accesspoint.CreationInfo // nil: the root must exist
}

type localMount struct {
	info  MountInfo
	mount *fuse.Server
}

// Mount mounts file system fsID at mountpoint on this host, served by this
// process. The mount point must be an existing directory.
func (s *Service) Mount(ctx context.Context, fsID, mountpoint string, readOnly bool) (MountInfo, error) {
	return s.MountWith(ctx, fsID, mountpoint, MountOptions{ReadOnly: readOnly})
}

// MountWith mounts file system fsID at mountpoint with opts. Through an
// access point, the access point's root directory is created first if it is
// missing and has CreationInfo (concurrent first mounts create it once), and
// every request runs as the access point's user, confined to its root.
func (s *Service) MountWith(ctx context.Context, fsID, mountpoint string, opts MountOptions) (MountInfo, error) {
	if !validFSID(fsID) {
		return MountInfo{}, fmt.Errorf("mount: %q is not a file system id", fsID)
	}
	mp, err := filepath.Abs(mountpoint)
	if err != nil {
		return MountInfo{}, fmt.Errorf("mount %s: %w", mountpoint, err)
	}
	st, err := os.Stat(mp)
	if err != nil {
		return MountInfo{}, fmt.Errorf("mount point: %w", err)
	}
	if !st.IsDir() {
		return MountInfo{}, fmt.Errorf("mount point %s is not a directory", mp)
	}
	f, err := s.FileSystem(ctx, fsID)
	if err != nil {
		return MountInfo{}, err
	}
	s.mu.Lock()
	if _, busy := s.mounts[mp]; busy {
		s.mu.Unlock()
		return MountInfo{}, fmt.Errorf("mount point %s is already a tarn mount", mp)
	}
	s.mu.Unlock()
	var fsys vfs.FileSystem = f
	watch := f.Watch
	fopts := fuse.Options{Locks: s.locks, ReadOnly: opts.ReadOnly, FSName: "tarn:" + fsID, Log: s.cfg.Log}
	info := MountInfo{FileSystemID: fsID, MountPoint: mp, ReadOnly: opts.ReadOnly, SquashRoot: opts.SquashRoot}
	if ap := opts.AccessPoint; ap != nil || opts.SquashRoot || opts.ReadOnly {
		cfg := accesspoint.Config{SquashRoot: opts.SquashRoot, ReadOnly: opts.ReadOnly}
		if ap != nil {
			info.AccessPointID = ap.ID
			fopts.FSName = "tarn:" + fsID + ":" + ap.ID
			user := ap.PosixUser
			if user != nil && opts.SquashRoot && user.UID == 0 {
				user = &accesspoint.User{UID: accesspoint.NobodyID, GID: accesspoint.NobodyID}
			}
			root, err := accesspoint.EnsureRoot(ctx, f, ap.Path, ap.CreationInfo, user)
			if err != nil {
				return MountInfo{}, fmt.Errorf("mount %s through access point %s: %w", fsID, ap.ID, err)
			}
			cfg.PosixUser, cfg.Root = ap.PosixUser, root
			if ap.PosixUser != nil {
				// Every caller acts as the same user, so the kernel must not
				// check permissions with the caller's own ids; names it has
				// cached are safe to reuse, since all callers share one identity.
				fopts.ServerPermissions = true
				ttl := fuse.DefaultTimeout
				fopts.EntryTimeout = &ttl
			}
		}
		view, err := accesspoint.Wrap(f, cfg)
		if err != nil {
			return MountInfo{}, fmt.Errorf("mount %s: %w", fsID, err)
		}
		fsys, watch = view, view.Watch
	}
	m, err := fuse.Mount(fsys, watch, mp, fopts)
	if err != nil {
		return MountInfo{}, fmt.Errorf("mount %s at %s: %w", fsID, mp, err)
	}
	info.Mounted = time.Now()
	s.mu.Lock()
	s.mounts[mp] = &localMount{info: info, mount: m}
	s.mu.Unlock()
	s.cfg.Log.Info("mounted", "fs", fsID, "access_point", info.AccessPointID, "at", mp, "read_only", opts.ReadOnly,
		"squash_root", opts.SquashRoot)
	return info, nil
}

// Unmount unmounts the local mount at mountpoint.
func (s *Service) Unmount(mountpoint string) error {
	mp, err := filepath.Abs(mountpoint)
	if err != nil {
		return fmt.Errorf("unmount %s: %w", mountpoint, err)
	}
	s.mu.Lock()
	m, ok := s.mounts[mp]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("unmount %s: %w", mp, ErrNotMounted)
	}
	if err := m.mount.Unmount(); err != nil {
		return fmt.Errorf("unmount %s: %w", mp, err)
	}
	s.mu.Lock()
	delete(s.mounts, mp)
	s.mu.Unlock()
	s.cfg.Log.Info("unmounted", "fs", m.info.FileSystemID, "at", mp)
	return nil
}

// ErrNotMounted: no tarn mount at that path.
var ErrNotMounted = fmt.Errorf("not a tarn mount")

// Mounts lists the local mounts by mount point.
func (s *Service) Mounts() []MountInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MountInfo, 0, len(s.mounts))
	for _, m := range s.mounts {
		out = append(out, m.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MountPoint < out[j].MountPoint })
	return out
}

// AccessPointOf converts an access point record of the control plane.
func AccessPointOf(ap store.AccessPoint) *AccessPoint {
	out := &AccessPoint{ID: ap.ID, Path: ap.RootPath}
	if pu := ap.PosixUser; pu != nil {
		out.PosixUser = &accesspoint.User{UID: pu.UID, GID: pu.GID, Groups: pu.SecondaryGIDs}
	}
	if ci := ap.CreationInfo; ci != nil {
		perm, _ := strconv.ParseUint(ci.Permissions, 8, 32) // validated at CreateAccessPoint
		out.CreationInfo = &accesspoint.CreationInfo{OwnerUID: ci.OwnerUID, OwnerGID: ci.OwnerGID, Perm: uint32(perm)}
	}
	return out
}
