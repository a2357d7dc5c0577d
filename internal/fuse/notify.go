package fuse

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"tarn.dev/tarn/internal/vfs"
)

// settleTimeout bounds how long a request waits for other mounts to apply
// the invalidations it caused. Two mounts writing the same file at once can
// each hold kernel page locks that the other's invalidation needs; the
// bound turns that cycle into a short stall instead of a hang.
const settleTimeout = 500 * time.Millisecond

// noteSeq numbers kernel notifications process-wide, so that a request can
// wait until every mount has delivered the notifications its change caused.
var noteSeq atomic.Uint64

// notifiers are the live mounts' notification queues.
var notifiers struct {
	sync.Mutex
	set map[*notifier]struct{}
}

// note is one pending kernel notification.
type note struct {
	kind   vfs.ChangeKind
	ino    uint64
	parent uint64
	name   string
}

// notifier delivers a mount's kernel cache invalidations from its own
// goroutine. Writing a notification to /dev/fuse from inside a request
// handler can deadlock: the kernel may need a lock (a page lock, a
// directory's i_rwsem) that the request being served holds. Identical
// pending notifications are merged, so the queue is bounded by the number
// of distinct inodes and entries changed, and none is ever dropped.
type notifier struct {
	srv    *gofuse.Server
	origin uint64 // changes with this origin came from this mount
	log    *slog.Logger

	mu      sync.Mutex
	queue   []queued
	pending map[note]bool
	enq     uint64        // sequence number of the last change received
	done    uint64        // every change up to this one is delivered
	moved   chan struct{} // closed and replaced when done advances
	wake    chan struct{} // signals the worker (capacity 1)
	closed  bool
	stopped chan struct{}
}

type queued struct {
	note
	seq uint64
}

func newNotifier(srv *gofuse.Server, origin uint64, log *slog.Logger) *notifier {
	n := &notifier{srv: srv, origin: origin, log: log, pending: map[note]bool{}, moved: make(chan struct{}),
		wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	notifiers.Lock()
	if notifiers.set == nil {
		notifiers.set = map[*notifier]struct{}{}
	}
	notifiers.set[n] = struct{}{}
	notifiers.Unlock()
	go n.run()
	return n
}

// change receives a vfs.Change. It runs on the goroutine that made the
// change and never blocks.
func (n *notifier) change(ch vfs.Change) {
	if ch.Origin == n.origin {
		return // made through this mount: its kernel already knows
	}
	nt := note{kind: ch.Kind, ino: uint64(ch.Ino)}
	if ch.Kind == vfs.ChangeEntry {
		nt = note{kind: ch.Kind, parent: uint64(ch.Parent), name: ch.Name}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	seq := noteSeq.Add(1)
	n.enq = seq
	if !n.pending[nt] {
		n.pending[nt] = true
		n.queue = append(n.queue, queued{nt, seq})
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *notifier) run() {
	defer close(n.stopped)
	for {
		n.mu.Lock()
		for len(n.queue) == 0 && !n.closed {
			n.mu.Unlock()
			<-n.wake
			n.mu.Lock()
		}
		if len(n.queue) == 0 {
			n.advance(n.enq)
			n.mu.Unlock()
			return
		}
		q := n.queue[0]
		n.queue = n.queue[1:]
		if len(n.queue) == 0 {
			n.queue = nil
		}
		delete(n.pending, q.note)
		n.mu.Unlock()

		n.deliver(q.note)

		n.mu.Lock()
		if len(n.queue) == 0 {
			n.advance(n.enq)
		} else {
			n.advance(q.seq)
		}
		n.mu.Unlock()
	}
}

// advance records progress and wakes settle waiters. Caller holds n.mu.
func (n *notifier) advance(seq uint64) {
	if seq <= n.done {
		return
	}
	n.done = seq
	close(n.moved)
	n.moved = make(chan struct{})
}

func (n *notifier) deliver(nt note) {
	var st gofuse.Status
	switch nt.kind {
	case vfs.ChangeAttr:
		st = n.srv.InodeNotify(nt.ino, -1, 0) // attributes only
	case vfs.ChangeData:
		st = n.srv.InodeNotify(nt.ino, 0, 0) // attributes and every cached page
	case vfs.ChangeEntry:
		st = n.srv.EntryNotify(nt.parent, nt.name)
	}
	// ENOENT: the kernel has nothing cached for it. Other failures (the
	// mount going away) leave nothing to invalidate either.
	if !st.Ok() && st != gofuse.ENOENT {
		n.log.Debug("kernel notification failed", "kind", nt.kind, "ino", nt.ino, "parent", nt.parent,
			"name", nt.name, "status", st)
	}
}

// close stops the worker after it delivered what is queued.
func (n *notifier) close() {
	n.mu.Lock()
	n.closed = true
	select {
	case n.wake <- struct{}{}:
	default:
	}
	n.mu.Unlock()
	<-n.stopped
	notifiers.Lock()
	delete(notifiers.set, n)
	notifiers.Unlock()
}

// settle waits until every other mount has delivered the notifications for
// changes made so far, so that a change is visible through all local mounts
// by the time the request that made it returns. The mount's own queue is not
// waited for: its kernel already knows the outcome of its own request, and
// waiting for it could deadlock on the locks the request holds.
func settle(self *notifier) {
	target := noteSeq.Load()
	notifiers.Lock()
	var others []*notifier
	for n := range notifiers.set {
		if n != self {
			others = append(others, n)
		}
	}
	notifiers.Unlock()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for _, n := range others {
		for {
			n.mu.Lock()
			goal := min(target, n.enq)
			if n.done >= goal || n.closed {
				n.mu.Unlock()
				break
			}
			moved := n.moved
			n.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(settleTimeout)
			}
			select {
			case <-moved:
			case <-timer.C:
				self.log.Debug("gave up waiting for another mount's cache invalidations", "seq", target)
				return
			}
		}
	}
}
