package fsbench

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// MemoryBytes is how much RunMemory writes.
const MemoryBytes = 10 << 30

// RunMemory writes a 10 GiB file through a Tarn mount served by this process
// and reports the process's peak resident memory while it does, next to its
// resident memory just before (the same process, idle with the mount up).
func RunMemory(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return errors.New("the memory benchmark mounts FUSE: run it as root")
	}
	base, err := os.MkdirTemp("/var/tmp", "tarn-fsmem-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)
	t, err := newTarn(ctx, base)
	if err != nil {
		return err
	}
	defer t.close()
	before := rss()
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if r := rss(); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()
	f, err := os.Create(filepath.Join(t.dir, "big"))
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	rand.Read(buf)
	start := time.Now()
	for off := int64(0); off < MemoryBytes; off += int64(len(buf)) {
		if ctx.Err() != nil {
			f.Close()
			return ctx.Err()
		}
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	elapsed := time.Since(start)
	f.Close()
	close(stop)
	fmt.Printf("file-system memory: one 10 GiB file written through a tarn mount in %.1f s (%.0f MB/s)\n",
		elapsed.Seconds(), float64(MemoryBytes)/1e6/elapsed.Seconds())
	fmt.Printf("  server resident memory: peak %d MiB while writing, %d MiB idle before   (target: peak < 300 MiB)\n",
		peak.Load()>>20, before>>20)
	return nil
}

// rss returns this process's resident set size in bytes.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
