// Package apbench measures what an access point costs: one Tarn file system
// is mounted by this process whole and through an access point (PosixUser
// 1001:1001, root /ap), and the same metadata workload runs through both in
// one run. It prints each mount's rates and the access point's overhead,
// its time per operation over the plain mount's minus one. The target is an
// overhead under 10% on create and stat.
//
// The machine is shared and its load drifts, so the work is split into
// batches that alternate between the two mounts in ABBA order (plain, AP,
// AP, plain, …): drift that is linear over four batches cancels, and load
// spikes fall on both alike. Rates and overheads are over every file of
// every batch. The overhead is the median of the batches' overheads (each
// access point batch against the plain batch next to it), which a load
// spike in one batch does not move; beside it are their quartiles and the
// overhead of the totals.
// Only one of the mounts exists at a time (each batch mounts and unmounts),
// so that neither pays for invalidating the other's kernel caches when the
// other creates files.
//
// Stat is measured twice: right after the creates, when the kernel answers
// from its caches (both mounts cache names and attributes for an hour), and
// after dropping the kernel's dentry and inode caches, when every stat is a
// LOOKUP through the access point's decorator. The latter is the one the
// target is about.
//
// Create usually comes out faster through the access point. Its mount
// leaves permission checks to the server (every caller acts as the access
// point's user), while the plain mount's kernel checks them itself and,
// since each create invalidates the directory's cached attributes, sends a
// GETATTR of the directory to do so; that is a mount option's effect, not
// the decorator's.
package apbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"tarn.dev/tarn/internal/accesspoint"
	"tarn.dev/tarn/internal/blob/disk"
	"tarn.dev/tarn/internal/filesvc"
	"tarn.dev/tarn/internal/meta/sqlmeta"
)

// Sizes of the workload.
type Sizes struct {
	Files   int // files created and stat'ed through each mount
	Batches int // batches per mount the files are split into, a multiple of 2
}

// DefaultSizes is the workload: 10,000 files through each mount, in
// batches of 500.
var DefaultSizes = Sizes{Files: 10000, Batches: 20}

// statRepeats is how many times each batch stats its files, cached and
// uncached.
const statRepeats = 3

// TargetOverhead is the largest overhead the access point may add.
const TargetOverhead = 0.10

const (
	fsID = "fs-0000000000000a9b0"
	apID = "fsap-0000000000000a9b0"
)

// metric is one measured operation.
type metric struct {
	key, label string
	target     bool // held to TargetOverhead
}

var metrics = []metric{
	{"create", "create (open O_CREAT|O_EXCL + close)", true},
	{"stat", "stat, kernel caches dropped (LOOKUP)", true},
	{"statcached", "stat right after create (kernel cache)", false},
}

// mount is one of the two ways to mount the file system and where its
// batches put their files.
type mount struct {
	name string
	mp   string
	opts filesvc.MountOptions
	sub  string // directory of the mount in which batches make theirs
}

// times holds the time each metric took in one batch.
type times map[string]time.Duration

// Run runs the benchmark with DefaultSizes and prints its figures.
func Run(ctx context.Context) error { return RunSizes(ctx, DefaultSizes) }

