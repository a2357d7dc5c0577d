//go:build linux

package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Sandbox is a running sandbox.
type Sandbox struct {
	cmd  *exec.Cmd
	cg   *cgroup
	sock *os.File       // the init's spec socket, until the spec is sent
	msgs chan initMsg   // the init's start-up report
	out  sync.WaitGroup // copies of the handler's output to Spec.Stdout and Stderr
	pipe []*os.File     // read ends of the output pipes

	done   chan struct{} // closed once everything is gone
	killed chan struct{} // closed by Kill
	once   sync.Once

	// Set before done is closed.
	info ExitInfo
	err  error

	mu      sync.Mutex
	oomSeen bool
	final   *Stats
}

// initMsg is what the init reports on its status pipe: the handler started,
// the handler's wait status, or a set-up error.
type initMsg struct {
	Started bool   `json:"started,omitempty"`
	Status  *int   `json:"status,omitempty"`
	Err     string `json:"err,omitempty"`
}

// initSpec is the part of Spec the init needs.
type initSpec struct {
	Root, Code      string
	Mounts          []Bind
	TmpSize         int64
	TmpSource       string
	UID, GID        uint32
	Env, Argv       []string
	Dir             string
	NetworkIsolated bool
	Hostname        string
}

// Start creates the sandbox and starts spec.Argv in it. ctx bounds the
// start only: once Start returns, the sandbox lives until its process
// exits or Kill is called. Wait must be called to release it.
func Start(ctx context.Context, spec Spec) (*Sandbox, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	is, lim, parent, err := prepare(spec)
	if err != nil {
		return nil, err
	}
	s, err := spawn(parent, is.NetworkIsolated)
	if err != nil {
		return nil, fmt.Errorf("start sandbox %q: %w", spec.Argv[0], err)
	}
	if err := s.launch(ctx, is, lim, spec); err != nil {
		return nil, fmt.Errorf("start sandbox %q: %w", spec.Argv[0], err)
	}
	return s, nil
}

// prepare validates spec and fills in the defaults.
func prepare(spec Spec) (initSpec, limits, string, error) {
	if len(spec.Argv) == 0 {
		return initSpec{}, limits{}, "", errors.New("start sandbox: empty Argv")
	}
	is := initSpec{
		Root: spec.Root, Code: spec.Code, Mounts: spec.Mounts, TmpSize: spec.TmpSize, TmpSource: spec.TmpSource,
		UID: spec.UID, GID: spec.GID, Env: spec.Env, Argv: spec.Argv, Dir: spec.Dir,
		NetworkIsolated: spec.NetworkIsolated, Hostname: spec.Hostname,
	}
	if is.Root == "" {
		is.Root = "/"
	}
	if is.TmpSize <= 0 {
		is.TmpSize = DefaultTmpSize
	}
	if is.UID == 0 {
		is.UID = DefaultUID
	}
	if is.GID == 0 {
		is.GID = DefaultGID
	}
	if is.Dir == "" {
		is.Dir = "/var/task"
	}
	if is.Hostname == "" {
		is.Hostname = DefaultHostname
	}
	if len(is.Mounts) > maxMounts {
		return is, limits{}, "", fmt.Errorf("start sandbox: %d mounts, at most %d", len(is.Mounts), maxMounts)
	}
	for _, m := range is.Mounts {
		t := path.Clean(m.Target)
		if !path.IsAbs(m.Target) || t == "/" || m.Source == "" {
			return is, limits{}, "", fmt.Errorf("start sandbox: bad mount %q at %q", m.Source, m.Target)
		}
		for _, reserved := range []string{"/proc", "/dev", "/sys", "/var/task"} {
			if t == reserved || isUnder(t, reserved) {
				return is, limits{}, "", fmt.Errorf("start sandbox: mount target %q is reserved", m.Target)
			}
		}
	}
	lim := limits{memory: spec.MemoryBytes, cpu: spec.CPUFraction, pidsMax: spec.PidsMax}
	if lim.pidsMax > 0 {
		lim.pidsMax += initPids
	}
	if lim.cpu == 0 && lim.memory > 0 {
		lim.cpu = float64(lim.memory) / (MiBPerCore << 20)
	}
	parent := spec.CgroupParent
	if parent == "" {
		parent = DefaultCgroupParent
	}
	return is, lim, parent, nil
}

