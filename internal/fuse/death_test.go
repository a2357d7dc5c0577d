package fuse_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"tarn.dev/tarn/internal/fuse"
	"tarn.dev/tarn/internal/lock"
)

// serveEnv makes the test binary a mount server for TestDeadServer: it
// mounts a file system stored in $TARN_FUSE_TEST_SERVE_DATA at the
// directory named by the variable, says
// "ready" and serves until killed.
const serveEnv = "TARN_FUSE_TEST_SERVE"

func TestMain(m *testing.M) {
	if dir := os.Getenv(serveEnv); dir != "" {
		serve(dir)
		return
	}
	os.Exit(m.Run())
}

func serve(dir string) {
	f, _, err := openFS(os.Getenv(serveEnv + "_DATA"))
	if err == nil {
		_, err = fuse.Mount(f, f.Watch, dir, fuse.Options{Locks: lock.New(lock.Config{})})
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	select {}
}

// A mount whose server process died answers ENOTCONN instead of hanging:
// the kernel aborts the connection when the process's /dev/fuse descriptor
// closes.
func TestDeadServer(t *testing.T) {
	requireFUSE(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"="+dir, serveEnv+"_DATA="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		syscall.Unmount(dir, syscall.MNT_DETACH)
	})
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("server said %q", line)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	_, err = os.ReadFile(filepath.Join(dir, "g"))
	if !errors.Is(err, syscall.ENOTCONN) && !errors.Is(err, syscall.EIO) {
		t.Errorf("read on a dead mount = %v, want ENOTCONN or EIO", err)
	}
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
		t.Errorf("lazy unmount of the dead mount: %v", err)
	}
	if mounted(t, dir) {
		t.Errorf("%s still mounted", dir)
	}
}
