//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"syscall"
)

// ErrUnsupported is returned by Start where sandboxes are not available.
var ErrUnsupported = errors.New("sandbox: needs Linux")

// MaybeRunInit returns at once: there is no sandbox init off Linux.
func MaybeRunInit() {}

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

// Starter starts sandboxes from inits started ahead of time.
type Starter struct{}

// Start fails: sandboxes need Linux.
func (st *Starter) Start(ctx context.Context, spec Spec) (*Sandbox, error) {
	return nil, ErrUnsupported
}

// Close does nothing.
func (st *Starter) Close() error { return nil }
