package lock

import (
	"cmp"
	"slices"
)

// Held returns the number of lock records on ino: POSIX ranges and flocks of
// all owners. It is the number the per-file limit applies to.
func (t *Table) Held(ino uint64) int {
	sh := t.shard(ino)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if f := sh.files[ino]; f != nil {
		return len(f.locks)
	}
	return 0
}

// Waiting returns the number of SetLkw calls blocked on ino.
func (t *Table) Waiting(ino uint64) int {
	sh := t.shard(ino)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if f := sh.files[ino]; f != nil {
		return len(f.waiters)
	}
	return 0
}

// Locks returns the locks held on ino, flocks first, then by session, owner
// and start.
func (t *Table) Locks(ino uint64) []Lock {
	sh := t.shard(ino)
	sh.mu.Lock()
	var out []Lock
	if f := sh.files[ino]; f != nil {
		out = make([]Lock, 0, len(f.locks))
		for i := range f.locks {
			out = append(out, f.locks[i].lock())
		}
	}
	sh.mu.Unlock()
	slices.SortFunc(out, func(a, b Lock) int {
		if a.Flock != b.Flock {
			if a.Flock {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Session, b.Session), cmp.Compare(a.Owner, b.Owner), cmp.Compare(a.Start, b.Start))
	})
	return out
}

// Stats counts what the table holds.
type Stats struct {
	Files   int // files with locks or waiters
	Locks   int // lock records
	Waiters int // blocked SetLkw calls
}

// Stats returns counts over the whole table. It visits every file, so it
// is meant for metrics and tests, not for request paths.
func (t *Table) Stats() Stats {
	return t.stats(func(Session) bool { return true })
}

// SessionStats returns the counts of session s's locks and waiters, and of
// the files they are on. Like Stats, it visits every file.
func (t *Table) SessionStats(s Session) Stats {
	return t.stats(func(x Session) bool { return x == s })
}

func (t *Table) stats(match func(Session) bool) Stats {
	var st Stats
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, f := range sh.files {
			n, w := 0, 0
			for j := range f.locks {
				if match(f.locks[j].o.s) {
					n++
				}
			}
			for _, x := range f.waiters {
				if match(x.rec.o.s) {
					w++
				}
			}
			if n+w > 0 {
				st.Files++
			}
			st.Locks += n
			st.Waiters += w
		}
		sh.mu.Unlock()
	}
	return st
}
