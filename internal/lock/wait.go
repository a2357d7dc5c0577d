package lock

import "slices"

// waiter is a blocked SetLkw call.
type waiter struct {
	rec record
	f   *file
	// blockers are the owners this waiter waits for: holders of conflicting
	// locks, and owners of earlier conflicting waiters on the same file
	// (queue edges, which keep the queue fair). Guarded by Table.graphMu.
	blockers []edge
	// queued is true while the waiter is in f.waiters. Guarded by the
	// shard lock.
	queued bool
	done   chan error // receives the result once; buffered
}

type edge struct {
	o     owner
	queue bool
}

func addEdge(es []edge, o owner, queue bool) []edge {
	for i := range es {
		if es[i].o == o {
			if !queue {
				es[i].queue = false
			}
			return es
		}
	}
	return append(es, edge{o: o, queue: queue})
}

// blockersLocked computes what r waits for if it queues after the waiters
// in earlier. A conflicting earlier waiter is not waited for when it itself
// waits, directly or transitively, for r's owner: queueing behind it would
// deadlock (the classic case is an upgrade by a reader that a queued writer
// waits for). Called with the shard lock and graphMu held.
func (t *Table) blockersLocked(f *file, r *record, earlier []*waiter, buf []edge) []edge {
	buf = buf[:0]
	for i := range f.locks {
		if h := &f.locks[i]; conflicts(r, h) {
			buf = addEdge(buf, h.o, false)
		}
	}
	for _, e := range earlier {
		if conflicts(r, &e.rec) && !t.reachesLocked(e.rec.o, r.o, false) {
			buf = addEdge(buf, e.rec.o, true)
		}
	}
	return buf
}

// queueBlocked reports whether a blocking request must queue behind an
// earlier waiter. Called with the shard lock held.
func (t *Table) queueBlocked(f *file, r *record) bool {
	if len(f.waiters) == 0 {
		return false
	}
	t.graphMu.Lock()
	defer t.graphMu.Unlock()
	for _, e := range f.waiters {
		if conflicts(r, &e.rec) && !t.reachesLocked(e.rec.o, r.o, false) {
			return true
		}
	}
	return false
}

// reachesLocked reports whether owner from waits, through a chain of
// waiters, for owner to. With heldOnly it follows only waits for held locks,
// which no amount of queue reordering can undo. Called with graphMu held.
func (t *Table) reachesLocked(from, to owner, heldOnly bool) bool {
	if from == to {
		return true
	}
	if len(t.waiting[from]) == 0 {
		return false
	}
	// Wait-for graphs are small: a slice beats a map and, reused, does not
	// allocate.
	seen := append(t.seen[:0], from)
	stack := append(t.stack[:0], from)
	defer func() { t.seen, t.stack = seen[:0], stack[:0] }()
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range t.waiting[o] {
			for _, e := range w.blockers {
				if heldOnly && e.queue {
					continue
				}
				if e.o == to {
					return true
				}
				if !slices.Contains(seen, e.o) {
					seen = append(seen, e.o)
					stack = append(stack, e.o)
				}
			}
		}
	}
	return false
}

// deadlockLocked reports whether w, not yet queued, would wait for a held
// lock whose holder transitively waits for w's owner through held locks.
// Called with graphMu held.
func (t *Table) deadlockLocked(w *waiter) bool {
	for _, e := range w.blockers {
		if !e.queue && t.reachesLocked(e.o, w.rec.o, true) {
			return true
		}
	}
	return false
}

// cycleInodes handles a cycle that the new waiter w closes through queue
// edges (a wait for an earlier waiter rather than for a held lock), which
// can happen across files: such a cycle is not a real deadlock, because the
// waiter behind the queue edge may go first. It returns the files of the
// waiters on paths from w back to its owner that have queue edges;
// re-evaluating them lets blockersLocked drop the queue edge that closes the
// cycle. Called with w's shard lock held.
func (t *Table) cycleInodes(w *waiter) []uint64 {
	t.graphMu.Lock()
	defer t.graphMu.Unlock()
	me := w.rec.o
	cyclic := false
	for _, e := range w.blockers {
		if t.reachesLocked(e.o, me, false) {
			cyclic = true
			break
		}
	}
	if !cyclic {
		return nil
	}
	var inos []uint64
	seen := map[owner]bool{me: true}
	stack := []owner{me}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, x := range t.waiting[o] {
			if x != w && slices.ContainsFunc(x.blockers, func(e edge) bool { return e.queue }) && !slices.Contains(inos, x.f.ino) {
				inos = append(inos, x.f.ino)
			}
			for _, e := range x.blockers {
				if !seen[e.o] {
					seen[e.o] = true
					stack = append(stack, e.o)
				}
			}
		}
	}
	return inos
}

// dequeue removes a queued waiter from its file and from the graph. Called
// with the shard lock held.
func (t *Table) dequeue(f *file, w *waiter) {
	if i := slices.Index(f.waiters, w); i >= 0 {
		f.waiters = slices.Delete(f.waiters, i, i+1)
	}
	w.queued = false
	t.graphMu.Lock()
	t.unwaitLocked(w)
	t.graphMu.Unlock()
}

func (t *Table) unwaitLocked(w *waiter) {
	ws := t.waiting[w.rec.o]
	if i := slices.Index(ws, w); i >= 0 {
		ws = slices.Delete(ws, i, i+1)
	}
	if len(ws) == 0 {
		delete(t.waiting, w.rec.o)
	} else {
		t.waiting[w.rec.o] = ws
	}
}

// process grants, in FIFO order, every waiter of f that can now go, and
// refreshes the blockers of the rest. A grant can unblock an earlier waiter
// (a POSIX grant may downgrade the grantee's own ranges), so it starts over
// after each one. Called with the shard lock held.
func (t *Table) process(f *file) {
	if len(f.waiters) == 0 {
		return
	}
	t.graphMu.Lock()
	defer t.graphMu.Unlock()
	for again := true; again; {
		again = false
		for i, w := range f.waiters {
			w.blockers = t.blockersLocked(f, &w.rec, f.waiters[:i], w.blockers)
			if len(w.blockers) > 0 {
				continue
			}
			err := t.change(f, &w.rec)
			f.waiters = slices.Delete(f.waiters, i, i+1)
			w.queued = false
			t.unwaitLocked(w)
			w.done <- err
			again = true
			break
		}
	}
}
