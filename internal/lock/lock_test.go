package lock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func fl(s Session, ino, owner uint64, typ Type) Request {
	return Request{Session: s, Ino: ino, Owner: owner, PID: uint32(1000 + owner), Type: typ, Flock: true}
}

func px(s Session, ino, owner uint64, typ Type, start, end uint64) Request {
	return Request{Session: s, Ino: ino, Owner: owner, PID: uint32(100 + owner), Start: start, End: end, Type: typ}
}

// pending is a SetLkw running in its own goroutine.
type pending struct {
	done   chan error
	cancel context.CancelFunc
}

func start(tab *Table, r Request) *pending {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pending{done: make(chan error, 1), cancel: cancel}
	go func() { p.done <- tab.SetLkw(ctx, r) }()
	return p
}

// startQueued starts a SetLkw and waits until it is queued on r.Ino.
func startQueued(t *testing.T, tab *Table, r Request) *pending {
	t.Helper()
	n := tab.Waiting(r.Ino)
	p := start(tab, r)
	waitUntil(t, "request is queued", func() bool { return tab.Waiting(r.Ino) == n+1 })
	return p
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func (p *pending) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("SetLkw never returned")
		return nil
	}
}

// blocked reports whether p has not returned. Grants are handed over
// asynchronously, so tests pair it with the table's own Waiting count.
func (p *pending) blocked() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

func mustSet(t *testing.T, tab *Table, r Request) {
	t.Helper()
	if err := tab.SetLk(r); err != nil {
		t.Fatalf("SetLk(%+v) = %v", r, err)
	}
}

func TestGetLkReportsFirstConflict(t *testing.T) {
	tab := New(Config{})
	mustSet(t, tab, px(1, 1, 2, Read, 0, 9))
	mustSet(t, tab, px(1, 1, 3, Write, 20, 29))
	mustSet(t, tab, px(1, 1, 4, Write, 40, ToEOF))
	mustSet(t, tab, px(1, 1, 1, Write, 30, 35)) // the asker's own lock
	mustSet(t, tab, fl(1, 1, 5, Write))
	none := Lock{Type: Unlock}
	tests := []struct {
		name string
		req  Request
		want Lock
	}{
		{"read over read", px(1, 1, 1, Read, 0, 9), none},
		{"write over read", px(1, 1, 1, Write, 5, 5), Lock{Session: 1, Owner: 2, PID: 102, Start: 0, End: 9, Type: Read}},
		{"read over write", px(1, 1, 1, Read, 25, 35), Lock{Session: 1, Owner: 3, PID: 103, Start: 20, End: 29, Type: Write}},
		{"lowest start first", px(1, 1, 1, Write, 0, ToEOF), Lock{Session: 1, Owner: 2, PID: 102, Start: 0, End: 9, Type: Read}},
		{"to-EOF holder", px(1, 1, 1, Read, 1<<40, 1<<40+5), Lock{Session: 1, Owner: 4, PID: 104, Start: 40, End: ToEOF, Type: Write}},
		{"gap", px(1, 1, 1, Write, 10, 19), none},
		{"own lock ignored", px(1, 1, 1, Write, 30, 30), none},
		{"other owner sees it", px(1, 1, 9, Read, 30, 30), Lock{Session: 1, Owner: 1, PID: 101, Start: 30, End: 35, Type: Write}},
		{"same owner other session", px(2, 1, 3, Read, 20, 20), Lock{Session: 1, Owner: 3, PID: 103, Start: 20, End: 29, Type: Write}},
		{"flock ignores POSIX", fl(1, 1, 2, Read), Lock{Session: 1, Owner: 5, PID: 1005, Start: 0, End: ToEOF, Type: Write, Flock: true}},
		{"other inode", px(1, 2, 1, Write, 0, ToEOF), none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tab.GetLk(tt.req)
			if err != nil || got != tt.want {
				t.Errorf("GetLk(%+v) = %+v, %v; want %+v", tt.req, got, err, tt.want)
			}
		})
	}
}

