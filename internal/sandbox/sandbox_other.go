//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"io"
	"syscall"
)

// InitCommand is the hidden argv[1] with which the program re-executes
// itself as a sandbox's init.
const InitCommand = "__tarn-sandbox-init"

// ErrUnsupported is returned by Start where sandboxes are not available.
var ErrUnsupported = errors.New("sandbox: needs Linux")

// MaybeRunInit returns at once: there is no sandbox init off Linux.
func MaybeRunInit() {}

// Bind is a host path bind-mounted into the sandbox.
type Bind struct {
	Source, Target string
	ReadOnly       bool
}

// Spec describes one sandbox.
type Spec struct {
	Root, Code, TmpSource, CgroupParent, Dir, Hostname string
	Mounts                                             []Bind
	TmpSize, MemoryBytes                               int64
	CPUFraction                                        float64
	PidsMax                                            int
	UID, GID                                           uint32
	Env, Argv                                          []string
	Stdout, Stderr                                     io.Writer
	NetworkIsolated                                    bool
}

// ExitInfo is how a sandbox ended.
type ExitInfo struct {
	ExitCode          int
	Signal            syscall.Signal
	OOMKilled, Killed bool
	MaxMemory         int64
}

// Stats is a sandbox's resource use.
type Stats struct{ MemoryBytes, MaxMemoryBytes int64 }

// Sandbox is a running sandbox.
type Sandbox struct{}

// Start fails: sandboxes need Linux.
func Start(ctx context.Context, spec Spec) (*Sandbox, error) { return nil, ErrUnsupported }

func (s *Sandbox) Wait() (ExitInfo, error)         { return ExitInfo{}, ErrUnsupported }
func (s *Sandbox) Done() <-chan struct{}           { return nil }
func (s *Sandbox) Kill() error                     { return ErrUnsupported }
func (s *Sandbox) Signal(sig syscall.Signal) error { return ErrUnsupported }
func (s *Sandbox) Pid() int                        { return 0 }
func (s *Sandbox) Stats() Stats                    { return Stats{} }
func (s *Sandbox) OOMKilled() bool                 { return false }

// ErrClosed is returned by a closed Starter.
var ErrClosed = errors.New("sandbox: starter closed")

// Starter starts sandboxes from inits started ahead of time.
type Starter struct{}

// Start fails: sandboxes need Linux.
func (st *Starter) Start(ctx context.Context, spec Spec) (*Sandbox, error) {
	return nil, ErrUnsupported
}

// Close does nothing.
func (st *Starter) Close() error { return nil }
