package filesvc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"tarn.dev/tarn/internal/fuse"
)

// MountInfo describes a local mount.
type MountInfo struct {
	FileSystemID string
	MountPoint   string
	ReadOnly     bool
	Mounted      time.Time
}

type localMount struct {
	info  MountInfo
	mount *fuse.Server
}

// Mount mounts file system fsID at mountpoint on this host, served by this
// process. The mount point must be an existing empty directory.
func (s *Service) Mount(ctx context.Context, fsID, mountpoint string, readOnly bool) (MountInfo, error) {
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
	m, err := fuse.Mount(f, f.Watch, mp, fuse.Options{Locks: s.locks, ReadOnly: readOnly, FSName: "tarn:" + fsID,
		Log: s.cfg.Log})
	if err != nil {
		return MountInfo{}, fmt.Errorf("mount %s at %s: %w", fsID, mp, err)
	}
	info := MountInfo{FileSystemID: fsID, MountPoint: mp, ReadOnly: readOnly, Mounted: time.Now()}
	s.mu.Lock()
	s.mounts[mp] = &localMount{info: info, mount: m}
	s.mu.Unlock()
	s.cfg.Log.Info("mounted", "fs", fsID, "at", mp, "read_only", readOnly)
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