func TestSetLkConflicts(t *testing.T) {
	tests := []struct {
		name  string
		held  Request
		req   Request
		block bool
	}{
		{"posix read read", px(1, 1, 1, Read, 0, 9), px(1, 1, 2, Read, 5, 14), false},
		{"posix read write", px(1, 1, 1, Read, 0, 9), px(1, 1, 2, Write, 9, 14), true},
		{"posix write read", px(1, 1, 1, Write, 0, 9), px(1, 1, 2, Read, 0, 0), true},
		{"posix disjoint writes", px(1, 1, 1, Write, 0, 9), px(1, 1, 2, Write, 10, 19), false},
		{"posix same owner", px(1, 1, 1, Write, 0, 9), px(1, 1, 1, Write, 5, 14), false},
		{"posix same owner number other session", px(1, 1, 1, Write, 0, 9), px(2, 1, 1, Write, 5, 14), true},
		{"posix to EOF", px(1, 1, 1, Write, 10, ToEOF), px(1, 1, 2, Read, ToEOF, ToEOF), true},
		{"flock shared shared", fl(1, 1, 1, Read), fl(1, 1, 2, Read), false},
		{"flock shared exclusive", fl(1, 1, 1, Read), fl(1, 1, 2, Write), true},
		{"flock exclusive shared", fl(1, 1, 1, Write), fl(1, 1, 2, Read), true},
		{"flock same owner", fl(1, 1, 1, Write), fl(1, 1, 1, Write), false},
		{"flock does not see posix", px(1, 1, 1, Write, 0, ToEOF), fl(1, 1, 2, Write), false},
		{"posix does not see flock", fl(1, 1, 1, Write), px(1, 1, 2, Write, 0, ToEOF), false},
		{"other inode", fl(1, 1, 1, Write), fl(1, 2, 2, Write), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := New(Config{})
			mustSet(t, tab, tt.held)
			before := tab.Locks(tt.req.Ino)
			err := tab.SetLk(tt.req)
			if tt.block {
				if !errors.Is(err, ErrWouldBlock) {
					t.Fatalf("SetLk = %v, want ErrWouldBlock", err)
				}
				if after := tab.Locks(tt.req.Ino); len(after) != len(before) {
					t.Errorf("failed SetLk changed locks: %v -> %v", before, after)
				}
			} else if err != nil {
				t.Fatalf("SetLk = %v, want success", err)
			}
		})
	}
}

func TestFlockConversion(t *testing.T) {
	t.Run("upgrade in place when alone", func(t *testing.T) {
		tab := New(Config{})
		mustSet(t, tab, fl(1, 1, 1, Read))
		mustSet(t, tab, fl(1, 1, 1, Write))
		if l := tab.Locks(1); len(l) != 1 || l[0].Type != Write {
			t.Errorf("locks %v, want one exclusive", l)
		}
	})
	t.Run("failed non-blocking upgrade drops the old lock as on Linux", func(t *testing.T) {
		tab := New(Config{})
		mustSet(t, tab, fl(1, 1, 1, Read))
		mustSet(t, tab, fl(1, 1, 2, Read))
		if err := tab.SetLk(fl(1, 1, 1, Write)); !errors.Is(err, ErrWouldBlock) {
			t.Fatalf("upgrade = %v, want ErrWouldBlock", err)
		}
		if l := tab.Locks(1); len(l) != 1 || l[0].Owner != 2 {
			t.Errorf("locks %v, want only owner 2's", l)
		}
	})
	t.Run("upgrade goes ahead of a writer waiting for it", func(t *testing.T) {
		tab := New(Config{})
		mustSet(t, tab, fl(1, 1, 1, Read))
		w := startQueued(t, tab, fl(1, 1, 2, Write))
		if err := tab.SetLkw(context.Background(), fl(1, 1, 1, Write)); err != nil {
			t.Fatalf("upgrade = %v", err)
		}
		if !w.blocked() || tab.Waiting(1) != 1 {
			t.Fatal("writer got in during the upgrade")
		}
		mustSet(t, tab, fl(1, 1, 1, Unlock))
		if err := w.result(t); err != nil {
			t.Fatalf("writer = %v", err)
		}
	})
	t.Run("two readers upgrading do not deadlock", func(t *testing.T) {
		tab := New(Config{})
		mustSet(t, tab, fl(1, 1, 1, Read))
		mustSet(t, tab, fl(1, 1, 2, Read))
		a := startQueued(t, tab, fl(1, 1, 1, Write)) // drops its shared lock, waits for 2
		if err := tab.SetLkw(context.Background(), fl(1, 1, 2, Write)); err != nil {
			t.Fatalf("second upgrade = %v", err)
		}
		mustSet(t, tab, fl(1, 1, 2, Unlock))
		if err := a.result(t); err != nil {
			t.Fatalf("first upgrade = %v", err)
		}
		if l := tab.Locks(1); len(l) != 1 || l[0].Owner != 1 || l[0].Type != Write {
			t.Errorf("locks %v, want owner 1 exclusive", l)
		}
	})
}