// spawn starts an init in fresh namespaces and its own cgroup (without
// limits yet), waiting for its spec.
func spawn(parent string, netIsolated bool) (s *Sandbox, err error) {
	var id [8]byte
	_, _ = rand.Read(id[:])
	cg, err := newCgroup(parent, "sbx-"+hex.EncodeToString(id[:]), limits{})
	if err != nil {
		return nil, err
	}
	s = &Sandbox{cg: cg, done: make(chan struct{}), killed: make(chan struct{}), msgs: make(chan initMsg, 2)}
	var closeOnErr []*os.File
	defer func() {
		if err != nil {
			for _, f := range closeOnErr {
				f.Close()
			}
			cg.remove()
		}
	}()
	// A datagram socket carries the spec and, with it, the handler's stdout
	// and stderr, which an init started ahead of time cannot inherit.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	s.sock = os.NewFile(uintptr(fds[0]), "spec")
	initSock := os.NewFile(uintptr(fds[1]), "spec")
	defer initSock.Close()
	statR, statW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer statW.Close()
	closeOnErr = append(closeOnErr, s.sock, statR)

	cmd := exec.Command("/proc/self/exe", InitCommand)
	cmd.Args[0] = "tarn-sandbox-init"
	// The init is a small Go program: one P and an eager GC keep it small.
	cmd.Env = []string{"GOMAXPROCS=1", "GOGC=20", "GOTRACEBACK=none", "GORACE=atexit_sleep_ms=0"}
	cmd.ExtraFiles = []*os.File{initSock, statW} // fds 3 and 4
	flags := syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
	if netIsolated {
		flags |= syscall.CLONE_NEWNET
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: uintptr(flags), Pdeathsig: syscall.SIGKILL}
	if cg.v2 {
		f, err := os.Open(cg.dirs[""])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(f.Fd())
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.cmd = cmd
	go s.supervise(statR)
	if !cg.v2 {
		// On v1 the init has to be moved in: a migration, which can wait
		// for an RCU grace period, hence inits started ahead (Starter).
		if err := cg.addProc(cmd.Process.Pid); err != nil {
			s.Kill()
			return nil, err
		}
	}
	return s, nil
}

// launch sets the cgroup's limits and sends the init its spec, and waits
// for the handler to start.
func (s *Sandbox) launch(ctx context.Context, is initSpec, lim limits, spec Spec) error {
	fail := func(err error) error {
		s.Kill()
		return err
	}
	if err := s.cg.setLimits(lim); err != nil {
		return fail(err)
	}
	s.cg.resetPeak()
	if err := s.sendSpec(is, spec); err != nil {
		return fail(err)
	}
	select {
	case m, ok := <-s.msgs:
		if ok && m.Started {
			return nil
		}
		<-s.done
		if m.Err != "" {
			return errors.New(m.Err)
		}
		if s.err != nil {
			return s.err
		}
		return fmt.Errorf("init exited during set-up: %+v", s.info)
	case <-ctx.Done():
		return fail(ctx.Err())
	}
}

// sendSpec sends the init its spec and the handler's stdout and stderr.
func (s *Sandbox) sendSpec(is initSpec, spec Spec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sock == nil {
		return errors.New("sandbox init exited before its start")
	}
	defer func() {
		s.sock.Close()
		s.sock = nil
	}()
	b, err := json.Marshal(is)
	if err != nil {
		return fmt.Errorf("send spec: %w", err)
	}
	// The sources are cloned as detached mount trees here, in the caller's
	// mount namespace: an init started ahead of time has an older copy of
	// the mount table, without, say, a file system mounted since.
	var trees []int
	defer func() {
		for _, fd := range trees {
			unix.Close(fd)
		}
	}()
	var srcs []string
	if is.TmpSource != "" {
		srcs = append(srcs, is.TmpSource)
	}
	if is.Code != "" {
		srcs = append(srcs, is.Code)
	}
	for _, m := range is.Mounts {
		srcs = append(srcs, m.Source)
	}
	for _, src := range srcs {
		fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			return fmt.Errorf("open mount source %q: %w", src, err)
		}
		trees = append(trees, fd)
	}
	outs, err := s.outputs(spec.Stdout, spec.Stderr)
	if err != nil {
		return err
	}
	fds := append([]int{int(outs[0].Fd()), int(outs[1].Fd())}, trees...)
	err = unix.Sendmsg(int(s.sock.Fd()), b, unix.UnixRights(fds...), nil, 0)
	for _, f := range outs {
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("send spec: %w", err)
	}
	return nil
}

// outputs returns the files to hand the handler as stdout and stderr: the
// writers themselves when they are files, else pipes copied to them
// (one pipe when both are the same writer, as os/exec does).
func (s *Sandbox) outputs(stdout, stderr io.Writer) ([2]*os.File, error) {
	var files [2]*os.File
	for i, w := range []io.Writer{stdout, stderr} {
		if i == 1 && sameWriter(stdout, stderr) {
			f, err := dupFile(files[0])
			if err != nil {
				files[0].Close()
				return files, err
			}
			files[1] = f
			break
		}
		var err error
		switch w := w.(type) {
		case nil:
			files[i], err = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		case *os.File:
			files[i], err = dupFile(w)
		default:
			var r *os.File
			r, files[i], err = os.Pipe()
			if err == nil {
				s.pipe = append(s.pipe, r)
				s.out.Add(1)
				go func() {
					defer s.out.Done()
					_, _ = io.Copy(w, r)
				}()
			}
		}
		if err != nil {
			if i == 1 {
				files[0].Close()
			}
			return files, fmt.Errorf("handler output: %w", err)
		}
	}
	return files, nil
}

