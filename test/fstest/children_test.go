package fsrobust

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Child roles of the test binary.
const (
	roleMmap     = "mmap"      // serves mmapReq on stdin, answers on stdout
	roleLockHold = "lock-hold" // takes the locks, says "held", sleeps
	roleLockWait = "lock-wait" // waits for the locks, says "got"
)

// Files the lock roles lock: a flock on one, a POSIX write lock of the
// whole file on the other.
const (
	flockFileEnv = "TARN_FSTEST_FLOCK_FILE"
	fcntlFileEnv = "TARN_FSTEST_FCNTL_FILE"
)

func runChild(role string, _ []string) int {
	var err error
	switch role {
	case roleMmap:
		err = serveMmapRequests(os.Stdin, os.Stdout)
	case roleLockHold:
		err = lockChild(false)
	case roleLockWait:
		err = lockChild(true)
	default:
		err = fmt.Errorf("unknown child role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// childCommand returns a command running this test binary in role.
func childCommand(role string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), childEnv+"="+role), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// mmapReq asks the mmap child to read Len bytes at Off of Path, or to write
// Data there, through a shared mapping (msync'd after a write). The range
// must lie within the file.
type mmapReq struct {
	Write bool
	Path  string
	Off   int64
	Len   int
	Data  []byte
}

type mmapResp struct {
	Data []byte
	Err  string
}

func serveMmapRequests(in io.Reader, out io.Writer) error {
	// A page beyond the end of the file raises SIGBUS: report it instead of
	// dying.
	debug.SetPanicOnFault(true)
	dec, enc := gob.NewDecoder(bufio.NewReader(in)), gob.NewEncoder(out)
	for {
		var r mmapReq
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := enc.Encode(serveMmap(r)); err != nil {
			return err
		}
	}
}

func serveMmap(r mmapReq) (resp mmapResp) {
	defer func() {
		if p := recover(); p != nil {
			resp = mmapResp{Err: fmt.Sprint("fault: ", p)}
		}
	}()
	flag, prot := os.O_RDONLY, unix.PROT_READ
	if r.Write {
		flag, prot, r.Len = os.O_RDWR, unix.PROT_READ|unix.PROT_WRITE, len(r.Data)
	}
	f, err := os.OpenFile(r.Path, flag, 0)
	if err != nil {
		return mmapResp{Err: err.Error()}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return mmapResp{Err: err.Error()}
	}
	end := r.Off + int64(r.Len)
	if r.Len <= 0 || end > st.Size() {
		return mmapResp{Err: fmt.Sprintf("range [%d,%d) not within the file's %d bytes", r.Off, end, st.Size())}
	}
	start := r.Off &^ int64(os.Getpagesize()-1)
	m, err := unix.Mmap(int(f.Fd()), start, int(end-start), prot, unix.MAP_SHARED)
	if err != nil {
		return mmapResp{Err: "mmap: " + err.Error()}
	}
	defer unix.Munmap(m)
	win := m[r.Off-start:]
	if !r.Write {
		return mmapResp{Data: append([]byte(nil), win...)}
	}
	copy(win, r.Data)
	if err := unix.Msync(m, unix.MS_SYNC); err != nil {
		return mmapResp{Err: "msync: " + err.Error()}
	}
	return mmapResp{}
}

// mmapChild is a running mmap child.
type mmapChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	enc   *gob.Encoder
	dec   *gob.Decoder
}

func startMmapChild(t *testing.T) *mmapChild {
	t.Helper()
	cmd := childCommand(roleMmap)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mmap child: %v", err)
	}
	c := &mmapChild{cmd: cmd, stdin: stdin, enc: gob.NewEncoder(stdin), dec: gob.NewDecoder(bufio.NewReader(stdout))}
	t.Cleanup(c.stop)
	return c
}

func (c *mmapChild) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// do sends one request and returns the child's answer.
func (c *mmapChild) do(r mmapReq) ([]byte, error) {
	var resp mmapResp
	err := inTime(time.Minute, "mmap child", func() error {
		if err := c.enc.Encode(r); err != nil {
			return fmt.Errorf("send to mmap child: %w", err)
		}
		if err := c.dec.Decode(&resp); err != nil {
			return fmt.Errorf("read from mmap child: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if resp.Err != "" {
		return nil, errors.New(resp.Err)
	}
	return resp.Data, nil
}

func lockChild(wait bool) error {
	fl, err := os.OpenFile(os.Getenv(flockFileEnv), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	fc, err := os.OpenFile(os.Getenv(fcntlFileEnv), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	how, cmd := unix.LOCK_EX|unix.LOCK_NB, unix.F_SETLK
	if wait {
		how, cmd = unix.LOCK_EX, unix.F_SETLKW
	}
	if err := unix.Flock(int(fl.Fd()), how); err != nil {
		return fmt.Errorf("flock: %w", err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(fc.Fd(), cmd, &lk); err != nil {
		return fmt.Errorf("fcntl lock: %w", err)
	}
	if wait {
		fmt.Println("got")
		return nil
	}
	fmt.Println("held")
	time.Sleep(time.Hour) // until killed
	return nil
}

// startLockChild starts a lock child on the two files and returns it with
// the lines it prints. It is killed when the test ends.
func startLockChild(t *testing.T, role, flockFile, fcntlFile string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := childCommand(role, flockFileEnv+"="+flockFile, fcntlFileEnv+"="+fcntlFile)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 4)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines
}

// waitLine waits until a child prints want, fails if it prints something
// else or exits, and gives up after timeout.
func waitLine(lines <-chan string, want string, timeout time.Duration) error {
	select {
	case got, ok := <-lines:
		if !ok {
			return fmt.Errorf("child exited without saying %q", want)
		}
		if got != want {
			return fmt.Errorf("child said %q, want %q", got, want)
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("child did not say %q within %v", want, timeout)
	}
}