func TestFIFOWakeOrder(t *testing.T) {
	tab := New(Config{})
	mustSet(t, tab, px(1, 1, 1, Write, 0, 9))
	var ws []*pending
	for o := uint64(2); o <= 5; o++ {
		ws = append(ws, startQueued(t, tab, px(1, 1, o, Write, 0, 9)))
	}
	prev := uint64(1)
	for i, w := range ws {
		mustSet(t, tab, px(1, 1, prev, Unlock, 0, ToEOF))
		if err := w.result(t); err != nil {
			t.Fatalf("waiter %d = %v", i, err)
		}
		for _, later := range ws[i+1:] {
			if !later.blocked() || tab.Waiting(1) != len(ws)-i-1 {
				t.Fatalf("a later waiter was woken with waiter %d", i)
			}
		}
		prev = uint64(i + 2)
		if l := tab.Locks(1); len(l) != 1 || l[0].Owner != prev {
			t.Fatalf("locks %v, want owner %d", l, prev)
		}
	}
}

func TestFairQueueKeepsReadersBehindWriter(t *testing.T) {
	tab := New(Config{})
	mustSet(t, tab, px(1, 1, 1, Read, 0, 9))
	w := startQueued(t, tab, px(1, 1, 2, Write, 0, 9))
	r := startQueued(t, tab, px(1, 1, 3, Read, 5, 5)) // compatible with held, not with the writer
	// Non-blocking requests ignore the queue.
	mustSet(t, tab, px(1, 1, 4, Read, 0, 0))
	mustSet(t, tab, px(1, 1, 4, Unlock, 0, 0))
	// A blocking request that conflicts with no waiter is granted at once.
	if err := tab.SetLkw(context.Background(), px(1, 1, 5, Read, 20, 29)); err != nil {
		t.Fatal(err)
	}
	mustSet(t, tab, px(1, 1, 1, Unlock, 0, ToEOF))
	if err := w.result(t); err != nil {
		t.Fatalf("writer = %v", err)
	}
	if !r.blocked() || tab.Waiting(1) != 1 {
		t.Fatal("reader behind the writer got in with it")
	}
	mustSet(t, tab, px(1, 1, 2, Unlock, 0, ToEOF))
	if err := r.result(t); err != nil {
		t.Fatalf("reader = %v", err)
	}
}

