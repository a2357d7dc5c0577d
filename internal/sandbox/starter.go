//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// Starter starts sandboxes from inits it starts ahead of time: one spare
// per cgroup parent and network mode, already in its namespaces and its
// cgroup, so a start skips the init's own start-up and, on cgroup v1, the
// move into the cgroup, which can wait for an RCU grace period. Each start
// takes the spare and starts its replacement in the background.
//
// The zero Starter is ready to use. Close kills the spares.
type Starter struct {
	mu      sync.Mutex
	spares  map[spareKey]*Sandbox
	filling map[spareKey]bool
	closed  bool
	wg      sync.WaitGroup
}

type spareKey struct {
	parent      string
	netIsolated bool
}

// Start is like the package's Start.
func (st *Starter) Start(ctx context.Context, spec Spec) (*Sandbox, error) {
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
	key := spareKey{parent, is.NetworkIsolated}
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil, ErrClosed
	}
	s := st.spares[key]
	delete(st.spares, key)
	st.refillLocked(key)
	st.mu.Unlock()

	if s != nil {
		select {
		case <-s.done: // died while waiting
			s = nil
		default:
		}
	}
	if s == nil {
		if s, err = spawn(parent, is.NetworkIsolated); err != nil {
			return nil, fmt.Errorf("start sandbox %q: %w", spec.Argv[0], err)
		}
	}
	if err := s.launch(ctx, is, lim, spec); err != nil {
		return nil, fmt.Errorf("start sandbox %q: %w", spec.Argv[0], err)
	}
	return s, nil
}

// refillLocked starts a spare for key in the background unless one is
// there or on its way.
func (st *Starter) refillLocked(key spareKey) {
	if st.spares == nil {
		st.spares, st.filling = map[spareKey]*Sandbox{}, map[spareKey]bool{}
	}
	if st.spares[key] != nil || st.filling[key] {
		return
	}
	st.filling[key] = true
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		s, err := spawn(key.parent, key.netIsolated)
		if err != nil {
			// The next start spawns its own init and tries again.
			st.mu.Lock()
			delete(st.filling, key)
			st.mu.Unlock()
			return
		}
		st.mu.Lock()
		delete(st.filling, key)
		keep := !st.closed && st.spares[key] == nil
		if keep {
			st.spares[key] = s
		}
		st.mu.Unlock()
		if !keep {
			s.Kill()
		}
	}()
}

// Close kills the spares and waits for them to be gone. Sandboxes already
// started are not affected.
func (st *Starter) Close() error {
	st.mu.Lock()
	st.closed = true
	spares := st.spares
	st.spares = nil
	st.mu.Unlock()
	st.wg.Wait()
	var errs []error
	for _, s := range spares {
		errs = append(errs, s.Kill())
	}
	return errors.Join(errs...)
}
