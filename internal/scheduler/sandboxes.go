package scheduler

import (
	"context"

	"tarn.dev/tarn/internal/sandbox"
)

// Sandbox is what the scheduler needs of a running sandbox.
type Sandbox interface {
	// Wait waits until the sandbox is gone and says how it ended.
	Wait() (sandbox.ExitInfo, error)
	// Kill kills everything in the sandbox and waits until it is gone.
	Kill() error
	// Stats is the sandbox's current and peak memory use.
	Stats() sandbox.Stats
}

// Sandboxes starts sandboxes.
type Sandboxes interface {
	Start(ctx context.Context, spec sandbox.Spec) (Sandbox, error)
}

// FromStarter adapts a sandbox.Starter.
func FromStarter(st *sandbox.Starter) Sandboxes { return starter{st} }

type starter struct{ st *sandbox.Starter }

func (s starter) Start(ctx context.Context, spec sandbox.Spec) (Sandbox, error) {
	sb, err := s.st.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return sb, nil
}

var _ Sandbox = (*sandbox.Sandbox)(nil)