func TestWakesEveryCompatibleWaiter(t *testing.T) {
	tab := New(Config{})
	mustSet(t, tab, fl(1, 1, 1, Write))
	var rs []*pending
	for o := uint64(2); o <= 4; o++ {
		rs = append(rs, startQueued(t, tab, fl(1, 1, o, Read)))
	}
	w := startQueued(t, tab, fl(1, 1, 9, Write))
	tab.ReleaseFlock(1, 1, 1)
	for i, r := range rs {
		if err := r.result(t); err != nil {
			t.Fatalf("reader %d = %v", i, err)
		}
	}
	if !w.blocked() || tab.Waiting(1) != 1 {
		t.Fatal("writer granted alongside readers")
	}
	for o := uint64(2); o <= 4; o++ {
		tab.ReleaseFlock(1, 1, o)
	}
	if err := w.result(t); err != nil {
		t.Fatalf("writer = %v", err)
	}
}

func TestCancelLeavesNoWaiter(t *testing.T) {
	tab := New(Config{})
	mustSet(t, tab, px(1, 1, 1, Read, 0, 9))
	w := startQueued(t, tab, px(1, 1, 2, Write, 0, 9))
	r := startQueued(t, tab, px(1, 1, 3, Read, 0, 9)) // queued behind the writer
	w.cancel()
	if err := w.result(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled SetLkw = %v, want context.Canceled", err)
	}
	// Removing the writer lets the reader behind it in.
	if err := r.result(t); err != nil {
		t.Fatalf("reader = %v", err)
	}
	if n := tab.Waiting(1); n != 0 {
		t.Errorf("Waiting = %d, want 0", n)
	}
	if st := tab.Stats(); st.Waiters != 0 || st.Locks != 2 {
		t.Errorf("Stats = %+v, want 2 locks and no waiters", st)
	}
	for _, l := range tab.Locks(1) {
		if l.Owner == 2 {
			t.Errorf("cancelled owner holds %+v", l)
		}
	}
	tab.graphMu.Lock()
	n := len(tab.waiting)
	tab.graphMu.Unlock()
	if n != 0 {
		t.Errorf("wait-for graph has %d owners, want 0", n)
	}
}

