package lock

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The reference model keeps one lock type per owner per byte. Bytes
// 0..modelCells-1 stand for themselves; the extra cell modelCells stands for
// every byte from modelCells to the end of the file, which requests only
// cover as a whole (they start at or below it and end below it or at ToEOF).
const modelCells = 16

type modelOwner struct {
	s  Session
	id uint64
}

type model struct {
	posix map[modelOwner]*[modelCells + 1]Type
	flock map[modelOwner]Type
}

func cellsOf(start, end uint64) (int, int) {
	hi := int(min(end, modelCells))
	return int(start), hi
}

func (m *model) posixConflict(o modelOwner, typ Type, start, end uint64) bool {
	lo, hi := cellsOf(start, end)
	for other, cells := range m.posix {
		if other == o {
			continue
		}
		for c := lo; c <= hi; c++ {
			if cells[c] != 0 && (typ == Write || cells[c] == Write) {
				return true
			}
		}
	}
	return false
}

func (m *model) flockConflict(o modelOwner, typ Type) bool {
	for other, t := range m.flock {
		if other != o && t != 0 && (typ == Write || t == Write) {
			return true
		}
	}
	return false
}

// records returns the canonical records of the model: maximal runs of one type.
func (m *model) records() map[string]bool {
	out := map[string]bool{}
	for o, cells := range m.posix {
		for c := 0; c <= modelCells; {
			if cells[c] == 0 {
				c++
				continue
			}
			e := c
			for e+1 <= modelCells && cells[e+1] == cells[c] {
				e++
			}
			end := uint64(e)
			if e == modelCells {
				end = ToEOF
			}
			out[fmt.Sprintf("posix s%d o%d %v [%d,%d]", o.s, o.id, cells[c], c, end)] = true
			c = e + 1
		}
	}
	for o, t := range m.flock {
		if t != 0 {
			out[fmt.Sprintf("flock s%d o%d %v", o.s, o.id, t)] = true
		}
	}
	return out
}

func tableRecords(tab *Table, ino uint64) (map[string]bool, error) {
	out := map[string]bool{}
	for _, l := range tab.Locks(ino) {
		k := fmt.Sprintf("posix s%d o%d %v [%d,%d]", l.Session, l.Owner, l.Type, l.Start, l.End)
		if l.Flock {
			k = fmt.Sprintf("flock s%d o%d %v", l.Session, l.Owner, l.Type)
		}
		if out[k] {
			return nil, fmt.Errorf("duplicate record %s", k)
		}
		out[k] = true
	}
	return out, nil
}

func modelSeeds(t *testing.T) []uint64 {
	if s := os.Getenv("LOCK_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LOCK_SEED: %v", err)
		}
		return []uint64{n}
	}
	base := uint64(time.Now().UnixNano())
	seeds := make([]uint64, 12)
	for i := range seeds {
		seeds[i] = base + uint64(i)
	}
	return seeds
}

// TestMatchesByteModel applies random operations to a Table and to a per-byte
// reference model and compares the outcome of every operation and the full
// lock state after it. Rerun a failure with LOCK_SEED=<seed>.
func TestMatchesByteModel(t *testing.T) {
	for _, seed := range modelSeeds(t) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			if err := runModel(seed, 1500); err != nil {
				t.Fatalf("seed %d (rerun with LOCK_SEED=%d): %v", seed, seed, err)
			}
		})
	}
}