// RunSizes is Run with chosen sizes.
func RunSizes(ctx context.Context, sz Sizes) error {
	if os.Geteuid() != 0 {
		return errors.New("the access point benchmark mounts FUSE file systems: run it as root")
	}
	if sz.Batches < 2 || sz.Batches%2 != 0 || sz.Files < sz.Batches {
		return fmt.Errorf("sizes %+v: want an even number of batches and at least one file per batch", sz)
	}
	base, err := os.MkdirTemp("/var/tmp", "tarn-apbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)
	data, plainMP, apMP := filepath.Join(base, "data"), filepath.Join(base, "plain"), filepath.Join(base, "ap")
	for _, d := range []string{data, plainMP, apMP} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	db, err := sqlmeta.OpenSQLite(filepath.Join(data, "tarn.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	blocks, err := disk.Open(filepath.Join(data, "blocks"), disk.Options{})
	if err != nil {
		return err
	}
	defer blocks.Close()
	files := filesvc.New(filesvc.Config{DB: db, Blobs: blocks, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer files.Close()

	ap := &filesvc.AccessPoint{
		ID:           apID,
		PosixUser:    &accesspoint.User{UID: 1001, GID: 1001},
		Path:         "/ap",
		CreationInfo: &accesspoint.CreationInfo{OwnerUID: 1001, OwnerGID: 1001, Perm: 0o755},
	}
	// The plain mount's files go to /plain, at the same depth as /ap's.
	plain := mount{name: "plain mount", mp: plainMP, sub: "plain"}
	viaAP := mount{name: "access point", mp: apMP, opts: filesvc.MountOptions{AccessPoint: ap}}
	if err := withMount(ctx, files, plain, func(dir string) error { return os.Mkdir(dir, 0o755) }); err != nil {
		return err
	}

	// ABBA: batch pair i runs plain first when i is even.
	per := sz.Files / sz.Batches
	var plainTimes, apTimes []times
	for i := range sz.Batches {
		order := []mount{plain, viaAP}
		if i%2 == 1 {
			order = []mount{viaAP, plain}
		}
		fmt.Fprintf(os.Stderr, "apbench: batch %d/%d, %d files through each mount\n", i+1, sz.Batches, per)
		for _, m := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			var got times
			err := withMount(ctx, files, m, func(dir string) (err error) {
				got, err = batch(filepath.Join(dir, fmt.Sprintf("b%d", i)), per)
				return err
			})
			if err != nil {
				return fmt.Errorf("%s, batch %d: %w", m.name, i+1, err)
			}
			if m.name == plain.name {
				plainTimes = append(plainTimes, got)
			} else {
				apTimes = append(apTimes, got)
			}
		}
	}

	n := per * sz.Batches
	fmt.Printf("access point: one file system mounted whole and through an access point (uid 1001, root /ap); "+
		"%d files through each, in %d batches alternating ABBA\n", n, sz.Batches)
	fmt.Printf("  %-40s %12s %12s %9s  %-13s  %s\n", "operation (files/s)", "plain mount", "access point", "overhead", "target",
		"quartile / overall / quartile")
	for _, m := range metrics {
		var pt, at time.Duration
		ratios := make([]float64, sz.Batches)
		for i := range sz.Batches {
			pt += plainTimes[i][m.key]
			at += apTimes[i][m.key]
			ratios[i] = float64(apTimes[i][m.key])/float64(plainTimes[i][m.key]) - 1
		}
		sort.Float64s(ratios)
		overhead := ratios[len(ratios)/2]
		target := "-"
		if m.target {
			target = fmt.Sprintf("< %.0f%%", TargetOverhead*100)
			if overhead >= TargetOverhead {
				target += " MISSED"
			}
		}
		ops := float64(n)
		if m.key != "create" {
			ops *= statRepeats
		}
		fmt.Printf("  %-40s %12.0f %12.0f %8.1f%%  %-13s  %+.1f%% / %+.1f%% / %+.1f%%\n", m.label,
			ops/pt.Seconds(), ops/at.Seconds(), overhead*100, target,
			ratios[len(ratios)/4]*100, (float64(at)/float64(pt)-1)*100, ratios[len(ratios)*3/4]*100)
	}
	return nil
}

// withMount mounts m, runs fn with the directory for m's batches and
// unmounts.
func withMount(ctx context.Context, files *filesvc.Service, m mount, fn func(dir string) error) error {
	if _, err := files.MountWith(ctx, fsID, m.mp, m.opts); err != nil {
		return err
	}
	err := fn(filepath.Join(m.mp, m.sub))
	if uerr := files.Unmount(m.mp); uerr != nil && err == nil {
		err = uerr
	}
	return err
}

// batch creates n files in a new directory dir, stats them statRepeats
// times while cached and statRepeats times after dropping the kernel's
// caches, and removes them (untimed), returning how long each timed part
// took in all.
func batch(dir string, n int) (times, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, n)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("f%06d", i))
	}
	out := times{}
	start := time.Now()
	for _, p := range paths {
		fd, err := unix.Open(p, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, err
		}
		unix.Close(fd)
	}
	out["create"] = time.Since(start)
	var st unix.Stat_t
	stat := func() (time.Duration, error) {
		start := time.Now()
		for _, p := range paths {
			if err := unix.Stat(p, &st); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	// Stats are quick: each is repeated so that a load spike weighs less.
	for range statRepeats {
		d, err := stat()
		if err != nil {
			return nil, err
		}
		out["statcached"] += d
	}
	for range statRepeats {
		if err := dropCaches(); err != nil {
			return nil, err
		}
		d, err := stat()
		if err != nil {
			return nil, err
		}
		out["stat"] += d
	}
	for _, p := range paths {
		if err := unix.Unlink(p); err != nil {
			return nil, err
		}
	}
	return out, os.Remove(dir)
}

// dropCaches makes the kernel forget unused dentries and inodes, so that the
// next stat of each file reaches the file system.
func dropCaches() error {
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("2"), 0); err != nil {
		return fmt.Errorf("drop kernel caches: %w", err)
	}
	return nil
}
