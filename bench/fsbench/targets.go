// Package fsbench measures Tarn's file system through a real FUSE mount,
// next to a plain directory on the same disk (the physical limit) and a
// minimal go-fuse loopback of that disk (the FUSE ceiling), in one run, and
// prints Tarn's ratio to the loopback.
package fsbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"tarn.dev/tarn/internal/blob/disk"
	"tarn.dev/tarn/internal/datadir"
	"tarn.dev/tarn/internal/filesvc"
	"tarn.dev/tarn/internal/meta/sqlmeta"
)

// target is a directory to measure and how to tear it down.
type target struct {
	name  string
	dir   string
	close func() error
}

// newLocal is a plain directory on the disk.
func newLocal(base string) (*target, error) {
	dir := filepath.Join(base, "local")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &target{name: "local disk", dir: dir, close: func() error { return nil }}, nil
}

// newLoopback mounts go-fuse's loopback file system over a directory of the
// disk, with passthrough off (as Tarn must run it) and locks forwarded.
func newLoopback(base string) (*target, error) {
	backing, mp := filepath.Join(base, "loop-backing"), filepath.Join(base, "loop-mnt")
	for _, d := range []string{backing, mp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	root, err := gofs.NewLoopbackRoot(backing)
	if err != nil {
		return nil, err
	}
	sec := time.Second
	srv, err := gofs.Mount(mp, root, &gofs.Options{
		EntryTimeout: &sec, AttrTimeout: &sec,
		MountOptions: gofuse.MountOptions{DirectMountStrict: true, AllowOther: true, EnableLocks: true,
			DisabledCapabilities: gofuse.CAP_PASSTHROUGH, FsName: "loopback", MaxWrite: 1 << 20},
	})
	if err != nil {
		return nil, fmt.Errorf("mount loopback: %w", err)
	}
	return &target{name: "go-fuse loopback", dir: mp, close: srv.Unmount}, nil
}

// newTarn mounts a fresh Tarn file system stored under base (SQLite
// metadata, blocks on the same disk), served by this process.
func newTarn(ctx context.Context, base string) (*target, error) {
	data, mp := filepath.Join(base, "tarn-data"), filepath.Join(base, "tarn-mnt")
	for _, d := range []string{data, mp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	db, err := sqlmeta.OpenSQLite(filepath.Join(data, "tarn.db"))
	if err != nil {
		return nil, err
	}
	// Configured as tarn server configures it: blocks written without their
	// own fsyncs, one sync of the data directory per fsync or close.
	blocks, err := disk.Open(filepath.Join(data, "blocks"), disk.Options{DeferSync: true})
	if err != nil {
		db.Close()
		return nil, err
	}
	dir := datadir.Dir{Path: data}
	sync := func(ctx context.Context) error { return errors.Join(blocks.Sync(ctx), dir.Sync()) }
	files := filesvc.New(filesvc.Config{DB: db, Blobs: blocks, Sync: sync, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	const fsID = "fs-00000000000bench"
	if _, err := files.Mount(ctx, fsID, mp, false); err != nil {
		files.Close()
		blocks.Close()
		db.Close()
		return nil, err
	}
	return &target{name: "tarn", dir: mp, close: func() error {
		err := files.Close()
		blocks.Close()
		db.Close()
		return err
	}}, nil
}
