package lock

// owner identifies a lock holder. flock and POSIX owners live in separate
// name spaces: the same kernel number names an open file description for one
// and a file table for the other.
type owner struct {
	s     Session
	id    uint64
	flock bool
}

func ownerOf(s Session, id uint64, flock bool) owner {
	return owner{s: s, id: id, flock: flock}
}

// record is one held lock, or a request. flock records span [0, ToEOF].
type record struct {
	o          owner
	start, end uint64
	pid        uint32
	typ        Type
}

func (r *record) lock() Lock {
	return Lock{Session: r.o.s, Owner: r.o.id, PID: r.pid, Start: r.start, End: r.end, Type: r.typ, Flock: r.o.flock}
}

func overlap(a, b *record) bool {
	return a.start <= b.end && b.start <= a.end
}

// touch reports whether a and b overlap or are adjacent, careful of the ends
// of the uint64 range.
func touch(a, b *record) bool {
	if overlap(a, b) {
		return true
	}
	return (a.end != ToEOF && a.end+1 == b.start) || (b.end != ToEOF && b.end+1 == a.start)
}

// conflicts reports whether request r cannot be granted while h is held: a
// different owner of the same kind, overlapping, and one of them exclusive.
func conflicts(r, h *record) bool {
	return r.o != h.o && r.o.flock == h.o.flock && (r.typ == Write || h.typ == Write) && overlap(r, h)
}

func heldConflict(f *file, r *record) bool {
	for i := range f.locks {
		if conflicts(r, &f.locks[i]) {
			return true
		}
	}
	return false
}

func (f *file) ownFlock(o owner) int {
	for i := range f.locks {
		if f.locks[i].o == o {
			return i
		}
	}
	return -1
}

func (f *file) remove(i int) {
	last := len(f.locks) - 1
	f.locks[i] = f.locks[last]
	f.locks[last] = record{}
	f.locks = f.locks[:last]
}

// posixDelta returns how the number of records changes when POSIX request r
// (which may be an unlock) is applied.
func posixDelta(locks []record, r *record) int {
	d := 0
	if r.typ != Unlock {
		d = 1
	}
	for i := range locks {
		h := &locks[i]
		if h.o != r.o {
			continue
		}
		if h.typ == r.typ {
			if touch(h, r) {
				d-- // merged into the new record
			}
			continue
		}
		if !overlap(h, r) {
			continue
		}
		d--
		if h.start < r.start {
			d++
		}
		if h.end > r.end {
			d++
		}
	}
	return d
}

// applyPOSIX applies POSIX request r to locks as fcntl(2) does and returns
// the new slice, reusing locks' array. The owner's records of r's type that
// overlap or touch r merge with it; the parts of its other records that r
// covers are replaced (upgrade, downgrade) or, for an unlock, removed, which
// splits a record in two when r falls strictly inside it. An owner's records
// never overlap each other, and records of the same type never touch.
func applyPOSIX(locks []record, r *record) []record {
	merged := *r
	var extra record
	hasExtra := false
	out := locks[:0]
	for _, h := range locks {
		if h.o != r.o {
			out = append(out, h)
			continue
		}
		if h.typ == r.typ {
			if touch(&h, r) {
				merged.start = min(merged.start, h.start)
				merged.end = max(merged.end, h.end)
				continue
			}
			out = append(out, h)
			continue
		}
		if !overlap(&h, r) {
			out = append(out, h)
			continue
		}
		left, right := h.start < r.start, h.end > r.end
		if left {
			l := h
			l.end = r.start - 1
			out = append(out, l)
		}
		if right {
			rt := h
			rt.start = r.end + 1
			if left {
				// Writing both pieces in place could overwrite records not
				// yet read; at most one record can be split.
				extra, hasExtra = rt, true
			} else {
				out = append(out, rt)
			}
		}
	}
	clear(locks[len(out):])
	if hasExtra {
		out = append(out, extra)
	}
	if r.typ != Unlock {
		out = append(out, merged)
	}
	return out
}
