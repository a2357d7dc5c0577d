package fsrobust

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// unmountTimeout bounds an unmount; see unmountGuarded.
const unmountTimeout = 15 * time.Second

const fusectlDir = "/sys/fs/fuse/connections"

// fuseConn returns the fusectl directory of the FUSE connection mounted at
// mp: its name is the mount's anonymous device number.
func fuseConn(mp string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(mp, &st); err != nil {
		return "", err
	}
	if unix.Major(st.Dev) != 0 {
		return "", fmt.Errorf("%s is not a FUSE mount (device %d:%d)", mp, unix.Major(st.Dev), unix.Minor(st.Dev))
	}
	return filepath.Join(fusectlDir, fmt.Sprint(unix.Minor(st.Dev))), nil
}

// abortConn aborts a FUSE connection through fusectl (mounting it if
// needed): every request fails and the server's reads of /dev/fuse end.
func abortConn(conn string) error {
	if _, err := os.Stat(conn); errors.Is(err, os.ErrNotExist) {
		if err := syscall.Mount("fusectl", fusectlDir, "fusectl", 0, ""); err != nil && !errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("mount fusectl: %w", err)
		}
	}
	return os.WriteFile(filepath.Join(conn, "abort"), []byte("1"), 0)
}

// unmountGuarded runs unmount (of the mount at mp) and returns its error.
// If it has not returned after unmountTimeout, the unmount hangs (as it did
// while another mount namespace held a copy of the mount, see
// TestUnmountCompletesWhileAnotherNamespaceHoldsACopy): the connection is
// then aborted through fusectl, so that the test fails instead of hanging
// the whole package.
func unmountGuarded(t *testing.T, mp string, unmount func() error) error {
	t.Helper()
	conn, connErr := fuseConn(mp)
	done := make(chan error, 1)
	go func() { done <- unmount() }()
	select {
	case err := <-done:
		return err
	case <-time.After(unmountTimeout):
	}
	if connErr != nil {
		return fmt.Errorf("unmount %s hangs and its connection is unknown: %w", mp, connErr)
	}
	t.Errorf("unmount of %s hangs after %v (does another mount namespace hold a copy of it?); aborting %s", mp, unmountTimeout, conn)
	if err := abortConn(conn); err != nil {
		return fmt.Errorf("abort the connection of %s: %w", mp, err)
	}
	select {
	case err := <-done:
		return err
	case <-time.After(unmountTimeout):
		return fmt.Errorf("unmount %s still hangs after its connection was aborted", mp)
	}
}

// TestUnmountCompletesWhileAnotherNamespaceHoldsACopy unmounts a mount of
// which another mount namespace holds a copy (a process started with
// `unshare -m` after the mount, as a sandbox would be): the kernel then
// keeps the connection alive, and the unmount must still return (the
// server aborts the connection after a grace period) instead of hanging,
// and with it `tarn umount` and a server's shutdown.
func TestUnmountCompletesWhileAnotherNamespaceHoldsACopy(t *testing.T) {
	needFUSE(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) is not installed")
	}
	svc := newService(t, "")
	mp := svc.mount(t, false)
	holder := exec.Command(unshare, "--mount", "--propagation", "private", "sleep", "600")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		holder.Process.Kill()
		holder.Wait()
	})
	// The copy exists once the holder runs sleep in its own namespace.
	deadline := time.Now().Add(startTimeout)
	for {
		ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", holder.Process.Pid))
		self, _ := os.Readlink("/proc/self/ns/mnt")
		if ns != "" && ns != self {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the holder did not enter its own mount namespace")
		}
		time.Sleep(10 * time.Millisecond)
	}
	conn, err := fuseConn(mp)
	if err != nil {
		t.Fatal(err)
	}
	err = inTime(unmountTimeout, "unmount", func() error { return svc.Unmount(mp) })
	if err != nil {
		abortConn(conn) // so that the test can end
		t.Fatalf("unmount while another namespace holds a copy: %v", err)
	}
	if mountedAt(t, mp) {
		t.Errorf("%s still mounted after Unmount returned", mp)
	}
}