func dupFile(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// sameWriter reports whether a and b are the same comparable writer.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a != nil && a == b
}

// supervise follows the init until it is gone, then cleans up.
func (s *Sandbox) supervise(statR *os.File) {
	var status *int
	dec := json.NewDecoder(statR)
	for {
		var m initMsg
		if dec.Decode(&m) != nil {
			break
		}
		if m.Status != nil {
			status = m.Status
		}
		if m.Started || m.Err != "" {
			s.msgs <- m
		}
	}
	statR.Close()
	close(s.msgs)
	werr := s.cmd.Wait()
	s.mu.Lock()
	if s.sock != nil { // never started: no output pipes will come
		s.sock.Close()
		s.sock = nil
	}
	s.mu.Unlock()
	s.waitOutput()

	// The init is gone, so the kernel has killed its PID namespace; sweep
	// the cgroup anyway in case a process got out of it.
	s.cg.kill()
	cur, peak := s.cg.memory()
	oom := s.cg.oomKills() > 0
	s.mu.Lock()
	s.final = &Stats{MemoryBytes: cur, MaxMemoryBytes: peak}
	s.oomSeen = oom
	s.mu.Unlock()
	rerr := s.cg.remove()

	info := ExitInfo{ExitCode: -1, OOMKilled: oom, MaxMemory: peak}
	switch {
	case status != nil:
		ws := syscall.WaitStatus(*status)
		if ws.Signaled() {
			info.Signal = ws.Signal()
		} else {
			info.ExitCode = ws.ExitStatus()
		}
	case s.cmd.ProcessState != nil:
		// The init died before reporting: killed with everything in it.
		if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			info.Signal = ws.Signal()
		} else {
			info.ExitCode = s.cmd.ProcessState.ExitCode()
		}
	}
	select {
	case <-s.killed:
		info.Killed = true
	default:
	}
	var exitErr *exec.ExitError
	if werr != nil && !errors.As(werr, &exitErr) {
		rerr = errors.Join(rerr, fmt.Errorf("wait for sandbox init: %w", werr))
	}
	s.info, s.err = info, rerr
	close(s.done)
}

// waitOutput waits for the handler's output to be copied: every process
// that could write it is gone, so the pipes are at their end unless a
// writer is stuck.
func (s *Sandbox) waitOutput() {
	copied := make(chan struct{})
	go func() {
		s.out.Wait()
		close(copied)
	}()
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
	}
	for _, r := range s.pipe {
		r.Close()
	}
}

// Wait waits for the sandbox's process to exit (or the sandbox to be
// killed) and everything in it to be gone. It returns an error only when
// the sandbox could not be cleaned up; the process's own failure is in
// ExitInfo.
func (s *Sandbox) Wait() (ExitInfo, error) {
	<-s.done
	return s.info, s.err
}

// Done is closed when the sandbox is gone.
func (s *Sandbox) Done() <-chan struct{} { return s.done }

// Kill kills every process in the sandbox and waits until they, the mounts
// and the cgroup are gone.
func (s *Sandbox) Kill() error {
	s.once.Do(func() { close(s.killed) })
	select {
	case <-s.done:
		return s.err
	default:
	}
	// Killing the init, PID 1 of the sandbox's PID namespace, makes the
	// kernel kill every other process in it; the cgroup sweep covers the
	// gap before the init's death is noticed.
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	s.cg.kill()
	<-s.done
	return s.err
}

// Signal sends sig to the sandbox's init, which forwards SIGTERM, SIGINT,
// SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the process.
func (s *Sandbox) Signal(sig syscall.Signal) error {
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal sandbox: %w", err)
	}
	return nil
}

// Pid is the host process id of the sandbox's init.
func (s *Sandbox) Pid() int { return s.cmd.Process.Pid }

// Stats returns the sandbox's current and peak memory use; after the
// sandbox is gone, the figures at its end.
func (s *Sandbox) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final != nil {
		return *s.final
	}
	cur, peak := s.cg.memory()
	return Stats{MemoryBytes: cur, MaxMemoryBytes: peak}
}

// OOMKilled reports whether the kernel's OOM killer killed a process in
// the sandbox.
func (s *Sandbox) OOMKilled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final != nil {
		return s.oomSeen
	}
	return s.cg.oomKills() > 0
}

func isUnder(p, dir string) bool {
	return len(p) > len(dir) && p[:len(dir)] == dir && p[len(dir)] == '/'
}
