package fsrobust

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"tarn.dev/tarn/internal/testserver"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to come up or shut down
// and a CLI command may run; it guards against hangs only.
const startTimeout = 30 * time.Second

var fsIDPattern = regexp.MustCompile(`^fs-[0-9a-f]{17}$`)

// tarnServer is a running `tarn server` process on data directory Dir
// (internal/testserver), with the file-system commands the tests use.
type tarnServer struct {
	*testserver.Server
	t *testing.T
}

// baseEnv is the environment of the tarn processes: nothing inherited, so
// that no AWS_* or TARN_* variable of the caller leaks in.
func baseEnv(home string) []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + home, "LANG=C.UTF-8"}
}

// startServer starts `tarn server --data dir` on free loopback ports and
// waits until it serves. When the test ends a server still running is
// stopped cleanly, which unmounts its mounts.
func startServer(t *testing.T, dir string) *tarnServer {
	t.Helper()
	return &tarnServer{Server: testserver.Start(t, dir), t: t}
}

// Stop stops the server with SIGTERM and waits until it is gone.
func (s *tarnServer) Stop() {
	s.t.Helper()
	s.Server.Stop(s.t)
}

// tarn runs a tarn CLI command against the server's data directory and
// returns its output and exit code.
func (s *tarnServer) tarn(args ...string) (stdout, stderr string, code int) {
	s.t.Helper()
	stdout, stderr, code, err := s.run(tarnBinary(s.t), s.t.TempDir(), args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return stdout, stderr, code
}

// run runs the tarn binary bin with home directory home; it may run on any
// goroutine.
func (s *tarnServer) run(bin, home string, args ...string) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	full := append(append([]string(nil), args...), "--data", s.Dir)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = baseEnv(home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode(), nil
	case err != nil:
		return "", "", 0, fmt.Errorf("run tarn %s: %w", strings.Join(full, " "), err)
	}
	return out.String(), errb.String(), 0, nil
}

// umount unmounts mp with `tarn umount` (see unmountGuarded) and fails the
// test if that fails.
func (s *tarnServer) umount(mp string) {
	s.t.Helper()
	if err := s.tryUmount(mp); err != nil {
		s.t.Fatal(err)
	}
}

func (s *tarnServer) tryUmount(mp string) error {
	bin, home := tarnBinary(s.t), s.t.TempDir()
	return unmountGuarded(s.t, mp, func() error {
		out, errOut, code, err := s.run(bin, home, "umount", mp)
		if err == nil && code != 0 {
			err = fmt.Errorf("tarn umount %s: exit %d\n%s%s", mp, code, out, errOut)
		}
		return err
	})
}

// must runs a tarn CLI command that must succeed and returns its output.
func (s *tarnServer) must(args ...string) string {
	s.t.Helper()
	out, errOut, code := s.tarn(args...)
	if code != 0 {
		s.t.Fatalf("tarn %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// createFS creates a file system and returns its id.
func (s *tarnServer) createFS(name string) string {
	s.t.Helper()
	id := strings.TrimSpace(s.must("fs", "create", "--name", name))
	if !fsIDPattern.MatchString(id) {
		s.t.Fatalf("tarn fs create printed %q, want a file system id", id)
	}
	return id
}

// mount mounts fs at a new temporary directory through the server and
// returns the mount point. When the test ends a mount still there is
// unmounted through the server, or detached if its server is gone.
func (s *tarnServer) mount(fsID string, readOnly bool) string {
	s.t.Helper()
	mp := s.t.TempDir()
	args := []string{"mount", fsID, mp}
	if readOnly {
		args = append(args, "--read-only")
	}
	s.must(args...)
	s.t.Cleanup(func() {
		if s.Alive() && mountedAt(s.t, mp) {
			if err := s.tryUmount(mp); err != nil {
				s.t.Error(err)
			}
		}
		detachIfMounted(s.t, mp)
	})
	return mp
}

// fsck runs `tarn fsck FS` (with --repair if asked) and returns its output
// and whether it exited 0.
func (s *tarnServer) fsck(fsID string, repair bool) (string, bool) {
	s.t.Helper()
	args := []string{"fsck", fsID}
	if repair {
		args = append(args, "--repair")
	}
	out, errOut, code := s.tarn(args...)
	return out + errOut, code == 0
}

// mountedAt reports whether mp is a mount point of this host.
func mountedAt(t *testing.T, mp string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), " "+mp+" ")
}

// detachIfMounted lazily unmounts mp if it is still mounted (a mount whose
// server died stays until then).
func detachIfMounted(t *testing.T, mp string) {
	if !mountedAt(t, mp) {
		return
	}
	if out, err := exec.Command("umount", "-l", mp).CombinedOutput(); err != nil {
		t.Errorf("umount -l %s: %v: %s", mp, err, out)
	}
}

// String describes the server for messages.
func (s *tarnServer) String() string { return fmt.Sprintf("tarn server on %s", s.Dir) }
