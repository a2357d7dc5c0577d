package fsrobust

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// deadMountTimeout bounds how long a request on a mount whose server died
// may take to fail; a hang is the failure this guards against.
const deadMountTimeout = 10 * time.Second

// crashPool holds the random bytes the crash test's files are cut from.
var crashPool = func() []byte {
	b := make([]byte, 2<<20)
	rand.New(rand.NewSource(1)).Read(b)
	return b
}()

// crashFileData is the deterministic content of file i of the crash test:
// 4 KiB to 512 KiB, different for every i.
func crashFileData(i int) []byte {
	size := 4<<10 + (i*7919)%(508<<10)
	off := (i * 104729) % (len(crashPool) - size)
	return crashPool[off : off+size]
}

// orphanBlock is the one problem a crash may leave: blocks written by a
// flush whose metadata transaction never committed.
var orphanBlock = regexp.MustCompile(`^block \S+ belongs to no slice$`)

// TestServerKilledDuringWritesKeepsSyncedData kills a tarn server with
// SIGKILL while a client writes files through its mount and fsyncs each one
// (and another client streams a large file without fsync). Requests on the
// dead mount must fail with ENOTCONN or EIO instead of hanging, the mount
// must be detachable, and after a restart every file whose fsync returned
// must be intact and `tarn fsck` must find at most orphan blocks, which
// --repair removes.
func TestServerKilledDuringWritesKeepsSyncedData(t *testing.T) {
	needFUSE(t)
	dir := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, dir)
	id := srv.createFS("crash")
	mp := srv.mount(id, false)

	const wantSynced = 150
	var (
		synced   sync.Map // file index → true once its fsync returned nil
		nSynced  atomic.Int64
		failed   atomic.Bool // the fsync writer stopped
		stop     atomic.Bool
		wg       sync.WaitGroup
		writeErr error // the error that stopped the fsync writer
		dataErr  error // the error that stopped the streaming writer
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer failed.Store(true)
		for i := 0; !stop.Load(); i++ {
			f, err := os.OpenFile(filepath.Join(mp, fmt.Sprintf("f%05d", i)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				writeErr = fmt.Errorf("create f%05d: %w", i, err)
				return
			}
			if _, err = f.Write(crashFileData(i)); err == nil {
				err = f.Sync()
				if err == nil {
					synced.Store(i, true)
					nSynced.Add(1)
				}
			}
			if cerr := f.Close(); err == nil && cerr != nil {
				err = cerr
			}
			if err != nil {
				writeErr = fmt.Errorf("write f%05d: %w", i, err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		f, err := os.Create(filepath.Join(mp, "stream"))
		if err != nil {
			dataErr = err
			return
		}
		defer f.Close()
		buf := bytes.Repeat([]byte("stream "), 1<<17)
		for !stop.Load() {
			if _, err := f.Write(buf); err != nil {
				dataErr = err
				return
			}
		}
	}()

	deadline := time.Now().Add(2 * time.Minute)
	for nSynced.Load() < wantSynced && time.Now().Before(deadline) && !failed.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	if n := nSynced.Load(); n < wantSynced {
		stop.Store(true)
		wg.Wait()
		t.Fatalf("only %d files fsync'd before the deadline (writer: %v)", n, writeErr)
	}
	srv.Kill()
	killed := time.Now()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(deadMountTimeout):
		stop.Store(true)
		t.Fatalf("writers still blocked %v after the server was killed: requests on a dead mount hang", deadMountTimeout)
	}
	t.Logf("%d files fsync'd; writers stopped %v after the kill: %v; %v", nSynced.Load(), time.Since(killed).Round(time.Millisecond), writeErr, dataErr)
	// The kernel fails requests in flight when the connection aborts with
	// ECONNABORTED, and later ones with ENOTCONN.
	for _, err := range []error{writeErr, dataErr} {
		if e := errnoOf(err); e != syscall.ENOTCONN && e != syscall.EIO && e != syscall.ECONNABORTED {
			t.Errorf("a write on the dead mount failed with %v, want ENOTCONN, ECONNABORTED or EIO", err)
		}
	}
	// New requests fail at once too.
	err := inTime(deadMountTimeout, "stat on the dead mount", func() error {
		_, err := os.Stat(filepath.Join(mp, "f00000"))
		return err
	})
	if e := errnoOf(err); e != syscall.ENOTCONN && e != syscall.EIO {
		t.Errorf("stat on the dead mount: %v, want ENOTCONN or EIO", err)
	}
	detachIfMounted(t, mp)
	if mountedAt(t, mp) {
		t.Fatalf("%s still mounted after umount -l", mp)
	}

	srv = startServer(t, dir)
	mp = srv.mount(id, false)
	checked := 0
	synced.Range(func(k, _ any) bool {
		i := k.(int)
		got, err := os.ReadFile(filepath.Join(mp, fmt.Sprintf("f%05d", i)))
		if err != nil {
			t.Errorf("fsync'd file f%05d after the restart: %v", i, err)
		} else if !bytes.Equal(got, crashFileData(i)) {
			t.Errorf("fsync'd file f%05d after the restart: %d bytes that differ from the %d written", i, len(got), len(crashFileData(i)))
		}
		checked++
		return true
	})
	// Files whose fsync never returned may hold anything written, but must
	// be readable.
	ents, err := os.ReadDir(mp)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range ents {
		if _, err := os.ReadFile(filepath.Join(mp, de.Name())); err != nil {
			t.Errorf("read %s after the restart: %v", de.Name(), err)
		}
	}
	t.Logf("%d fsync'd files intact, %d entries readable", checked, len(ents))
	srv.umount(mp)

	out, ok := srv.fsck(id, false)
	if ok {
		t.Logf("tarn fsck after the crash reports the file system clean:\n%s", out)
		return
	}
	var other []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "block ") || strings.HasPrefix(line, "slice ") || strings.HasPrefix(line, "inode ") ||
			strings.HasPrefix(line, "entry ") || strings.HasPrefix(line, "extent") || strings.HasPrefix(line, "root ") ||
			strings.HasPrefix(line, "unexpected ") {
			if !orphanBlock.MatchString(line) {
				other = append(other, line)
			}
		}
	}
	if len(other) > 0 {
		t.Errorf("tarn fsck after the crash found more than orphan blocks:\n%s", out)
	}
	t.Logf("tarn fsck after the crash found orphan blocks of the interrupted flush; repairing:\n%s", out)
	if out, ok := srv.fsck(id, true); !ok {
		t.Fatalf("tarn fsck --repair failed:\n%s", out)
	}
	if out, ok := srv.fsck(id, false); !ok || !strings.Contains(out, "clean") {
		t.Errorf("tarn fsck after --repair is not clean:\n%s", out)
	}
}