func runModel(seed uint64, steps int) error {
	rng := rand.New(rand.NewPCG(seed, 0))
	tab := New(Config{})
	m := &model{posix: map[modelOwner]*[modelCells + 1]Type{}, flock: map[modelOwner]Type{}}
	owners := []modelOwner{{1, 1}, {1, 2}, {1, 3}, {2, 1}}
	types := []Type{Read, Write, Unlock}
	const ino = 7
	randRange := func() (uint64, uint64) {
		s := uint64(rng.IntN(modelCells + 1))
		if s == modelCells || rng.IntN(4) == 0 {
			return s, ToEOF
		}
		return s, s + uint64(rng.IntN(modelCells-int(s)))
	}
	var log []string
	fail := func(format string, args ...any) error {
		tail := log[max(0, len(log)-8):]
		return fmt.Errorf("step %d: %s\nlast ops: %q", len(log), fmt.Sprintf(format, args...), tail)
	}
	for range steps {
		o := owners[rng.IntN(len(owners))]
		typ := types[rng.IntN(3)]
		switch op := rng.IntN(20); {
		case op < 10: // POSIX set
			s, e := randRange()
			req := Request{Session: o.s, Ino: ino, Owner: o.id, Start: s, End: e, Type: typ}
			log = append(log, fmt.Sprintf("setlk %+v", req))
			conflict := typ != Unlock && m.posixConflict(o, typ, s, e)
			var err error
			if !conflict && rng.IntN(2) == 0 {
				err = tab.SetLkw(context.Background(), req)
			} else {
				err = tab.SetLk(req)
			}
			if conflict != errors.Is(err, ErrWouldBlock) || (!conflict && err != nil) {
				return fail("SetLk = %v, model conflict %v", err, conflict)
			}
			if !conflict {
				cells := m.posix[o]
				if cells == nil {
					cells = new([modelCells + 1]Type)
					m.posix[o] = cells
				}
				lo, hi := cellsOf(s, e)
				for c := lo; c <= hi; c++ {
					cells[c] = typ % Unlock // Unlock → 0
				}
			}
		case op < 13: // POSIX get
			if typ == Unlock {
				typ = Write
			}
			s, e := randRange()
			req := Request{Session: o.s, Ino: ino, Owner: o.id, Start: s, End: e, Type: typ}
			log = append(log, fmt.Sprintf("getlk %+v", req))
			got, err := tab.GetLk(req)
			if err != nil {
				return fail("GetLk = %v", err)
			}
			conflict := m.posixConflict(o, typ, s, e)
			if conflict != (got.Type != Unlock) {
				return fail("GetLk = %+v, model conflict %v", got, conflict)
			}
			if conflict {
				r := record{o: owner{s: o.s, id: o.id}, start: s, end: e, typ: typ}
				h := record{o: owner{s: got.Session, id: got.Owner, flock: got.Flock}, start: got.Start, end: got.End, typ: got.Type}
				if !conflicts(&r, &h) {
					return fail("GetLk = %+v does not conflict", got)
				}
				for _, l := range tab.Locks(ino) {
					x := record{o: owner{s: l.Session, id: l.Owner, flock: l.Flock}, start: l.Start, end: l.End, typ: l.Type}
					if conflicts(&r, &x) && x.start < got.Start {
						return fail("GetLk = %+v, but %+v conflicts and starts lower", got, l)
					}
				}
			}
		case op < 14:
			log = append(log, fmt.Sprintf("releaseposix %v", o))
			tab.ReleasePOSIX(o.s, ino, o.id)
			delete(m.posix, o)
		case op < 18: // flock set
			req := Request{Session: o.s, Ino: ino, Owner: o.id, Type: typ, Flock: true}
			log = append(log, fmt.Sprintf("flock %+v", req))
			conflict := typ != Unlock && m.flockConflict(o, typ)
			err := tab.SetLk(req)
			if conflict != errors.Is(err, ErrWouldBlock) || (!conflict && err != nil) {
				return fail("flock SetLk = %v, model conflict %v", err, conflict)
			}
			if conflict {
				m.flock[o] = 0 // a failed conversion drops the old lock
			} else {
				m.flock[o] = typ % Unlock
			}
		case op < 19:
			log = append(log, fmt.Sprintf("releaseflock %v", o))
			tab.ReleaseFlock(o.s, ino, o.id)
			delete(m.flock, o)
		default:
			log = append(log, "releasesession 2")
			tab.ReleaseSession(2)
			for x := range m.posix {
				if x.s == 2 {
					delete(m.posix, x)
				}
			}
			for x := range m.flock {
				if x.s == 2 {
					delete(m.flock, x)
				}
			}
		}
		want := m.records()
		got, err := tableRecords(tab, ino)
		if err != nil {
			return fail("%v", err)
		}
		if len(got) != len(want) {
			return fail("table %v\nmodel %v", keys(got), keys(want))
		}
		for k := range want {
			if !got[k] {
				return fail("table %v\nmodel %v", keys(got), keys(want))
			}
		}
		if n := tab.Held(ino); n != len(want) {
			return fail("Held = %d, want %d", n, len(want))
		}
	}
	return nil
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
