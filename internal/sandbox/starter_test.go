//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitSpare waits for st to hold a spare for the test parent.
func waitSpare(t *testing.T, st *Starter) *Sandbox {
	t.Helper()
	key := spareKey{testCgroupParent, false}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		st.mu.Lock()
		s := st.spares[key]
		st.mu.Unlock()
		if s != nil {
			return s
		}
	}
	t.Fatal("no spare init appeared")
	return nil
}

func TestStarterStartsFromASpareInit(t *testing.T) {
	requireRoot(t)
	st := &Starter{}
	defer st.Close()
	for i := range 3 {
		var spare *Sandbox
		if i > 0 {
			spare = waitSpare(t, st)
		}
		spec := pySpec("import os, socket; print(os.getuid(), socket.gethostname(), os.getppid())")
		spec.Hostname = fmt.Sprintf("h%d", i)
		var out bytes.Buffer
		spec.Stdout = &out
		s, err := st.Start(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if spare != nil && s.Pid() != spare.Pid() {
			t.Errorf("start %d used init %d, want the spare %d", i, s.Pid(), spare.Pid())
		}
		info, err := s.Wait()
		if err != nil || info.ExitCode != 0 {
			t.Fatalf("Wait = %+v, %v", info, err)
		}
		if got, want := strings.TrimSpace(out.String()), fmt.Sprintf("993 h%d 1", i); got != want {
			t.Errorf("start %d printed %q, want %q", i, got, want)
		}
	}
}

func TestStarterReplacesADeadSpare(t *testing.T) {
	requireRoot(t)
	st := &Starter{}
	defer st.Close()
	s, err := st.Start(context.Background(), pySpec("pass"))
	if err != nil {
		t.Fatal(err)
	}
	s.Wait()
	spare := waitSpare(t, st)
	if err := syscall.Kill(spare.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-spare.Done()
	r := runWith(t, st, pySpec("print('fine')"))
	if strings.TrimSpace(r.stdout) != "fine" || r.info.ExitCode != 0 {
		t.Errorf("start after the spare died: %+v %q %s", r.info, r.stdout, r.stderr)
	}
}

func TestStarterCloseLeavesNothing(t *testing.T) {
	requireRoot(t)
	st := &Starter{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := st.Start(context.Background(), pySpec("pass"))
			if err != nil {
				t.Error(err)
				return
			}
			if info, err := s.Wait(); err != nil || info.ExitCode != 0 {
				t.Errorf("Wait = %+v, %v", info, err)
			}
		}()
	}
	wg.Wait()
	spare := waitSpare(t, st)
	dirs := cgroupDirs(spare)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, []int{spare.Pid()}, dirs)
	if left := testCgroups(t); len(left) != 0 {
		t.Errorf("cgroups left after Close: %v", left)
	}
	if _, err := st.Start(context.Background(), pySpec("pass")); err != ErrClosed {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
}

func runWith(t *testing.T, st *Starter, spec Spec) result {
	t.Helper()
	var out, errb bytes.Buffer
	spec.Stdout, spec.Stderr = &out, &errb
	s, err := st.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	info, err := s.Wait()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return result{info, out.String(), strings.TrimSpace(errb.String())}
}

func TestStarterSeesMountsMadeAfterItsSpareStarted(t *testing.T) {
	requireRoot(t)
	st := &Starter{}
	defer st.Close()
	r := runWith(t, st, pySpec("pass"))
	if r.info.ExitCode != 0 {
		t.Fatalf("first start: %+v %s", r.info, r.stderr)
	}
	spare := waitSpare(t, st)

	// A file system mounted after the spare took its copy of the mount
	// table, as a function's file system is when first used.
	dir := dirWith(t, 0o755, nil)
	hostMount(t, "tarn-test", dir, "tmpfs", 0)
	if err := os.WriteFile(filepath.Join(dir, "fresh"), []byte("new mount"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := pySpec("print(open('/mnt/efs/fresh').read())")
	spec.Mounts = []Bind{{Source: dir, Target: "/mnt/efs", ReadOnly: true}}
	var out, errb bytes.Buffer
	spec.Stdout, spec.Stderr = &out, &errb
	s, err := st.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pid() != spare.Pid() {
		t.Fatalf("started on init %d, want the spare %d", s.Pid(), spare.Pid())
	}
	if info, err := s.Wait(); err != nil || info.ExitCode != 0 {
		t.Fatalf("Wait = %+v, %v; stderr %s", info, err, errb.String())
	}
	if got := strings.TrimSpace(out.String()); got != "new mount" {
		t.Errorf("sandbox read %q from the new mount, want %q", got, "new mount")
	}
}
