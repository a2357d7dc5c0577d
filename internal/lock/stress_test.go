package lock

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// exclusion tracks, outside the table, which bytes each goroutine believes it
// holds, and fails when two holders overlap incompatibly.
type exclusion struct {
	mu      sync.Mutex
	readers map[uint64]*[stressCells + 1]int
	writers map[uint64]*[stressCells + 1]int
	err     error
}

const stressCells = 32

func stressCellRange(start, end uint64) (int, int) {
	return int(start), int(min(end, stressCells))
}

// swap atomically leaves (oldTyp, range) and enters (typ, range) for one
// holder; oldTyp 0 means nothing was held, typ 0 means release.
func (x *exclusion) swap(ino uint64, oldTyp, typ Type, start, end uint64, who string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.readers[ino] == nil {
		x.readers[ino], x.writers[ino] = new([stressCells + 1]int), new([stressCells + 1]int)
	}
	rd, wr := x.readers[ino], x.writers[ino]
	lo, hi := stressCellRange(start, end)
	for c := lo; c <= hi; c++ {
		switch oldTyp {
		case Read:
			rd[c]--
		case Write:
			wr[c]--
		}
		bad := false
		switch typ {
		case Read:
			bad = wr[c] > 0
			rd[c]++
		case Write:
			bad = wr[c] > 0 || rd[c] > 0
			wr[c]++
		}
		if bad && x.err == nil {
			x.err = fmt.Errorf("%s got %v on ino %d byte %d while readers=%d writers=%d", who, typ, ino, c, rd[c], wr[c])
		}
	}
}

// TestConcurrentMutualExclusion runs goroutines that take, upgrade, convert
// and drop POSIX locks and flocks on a few files with blocking requests,
// cancellations and session releases, and checks that no two holders ever
// overlap incompatibly and that everything is released at the end.
func TestConcurrentMutualExclusion(t *testing.T) {
	// Without cancellations a missed deadlock would hang the test.
	for _, cancels := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancels=%v", cancels), func(t *testing.T) {
			stress(t, uint64(time.Now().UnixNano()), cancels)
		})
	}
}

func stress(t *testing.T, seed uint64, cancels bool) {
	tab := New(Config{})
	x := &exclusion{readers: map[uint64]*[stressCells + 1]int{}, writers: map[uint64]*[stressCells + 1]int{}}
	const goroutines, rounds = 8, 250
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	var deadlocks, timeouts atomic.Int64
	report := func(err error) {
		if errors.Is(err, context.DeadlineExceeded) {
			timeouts.Add(1)
			return
		}
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			s := Session(g + 1) // every goroutine is owner 1 in its own session
			who := fmt.Sprintf("session %d", s)
			hold := func() {
				// Keep the lock across a reschedule so that others contend.
				if rng.IntN(4) == 0 {
					time.Sleep(time.Duration(rng.IntN(50)) * time.Microsecond)
				} else {
					runtime.Gosched()
				}
			}
			ctxFor := func() (context.Context, context.CancelFunc) {
				if cancels && rng.IntN(4) == 0 {
					return context.WithTimeout(context.Background(), time.Duration(rng.IntN(200))*time.Microsecond)
				}
				return context.WithCancel(context.Background())
			}
			for range rounds {
				if rng.IntN(3) == 0 {
					// flock on inode 3.
					typ := Type(1 + rng.IntN(2))
					ctx, cancel := ctxFor()
					err := tab.SetLkw(ctx, Request{Session: s, Ino: 3, Owner: 2, Type: typ, Flock: true})
					cancel()
					if err != nil {
						report(fmt.Errorf("%s flock: %w", who, err))
						continue
					}
					x.swap(3, 0, typ, 0, ToEOF, who)
					hold()
					if rng.IntN(2) == 0 {
						// Conversion may drop the lock before taking the new one.
						x.swap(3, typ, 0, 0, ToEOF, who)
						typ = 3 - typ
						ctx, cancel := ctxFor()
						err := tab.SetLkw(ctx, Request{Session: s, Ino: 3, Owner: 2, Type: typ, Flock: true})
						cancel()
						if err != nil {
							report(fmt.Errorf("%s flock convert: %w", who, err))
							tab.ReleaseFlock(s, 3, 2)
							continue
						}
						x.swap(3, 0, typ, 0, ToEOF, who)
						hold()
					}
					x.swap(3, typ, 0, 0, ToEOF, who)
					tab.ReleaseFlock(s, 3, 2)
					continue
				}
				ino := uint64(1 + rng.IntN(2))
				start := uint64(rng.IntN(stressCells + 1))
				end := uint64(ToEOF)
				if start < stressCells && rng.IntN(4) != 0 {
					end = start + uint64(rng.IntN(min(8, stressCells-int(start))))
				}
				typ := Type(1 + rng.IntN(2))
				ctx, cancel := ctxFor()
				err := tab.SetLkw(ctx, Request{Session: s, Ino: ino, Owner: 1, Start: start, End: end, Type: typ})
				cancel()
				if err != nil {
					report(fmt.Errorf("%s posix: %w", who, err))
					continue
				}
				x.swap(ino, 0, typ, start, end, who)
				hold()
				if typ == Read && rng.IntN(2) == 0 {
					// Upgrade in place: atomic for POSIX locks.
					ctx, cancel := ctxFor()
					err := tab.SetLkw(ctx, Request{Session: s, Ino: ino, Owner: 1, Start: start, End: end, Type: Write})
					cancel()
					switch {
					case err == nil:
						x.swap(ino, Read, Write, start, end, who)
						typ = Write
						hold()
					case errors.Is(err, ErrDeadlock):
						deadlocks.Add(1)
					default:
						report(fmt.Errorf("%s upgrade: %w", who, err))
					}
				}
				x.swap(ino, typ, 0, start, end, who)
				switch rng.IntN(3) {
				case 0:
					tab.ReleasePOSIX(s, ino, 1)
				case 1:
					tab.ReleaseSession(s)
				default:
					if err := tab.SetLk(Request{Session: s, Ino: ino, Owner: 1, Start: start, End: end, Type: Unlock}); err != nil {
						report(fmt.Errorf("%s unlock: %w", who, err))
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("seed %d: goroutines stuck; table %+v", seed, tab.Stats())
	}
	t.Logf("seed %d: %d upgrades refused with EDEADLK, %d waits timed out", seed, deadlocks.Load(), timeouts.Load())
	for _, err := range errs {
		t.Errorf("seed %d: %v", seed, err)
	}
	if x.err != nil {
		t.Errorf("seed %d: mutual exclusion broken: %v", seed, x.err)
	}
	if st := tab.Stats(); st != (Stats{}) {
		t.Errorf("seed %d: after everyone released, Stats = %+v", seed, st)
	}
}
