package disk_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tarn.dev/tarn/internal/blob/disk"
)

const crashChildEnv = "TARN_DISK_CRASH_CHILD"

// crashContent is the content of object i in the crash test: 1 MiB that
// tells which object it belongs to in every byte.
func crashContent(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 1<<20) }

// TestMain lets the test binary act as the process killed in
// TestKilledDuringPutsLeavesOnlyWholeObjects.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		s, err := disk.Open(dir, disk.Options{})
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(2)
		}
		for i := 0; ; i++ {
			if err := s.Put(ctx, fmt.Sprintf("crash/%d/%d", i%4, i), crashContent(i)); err != nil {
				fmt.Println("put:", err)
				os.Exit(2)
			}
			fmt.Println(i) // acknowledged: Put returned
		}
	}
	os.Exit(m.Run())
}

func TestKilledDuringPutsLeavesOnlyWholeObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: starts and kills child processes")
	}
	// The child is killed while a temporary file of its is on disk, that is
	// in the middle of a Put. If the Put completes between seeing the file
	// and the kill, the round proves less and is repeated.
	for round := range 5 {
		dir := t.TempDir()
		acked, caught := killDuringPut(t, dir)
		checkAfterCrash(t, dir, acked)
		if caught {
			return
		}
		t.Logf("round %d: the child finished its Put before the kill; again", round)
	}
	t.Fatal("could not kill the child in the middle of a Put in 5 rounds")
}

// killDuringPut runs a child putting objects into dir and kills it with
// SIGKILL once it has acknowledged a few Puts and is inside another one. It
// returns the highest acknowledged object and whether a temporary file was
// still there after the kill.
func killDuringPut(t *testing.T, dir string) (acked int, caught bool) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	acked = -1
	readAck := func() bool {
		if !lines.Scan() {
			return false
		}
		n, err := strconv.Atoi(lines.Text())
		if err != nil {
			t.Fatalf("child: %s", lines.Text())
		}
		acked = n
		return true
	}
	for acked < 3 && readAck() {
	}
	if acked < 3 {
		t.Fatalf("child exited after acknowledging %d Puts", acked+1)
	}
	// Wait for a temporary file while acknowledgements wait in the pipe;
	// the child has room there for thousands of them.
	exited := make(chan struct{})
	go func() { cmd.Process.Wait(); close(exited) }()
	for !hasTemp(t, dir) {
		select {
		case <-exited:
			t.Fatal("child exited while putting objects")
		case <-time.After(20 * time.Microsecond):
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	caught = hasTemp(t, dir)
	for readAck() {
	}
	return acked, caught
}

func hasTemp(t *testing.T, dir string) bool {
	return slices.ContainsFunc(files(t, dir), func(f string) bool { return strings.Contains(f, "tmp#") })
}

// checkAfterCrash opens the store the child left and checks that every
// acknowledged object is there, that every object is whole, and that no
// temporary file survived Open.
func checkAfterCrash(t *testing.T, dir string, acked int) {
	t.Helper()
	s := open(t, dir)
	seen := map[int]bool{}
	err := s.List(ctx, "", func(key string, size int64) error {
		i, err := strconv.Atoi(key[strings.LastIndex(key, "/")+1:])
		if err != nil {
			return fmt.Errorf("unexpected key %q", key)
		}
		p := make([]byte, size)
		if _, err := s.ReadAt(ctx, key, p, 0); err != nil && err != io.EOF {
			return err
		}
		if !bytes.Equal(p, crashContent(i)) {
			return fmt.Errorf("object %q is %d bytes and not what was put: a partial object survived the crash", key, size)
		}
		seen[i] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= acked; i++ {
		if !seen[i] {
			t.Errorf("object %d was acknowledged before the kill but is missing", i)
		}
	}
	if hasTemp(t, dir) {
		t.Errorf("temporary files survived Open: %q", files(t, dir))
	}
}
