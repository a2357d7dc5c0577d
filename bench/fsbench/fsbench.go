package fsbench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Sizes of the workloads; the defaults are the ones the targets are stated for.
type Sizes struct {
	SeqBytes  int64         // sequential write and read
	RandFile  int64         // file for random 4 KiB I/O
	RandTime  time.Duration // how long each random phase runs
	Files     int           // create / stat / unlink
	FlockTime time.Duration // flock round trips
	// Rounds is how many times the short workloads (create, stat,
	// unlink, flock) run; the median is reported, so that one stall of
	// the machine's disk does not decide the figure.
	Rounds int
}

// DefaultSizes are the workloads: 1 GiB, a 256 MiB file, 10,000 files.
var DefaultSizes = Sizes{SeqBytes: 1 << 30, RandFile: 256 << 20, RandTime: 3 * time.Second, Files: 10000, FlockTime: time.Second, Rounds: 3}

type figures map[string]float64

// metric describes how one figure is printed and judged.
type metric struct {
	key, label, unit string
	target           float64 // absolute target for Tarn (0: none)
	ratioTarget      float64 // Tarn / loopback target (0: none)
}

var metrics = []metric{
	{"seqwrite", "sequential write 1 MiB blocks + fdatasync", "MB/s", 0, 0.7},
	{"seqread", "cold sequential read 1 MiB blocks", "MB/s", 0, 0.7},
	{"randwrite", "4 KiB random writes (256 MiB file)", "IOPS", 4000, 0},
	{"randread", "4 KiB random reads (256 MiB file)", "IOPS", 0, 0},
	{"create", "create", "files/s", 4000, 0},
	{"stat", "stat", "files/s", 50000, 0},
	{"unlink", "unlink", "files/s", 4000, 0},
	{"missing", "stat of missing names, twice each (module search)", "/s", 0, 0},
	{"flock", "flock lock+unlock round trips", "/s", 10000, 0},
}

// Run mounts the three targets, runs every workload on each, and prints the
// figures with Tarn's ratio to the loopback.
func Run(ctx context.Context) error { return RunSizes(ctx, DefaultSizes) }

// RunSizes is Run with chosen sizes.
func RunSizes(ctx context.Context, sz Sizes) error {
	if os.Geteuid() != 0 {
		return errors.New("the file-system benchmark mounts FUSE file systems: run it as root")
	}
	base, err := os.MkdirTemp("/var/tmp", "tarn-fsbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)
	makers := []func() (*target, error){
		func() (*target, error) { return newLocal(base) },
		func() (*target, error) { return newLoopback(base) },
		func() (*target, error) { return newTarn(ctx, base) },
	}
	results := map[string]figures{}
	var names []string
	for _, mk := range makers {
		t, err := mk()
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "fsbench: measuring %s at %s\n", t.name, t.dir)
		f, err := measure(ctx, t.dir, sz)
		cerr := t.close()
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if cerr != nil {
			return fmt.Errorf("%s: unmount: %w", t.name, cerr)
		}
		results[t.name] = f
		names = append(names, t.name)
	}
	fmt.Printf("file system: %s sequential, %s random-I/O file, %d files (create/stat/unlink and flock: median of %d rounds)\n",
		human(sz.SeqBytes), human(sz.RandFile), sz.Files, max(sz.Rounds, 1))
	fmt.Printf("  %-52s %11s %11s %11s %9s  %s\n", "workload", "local disk", "loopback", "tarn", "tarn/loop", "target")
	for _, m := range metrics {
		l, lb, tn := results["local disk"][m.key], results["go-fuse loopback"][m.key], results["tarn"][m.key]
		target := ""
		switch {
		case m.ratioTarget > 0:
			target = fmt.Sprintf("≥ %.1f× loopback", m.ratioTarget)
		case m.target > 0:
			target = fmt.Sprintf("≥ %.0f %s", m.target, m.unit)
		}
		fmt.Printf("  %-52s %11s %11s %11s %8.2f×  %s\n", m.label+" ("+m.unit+")", num(l), num(lb), num(tn), tn/lb, target)
	}
	return nil
}

func num(v float64) string { return fmt.Sprintf("%.0f", v) }

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%g GiB", float64(n)/(1<<30))
	default:
		return fmt.Sprintf("%g MiB", float64(n)/(1<<20))
	}
}

// dropCaches empties the kernel page cache so reads come from the store.
func dropCaches() {
	unix.Sync()
	os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0)
}

