// Package filesvc is Tarn's file service on one server: it opens the file
// systems (a vfs core over the shared metadata database and block store),
// keeps the one lock table every client shares, serves local FUSE mounts,
// and reports metered sizes to the control plane.
//
// All local mounts of a file system are served by this one process through
// the same vfs.FS, which is what gives them shared locks and read-after-write
// consistency.
package filesvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/lock"
	"tarn.dev/tarn/internal/meta"
	"tarn.dev/tarn/internal/meta/sqlmeta"
	"tarn.dev/tarn/internal/vfs"
)

// Config configures the service. DB and Blobs are required.
type Config struct {
	DB    *sqlmeta.DB
	Blobs blob.Store
	// VFS is the template of options for every file system; ID is set per
	// file system.
	VFS vfs.Options
	// Sync, if set, makes blocks and metadata durable; it becomes every
	// file system's vfs.Options.Sync (see there), so that Blobs may defer
	// its own syncs.
	Sync func(ctx context.Context) error
	Log  *slog.Logger
}

// Service manages the file systems of this server.
type Service struct {
	cfg   Config
	locks *lock.Table

	mu     sync.Mutex
	stores map[string]*sqlmeta.Store
	open   map[string]*vfs.FS
	mounts map[string]*localMount // by mount point
	closed bool
}

// New returns a service; file systems are opened on first use.
func New(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.VFS.Logger == nil {
		cfg.VFS.Logger = cfg.Log
	}
	if cfg.Sync != nil {
		cfg.VFS.Sync = cfg.Sync
	}
	return &Service{cfg: cfg, locks: lock.New(lock.Config{}), stores: map[string]*sqlmeta.Store{},
		open: map[string]*vfs.FS{}, mounts: map[string]*localMount{}}
}

// Locks returns the lock table shared by every client of this server.
func (s *Service) Locks() *lock.Table { return s.locks }

// store returns the metadata store of a file system; s.mu must be held.
func (s *Service) store(ctx context.Context, fsID string) (*sqlmeta.Store, error) {
	if st, ok := s.stores[fsID]; ok {
		return st, nil
	}
	st, err := s.cfg.DB.Open(ctx, fsID)
	if err != nil {
		return nil, err
	}
	s.stores[fsID] = st
	return st, nil
}

// FileSystem returns the open file system fsID, opening it (and creating its
// root directory) on first use.
func (s *Service) FileSystem(ctx context.Context, fsID string) (*vfs.FS, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("file service is shut down")
	}
	if f, ok := s.open[fsID]; ok {
		return f, nil
	}
	st, err := s.store(ctx, fsID)
	if err != nil {
		return nil, err
	}
	opts := s.cfg.VFS
	opts.ID = fsID
	f, err := vfs.New(ctx, st, s.cfg.Blobs, opts)
	if err != nil {
		return nil, err
	}
	s.open[fsID] = f
	return f, nil
}

// ProvisionFileSystem creates the data side of a new file system: its
// metadata records and root directory.
func (s *Service) ProvisionFileSystem(ctx context.Context, fsID string) error {
	_, err := s.FileSystem(ctx, fsID)
	return err
}

// DestroyFileSystem unmounts a file system everywhere on this server, closes
// it and deletes its metadata and blocks.
func (s *Service) DestroyFileSystem(ctx context.Context, fsID string) error {
	for _, m := range s.Mounts() {
		if m.FileSystemID == fsID {
			if err := s.Unmount(m.MountPoint); err != nil {
				return fmt.Errorf("destroy %s: %w", fsID, err)
			}
		}
	}
	s.mu.Lock()
	f := s.open[fsID]
	delete(s.open, fsID)
	st, err := s.store(ctx, fsID)
	delete(s.stores, fsID)
	s.mu.Unlock()
	if f != nil {
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("destroy %s: %w", fsID, err)
	}
	if err := st.Destroy(ctx); err != nil {
		return fmt.Errorf("destroy %s metadata: %w", fsID, err)
	}
	prefix := "chunks/" + fsID + "/"
	var keys []string
	err = s.cfg.Blobs.List(ctx, prefix, func(key string, _ int64) error { keys = append(keys, key); return nil })
	for _, k := range keys {
		err = errors.Join(err, s.cfg.Blobs.Delete(ctx, k))
	}
	if err != nil {
		return fmt.Errorf("destroy %s blocks: %w", fsID, err)
	}
	return nil
}

// Usage returns the metered size of a file system as EFS meters it: each
// object counts 2 KiB of metadata plus its data rounded up to 4 KiB (a
// directory counts 4 KiB), so an empty file system is 6 KiB. File data is
// counted at its size here, not rounded per file.
func (s *Service) Usage(fsID string) (int64, bool) {
	ctx := context.Background()
	s.mu.Lock()
	st, err := s.store(ctx, fsID)
	s.mu.Unlock()
	if err != nil {
		return 0, false
	}
	var u meta.Usage
	if err := st.View(ctx, func(tx meta.Tx) (err error) { u, err = tx.Usage(); return err }); err != nil {
		return 0, false
	}
	return u.Inodes*(2<<10+4<<10) + u.Bytes, true
}

// Fsck checks (and with repair, fixes) a file system.
func (s *Service) Fsck(ctx context.Context, fsID string, repair bool) (vfs.Report, error) {
	f, err := s.FileSystem(ctx, fsID)
	if err != nil {
		return vfs.Report{}, err
	}
	return f.Fsck(ctx, repair)
}

// Close unmounts every local mount and closes every file system.
func (s *Service) Close() error {
	var errs []error
	for _, m := range s.Mounts() {
		errs = append(errs, s.Unmount(m.MountPoint))
	}
	s.mu.Lock()
	s.closed = true
	open := s.open
	s.open = map[string]*vfs.FS{}
	s.mu.Unlock()
	for id, f := range open {
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// validFSID reports whether id looks like a file-system id.
func validFSID(id string) bool {
	return strings.HasPrefix(id, "fs-") && len(id) >= 11 && len(id) <= 43
}