func TestCancelAfterGrantKeepsLock(t *testing.T) {
	tab := New(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Grantable at once: a dead context does not stop it.
	if err := tab.SetLkw(ctx, px(1, 1, 1, Write, 0, 9)); err != nil {
		t.Fatalf("SetLkw = %v", err)
	}
	if tab.Held(1) != 1 {
		t.Fatal("lock not held")
	}
}

func TestDeadlockDetection(t *testing.T) {
	t.Run("two owners one file", func(t *testing.T) {
		tab := New(Config{})
		mustSet(t, tab, px(1, 1, 1, Write, 0, 9))
		mustSet(t, tab, px(1, 1, 2, Write, 10, 19))
		a := startQueued(t, tab, px(1, 1, 1, Write, 10, 19))
		err := tab.SetLkw(context.Background(), px(1, 1, 2, Write, 0, 9))
		if !errors.Is(err, ErrDeadlock) {
			t.Fatalf("SetLkw = %v, want ErrDeadlock", err)
		}
		if tab.Waiting(1) != 1 {
			t.Errorf("Waiting = %d, want 1", tab.Waiting(1))
		}
		tab.ReleasePOSIX(1, 1, 2)
		if err := a.result(t); err != nil {
			t.Fatalf("first waiter = %v", err)
		}
	})
	t.Run("two owners upgrading", func(t *testing.T) {
		tab := New(Config{})
		mustSet(t, tab, px(1, 1, 1, Read, 0, 9))
		mustSet(t, tab, px(1, 1, 2, Read, 0, 9))
		a := startQueued(t, tab, px(1, 1, 1, Write, 0, 9))
		if err := tab.SetLkw(context.Background(), px(1, 1, 2, Write, 0, 9)); !errors.Is(err, ErrDeadlock) {
			t.Fatalf("SetLkw = %v, want ErrDeadlock", err)
		}
		a.cancel()
		a.result(t)
	})
	t.Run("three owners three files", func(t *testing.T) {
		tab := New(Config{})
		for o := uint64(1); o <= 3; o++ {
			mustSet(t, tab, px(1, o, o, Write, 0, ToEOF))
		}
		a := startQueued(t, tab, px(1, 2, 1, Read, 5, 5)) // 1 waits for 2
		b := startQueued(t, tab, px(1, 3, 2, Read, 5, 5)) // 2 waits for 3
		if err := tab.SetLkw(context.Background(), px(1, 1, 3, Write, 0, 0)); !errors.Is(err, ErrDeadlock) {
			t.Fatalf("SetLkw = %v, want ErrDeadlock", err)
		}
		// Not a cycle: an owner outside it just waits.
		c := startQueued(t, tab, px(1, 1, 4, Write, 0, 0))
		for _, p := range []*pending{a, b, c} {
			p.cancel()
			p.result(t)
		}
		if st := tab.Stats(); st.Waiters != 0 {
			t.Errorf("Stats = %+v, want no waiters", st)
		}
	})
	t.Run("sessions are separate owners", func(t *testing.T) {
		tab := New(Config{})
		mustSet(t, tab, px(1, 1, 7, Write, 0, 9))
		mustSet(t, tab, px(2, 1, 7, Write, 10, 19))
		a := startQueued(t, tab, px(1, 1, 7, Write, 10, 19))
		if err := tab.SetLkw(context.Background(), px(2, 1, 7, Write, 0, 9)); !errors.Is(err, ErrDeadlock) {
			t.Fatalf("SetLkw = %v, want ErrDeadlock", err)
		}
		a.cancel()
		a.result(t)
	})
	t.Run("flock cycles are not detected", func(t *testing.T) {
		tab := New(Config{})
		mustSet(t, tab, fl(1, 1, 1, Write))
		mustSet(t, tab, fl(1, 2, 2, Write))
		a := startQueued(t, tab, fl(1, 2, 1, Write))
		b := startQueued(t, tab, fl(1, 1, 2, Write))
		a.cancel()
		if err := a.result(t); !errors.Is(err, context.Canceled) {
			t.Fatalf("a = %v", err)
		}
		tab.ReleaseFlock(1, 1, 1)
		if err := b.result(t); err != nil {
			t.Fatalf("b = %v", err)
		}
	})
}

func TestQueueEdgeCycleIsBroken(t *testing.T) {
	// File 1: A reads, E waits to write (behind A), X asks to read and
	// queues behind E. File 2: X writes, and A now asks for it. A → X → E → A
	// runs through X's queue edge, so X must be let past E instead of
	// everyone waiting forever or A getting EDEADLK.
	const A, E, X = 1, 2, 3
	tab := New(Config{})
	mustSet(t, tab, px(1, 1, A, Read, 0, 9))
	mustSet(t, tab, px(1, 2, X, Write, 0, 9))
	e := startQueued(t, tab, px(1, 1, E, Write, 0, 9))
	x := startQueued(t, tab, px(1, 1, X, Read, 0, 9))
	a := start(tab, px(1, 2, A, Read, 0, 9))
	if err := x.result(t); err != nil {
		t.Fatalf("X = %v", err)
	}
	if !a.blocked() || !e.blocked() || tab.Waiting(1) != 1 || tab.Waiting(2) != 1 {
		t.Fatal("A or E did not wait")
	}
	tab.ReleasePOSIX(1, 2, X)
	if err := a.result(t); err != nil {
		t.Fatalf("A = %v", err)
	}
	tab.ReleasePOSIX(1, 1, A)
	tab.ReleasePOSIX(1, 1, X)
	if err := e.result(t); err != nil {
		t.Fatalf("E = %v", err)
	}
}

func TestTooManyLocks(t *testing.T) {
	fill := func(t *testing.T) *Table {
		tab := New(Config{})
		for i := uint64(0); i < DefaultMaxPerFile; i++ {
			mustSet(t, tab, px(1, 1, 1, Read, 2*i, 2*i))
		}
		if n := tab.Held(1); n != DefaultMaxPerFile {
			t.Fatalf("Held = %d, want %d", n, DefaultMaxPerFile)
		}
		return tab
	}
	tests := []struct {
		name string
		req  Request
		ok   bool
	}{
		{"513th range", px(1, 1, 1, Read, 5000, 5000), false},
		{"513th by another owner", px(1, 1, 2, Read, 5000, 5000), false},
		{"flock counts too", fl(1, 1, 3, Write), false},
		{"split by unlock", px(1, 1, 1, Unlock, 0, 0), true},
		{"merge shrinks", px(1, 1, 1, Read, 0, 2000), true},
		{"extend one in place", px(1, 1, 1, Read, 1, 1), true},
		{"upgrade part that splits", px(1, 1, 1, Write, 0, 0), true},
		{"other file", px(1, 2, 1, Read, 0, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := fill(t)
			err := tab.SetLk(tt.req)
			if tt.ok && err != nil {
				t.Fatalf("SetLk = %v, want success", err)
			}
			if !tt.ok && !errors.Is(err, ErrNoLocks) {
				t.Fatalf("SetLk = %v, want ErrNoLocks", err)
			}
			if n := tab.Held(1); n > DefaultMaxPerFile {
				t.Errorf("Held = %d, over the limit", n)
			}
		})
	}
	t.Run("configured limit", func(t *testing.T) {
		tab := New(Config{MaxPerFile: 2})
		mustSet(t, tab, fl(1, 1, 1, Read))
		mustSet(t, tab, fl(1, 1, 2, Read))
		if err := tab.SetLk(fl(1, 1, 3, Read)); !errors.Is(err, ErrNoLocks) {
			t.Fatalf("SetLk = %v, want ErrNoLocks", err)
		}
		// Splitting a range with an unlock needs a record too.
		mustSet(t, tab, fl(1, 1, 2, Unlock))
		mustSet(t, tab, px(1, 1, 1, Write, 0, 9))
		if err := tab.SetLk(px(1, 1, 1, Unlock, 4, 4)); !errors.Is(err, ErrNoLocks) {
			t.Fatalf("splitting unlock = %v, want ErrNoLocks", err)
		}
	})
	t.Run("queued request over the limit fails when its turn comes", func(t *testing.T) {
		tab := New(Config{MaxPerFile: 3})
		mustSet(t, tab, fl(1, 1, 1, Write))
		mustSet(t, tab, px(1, 1, 1, Write, 0, 9))
		mustSet(t, tab, px(1, 1, 3, Read, 50, 50)) // at the limit
		w := startQueued(t, tab, px(1, 1, 2, Read, 5, 5))
		mustSet(t, tab, px(1, 1, 1, Read, 0, 9)) // unblocks, but still full
		if err := w.result(t); !errors.Is(err, ErrNoLocks) {
			t.Fatalf("waiter = %v, want ErrNoLocks", err)
		}
	})
}

func TestReleases(t *testing.T) {
	setup := func(t *testing.T) *Table {
		tab := New(Config{})
		mustSet(t, tab, px(1, 1, 1, Write, 0, 9))
		mustSet(t, tab, px(1, 1, 1, Read, 20, ToEOF))
		mustSet(t, tab, fl(1, 1, 1, Write))
		mustSet(t, tab, px(1, 2, 1, Write, 0, 9))
		mustSet(t, tab, px(2, 1, 1, Read, 30, 39))
		return tab
	}
	t.Run("ReleasePOSIX drops only that owner's ranges on that file", func(t *testing.T) {
		tab := setup(t)
		w := startQueued(t, tab, px(2, 1, 5, Write, 0, 9))
		tab.ReleasePOSIX(1, 1, 1)
		if err := w.result(t); err != nil {
			t.Fatalf("waiter = %v", err)
		}
		want := []Lock{
			{Session: 1, Owner: 1, PID: 1001, End: ToEOF, Type: Write, Flock: true},
			{Session: 2, Owner: 1, PID: 101, Start: 30, End: 39, Type: Read},
			{Session: 2, Owner: 5, PID: 105, Start: 0, End: 9, Type: Write},
		}
		if got := tab.Locks(1); !equalLocks(got, want) {
			t.Errorf("locks %+v, want %+v", got, want)
		}
		if tab.Held(2) != 1 {
			t.Errorf("file 2 lost its lock")
		}
	})
	t.Run("ReleaseFlock drops only the flock", func(t *testing.T) {
		tab := setup(t)
		w := startQueued(t, tab, fl(2, 1, 1, Read))
		tab.ReleaseFlock(1, 1, 1)
		if err := w.result(t); err != nil {
			t.Fatalf("waiter = %v", err)
		}
		if n := tab.SessionStats(1).Locks; n != 3 {
			t.Errorf("session 1 holds %d locks, want 3", n)
		}
	})
	t.Run("ReleaseSession drops everything and wakes waiters", func(t *testing.T) {
		tab := setup(t)
		w1 := startQueued(t, tab, fl(2, 1, 9, Write))
		w2 := startQueued(t, tab, px(2, 2, 9, Read, 0, 0))
		mine := startQueued(t, tab, px(1, 1, 1, Write, 30, 30)) // session 1 waits for session 2
		if st := tab.SessionStats(1); st != (Stats{Files: 2, Locks: 4, Waiters: 1}) {
			t.Errorf("SessionStats(1) = %+v", st)
		}
		tab.ReleaseSession(1)
		for i, w := range []*pending{w1, w2} {
			if err := w.result(t); err != nil {
				t.Fatalf("waiter %d = %v", i, err)
			}
		}
		if err := mine.result(t); !errors.Is(err, ErrSessionReleased) {
			t.Fatalf("waiter of released session = %v, want ErrSessionReleased", err)
		}
		if st := tab.SessionStats(1); st != (Stats{}) {
			t.Errorf("SessionStats(1) = %+v, want zero", st)
		}
		if st := tab.Stats(); st != (Stats{Files: 2, Locks: 3}) {
			t.Errorf("Stats = %+v", st)
		}
	})
	t.Run("unlock of nothing", func(t *testing.T) {
		tab := New(Config{})
		tab.ReleasePOSIX(1, 1, 1)
		tab.ReleaseFlock(1, 1, 1)
		tab.ReleaseSession(1)
		mustSet(t, tab, fl(1, 1, 1, Unlock))
		if st := tab.Stats(); st != (Stats{}) {
			t.Errorf("Stats = %+v, want zero", st)
		}
	})
}

func equalLocks(a, b []Lock) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDeadlockSeesLocksGrantedPastTheQueue(t *testing.T) {
	// Owner 2 waits for owner 1; owner 3 then takes a read lock past the
	// queue (non-blocking requests ignore it), so owner 2 now waits for
	// owner 3 too, and owner 3 waiting for owner 2 would deadlock.
	tab := New(Config{})
	mustSet(t, tab, px(1, 1, 2, Write, 20, 29))
	mustSet(t, tab, px(1, 1, 1, Read, 0, 9))
	w := startQueued(t, tab, px(1, 1, 2, Write, 0, 9))
	mustSet(t, tab, px(1, 1, 3, Read, 0, 9))
	if err := tab.SetLkw(context.Background(), px(1, 1, 3, Write, 20, 29)); !errors.Is(err, ErrDeadlock) {
		t.Fatalf("SetLkw = %v, want ErrDeadlock", err)
	}
	tab.ReleasePOSIX(1, 1, 1)
	if !w.blocked() || tab.Waiting(1) != 1 {
		t.Fatal("owner 2 granted while owner 3 still reads")
	}
	tab.ReleasePOSIX(1, 1, 3)
	if err := w.result(t); err != nil {
		t.Fatalf("owner 2 = %v", err)
	}
}