func measure(ctx context.Context, dir string, sz Sizes) (figures, error) {
	f := figures{}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"sequential", func() error { return seq(dir, sz.SeqBytes, f) }},
		{"random", func() error { return random(dir, sz.RandFile, sz.RandTime, f) }},
		{"metadata", func() error {
			return rounds(sz.Rounds, f, func(out figures) error { return metadata(dir, sz.Files, out) })
		}},
		{"flock", func() error {
			return rounds(sz.Rounds, f, func(out figures) error { return flock(dir, sz.FlockTime, out) })
		}},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := s.fn(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return f, nil
}

// rounds runs a workload n times and records the median of each figure.
func rounds(n int, out figures, run func(figures) error) error {
	all := map[string][]float64{}
	for range max(n, 1) {
		f := figures{}
		if err := run(f); err != nil {
			return err
		}
		for k, v := range f {
			all[k] = append(all[k], v)
		}
	}
	for k, vs := range all {
		slices.Sort(vs)
		out[k] = vs[len(vs)/2]
	}
	return nil
}

func seq(dir string, size int64, out figures) error {
	path := filepath.Join(dir, "seq")
	buf := make([]byte, 1<<20)
	rand.Read(buf)
	w, err := os.Create(path)
	if err != nil {
		return err
	}
	// Start from a clean page cache: dirty data left by the previous
	// target's workloads would otherwise throttle this one's writes.
	dropCaches()
	start := time.Now()
	for off := int64(0); off < size; off += int64(len(buf)) {
		if _, err := w.Write(buf); err != nil {
			w.Close()
			return err
		}
	}
	if err := unix.Fdatasync(int(w.Fd())); err != nil {
		w.Close()
		return err
	}
	out["seqwrite"] = float64(size) / 1e6 / time.Since(start).Seconds()
	if err := w.Close(); err != nil {
		return err
	}
	dropCaches()
	r, err := os.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	start = time.Now()
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if err != nil {
			break
		}
	}
	if n != size {
		return fmt.Errorf("read back %d bytes of %d", n, size)
	}
	out["seqread"] = float64(size) / 1e6 / time.Since(start).Seconds()
	return os.Remove(path)
}

func random(dir string, size int64, d time.Duration, out figures) error {
	path := filepath.Join(dir, "rand")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	dropCaches()
	rng := mrand.New(mrand.NewPCG(1, 2))
	blocks := size / 4096
	page := make([]byte, 4096)
	rand.Read(page)
	start, ops := time.Now(), 0
	for time.Since(start) < d {
		for i := 0; i < 256; i++ {
			if _, err := f.WriteAt(page, rng.Int64N(blocks)*4096); err != nil {
				return err
			}
			ops++
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	out["randwrite"] = float64(ops) / time.Since(start).Seconds()
	dropCaches()
	start, ops = time.Now(), 0
	for time.Since(start) < d {
		for i := 0; i < 256; i++ {
			if _, err := f.ReadAt(page, rng.Int64N(blocks)*4096); err != nil {
				return err
			}
			ops++
		}
	}
	out["randread"] = float64(ops) / time.Since(start).Seconds()
	return nil
}

func metadata(dir string, n int, out figures) error {
	d := filepath.Join(dir, "meta")
	if err := os.Mkdir(d, 0o755); err != nil {
		return err
	}
	names := make([]string, n)
	for i := range names {
		names[i] = filepath.Join(d, fmt.Sprintf("f%06d", i))
	}
	unix.Sync()
	start := time.Now()
	for _, p := range names {
		fd, err := unix.Open(p, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		unix.Close(fd)
	}
	out["create"] = float64(n) / time.Since(start).Seconds()
	var st unix.Stat_t
	start = time.Now()
	for _, p := range names {
		if err := unix.Stat(p, &st); err != nil {
			return err
		}
	}
	out["stat"] = float64(n) / time.Since(start).Seconds()
	// An interpreter searching its path probes the same missing names
	// again and again.
	start = time.Now()
	for range 2 {
		for _, p := range names {
			if err := unix.Stat(p+".py", &st); err != unix.ENOENT {
				return fmt.Errorf("stat %s.py: %v, want ENOENT", p, err)
			}
		}
	}
	out["missing"] = float64(2*n) / time.Since(start).Seconds()
	start = time.Now()
	for _, p := range names {
		if err := unix.Unlink(p); err != nil {
			return err
		}
	}
	out["unlink"] = float64(n) / time.Since(start).Seconds()
	return os.Remove(d)
}

func flock(dir string, d time.Duration, out figures) error {
	path := filepath.Join(dir, "lockfile")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	fd := int(f.Fd())
	start, ops := time.Now(), 0
	for time.Since(start) < d {
		for i := 0; i < 100; i++ {
			if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
				return err
			}
			if err := unix.Flock(fd, unix.LOCK_UN); err != nil {
				return err
			}
			ops++
		}
	}
	out["flock"] = float64(ops) / time.Since(start).Seconds()
	return nil
}
