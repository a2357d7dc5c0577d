package lock

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
)

const eof = ToEOF

// rl is a POSIX lock request or expected record of one owner in session 1 on
// inode 1: "R"/"W"/"U" with a range.
type rl struct {
	owner      uint64
	typ        Type
	start, end uint64
}

func (x rl) req() Request {
	return Request{Session: 1, Ino: 1, Owner: x.owner, PID: uint32(100 + x.owner), Start: x.start, End: x.end, Type: x.typ}
}

func posixHeld(t *Table, ino uint64) []rl {
	var out []rl
	for _, l := range t.Locks(ino) {
		if !l.Flock {
			out = append(out, rl{l.Owner, l.Type, l.Start, l.End})
		}
	}
	return out
}

func TestPOSIXRangeArithmetic(t *testing.T) {
	R, W, U := Read, Write, Unlock
	tests := []struct {
		name string
		ops  []rl
		want []rl
	}{
		{"merge overlapping", []rl{{1, R, 0, 9}, {1, R, 5, 14}}, []rl{{1, R, 0, 14}}},
		{"merge adjacent", []rl{{1, R, 0, 9}, {1, R, 10, 19}}, []rl{{1, R, 0, 19}}},
		{"merge adjacent before", []rl{{1, W, 10, 19}, {1, W, 0, 9}}, []rl{{1, W, 0, 19}}},
		{"gap keeps two", []rl{{1, R, 0, 9}, {1, R, 11, 19}}, []rl{{1, R, 0, 9}, {1, R, 11, 19}}},
		{"bridge merges three", []rl{{1, R, 0, 4}, {1, R, 10, 14}, {1, R, 5, 9}}, []rl{{1, R, 0, 14}}},
		{"same type inside is no change", []rl{{1, W, 0, 19}, {1, W, 5, 9}}, []rl{{1, W, 0, 19}}},
		{"upgrade middle splits", []rl{{1, R, 0, 19}, {1, W, 5, 9}}, []rl{{1, R, 0, 4}, {1, W, 5, 9}, {1, R, 10, 19}}},
		{"downgrade middle splits", []rl{{1, W, 0, 19}, {1, R, 5, 9}}, []rl{{1, W, 0, 4}, {1, R, 5, 9}, {1, W, 10, 19}}},
		{"downgrade whole", []rl{{1, W, 0, 9}, {1, R, 0, 9}}, []rl{{1, R, 0, 9}}},
		{"upgrade at start", []rl{{1, R, 0, 9}, {1, W, 0, 4}}, []rl{{1, W, 0, 4}, {1, R, 5, 9}}},
		{"upgrade covering several", []rl{{1, R, 0, 4}, {1, R, 10, 14}, {1, W, 0, 19}}, []rl{{1, W, 0, 19}}},
		{"adjacent other type stays apart", []rl{{1, R, 0, 9}, {1, W, 10, 19}}, []rl{{1, R, 0, 9}, {1, W, 10, 19}}},
		{"convert and merge across", []rl{{1, R, 0, 9}, {1, W, 10, 19}, {1, R, 20, 29}, {1, R, 5, 25}}, []rl{{1, R, 0, 29}}},
		{"partial convert merges neighbour", []rl{{1, R, 0, 9}, {1, W, 10, 19}, {1, R, 10, 14}}, []rl{{1, R, 0, 14}, {1, W, 15, 19}}},
		{"unlock middle splits", []rl{{1, W, 0, 19}, {1, U, 5, 9}}, []rl{{1, W, 0, 4}, {1, W, 10, 19}}},
		{"unlock head", []rl{{1, W, 0, 19}, {1, U, 0, 4}}, []rl{{1, W, 5, 19}}},
		{"unlock tail", []rl{{1, W, 0, 19}, {1, U, 15, 19}}, []rl{{1, W, 0, 14}}},
		{"unlock covering", []rl{{1, W, 5, 9}, {1, R, 20, 29}, {1, U, 0, 100}}, nil},
		{"unlock spanning two", []rl{{1, W, 0, 9}, {1, R, 20, 29}, {1, U, 5, 24}}, []rl{{1, W, 0, 4}, {1, R, 25, 29}}},
		{"unlock nothing held", []rl{{1, U, 0, 9}}, nil},
		{"unlock adjacent is no change", []rl{{1, W, 0, 9}, {1, U, 10, 19}}, []rl{{1, W, 0, 9}}},
		{"to EOF split by other type", []rl{{1, R, 10, eof}, {1, W, 20, 29}}, []rl{{1, R, 10, 19}, {1, W, 20, 29}, {1, R, 30, eof}}},
		{"to EOF unlock tail", []rl{{1, W, 0, eof}, {1, U, 100, eof}}, []rl{{1, W, 0, 99}}},
		{"to EOF merge", []rl{{1, R, 0, 9}, {1, R, 10, eof}}, []rl{{1, R, 0, eof}}},
		{"adjacent at MaxUint64", []rl{{1, R, 0, eof - 1}, {1, R, eof, eof}}, []rl{{1, R, 0, eof}}},
		{"last byte only", []rl{{1, W, eof, eof}, {1, R, 0, 5}}, []rl{{1, R, 0, 5}, {1, W, eof, eof}}},
		{"upgrade last byte of EOF range", []rl{{1, R, 0, eof}, {1, W, eof, eof}}, []rl{{1, R, 0, eof - 1}, {1, W, eof, eof}}},
		{"unlock last byte", []rl{{1, W, eof, eof}, {1, U, eof, eof}}, nil},
		{"unlock from zero of EOF range", []rl{{1, W, 0, eof}, {1, U, 0, 0}}, []rl{{1, W, 1, eof}}},
		{"whole range unlock middle", []rl{{1, R, 0, eof}, {1, U, 1, eof - 1}}, []rl{{1, R, 0, 0}, {1, R, eof, eof}}},
		{"other owners untouched", []rl{{2, R, 0, 9}, {1, R, 5, 14}, {1, U, 0, 6}, {2, R, 8, 20}}, []rl{{1, R, 7, 14}, {2, R, 0, 20}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := New(Config{})
			for _, op := range tt.ops {
				if err := tab.SetLk(op.req()); err != nil {
					t.Fatalf("SetLk(%+v) = %v", op, err)
				}
			}
			if got := posixHeld(tab, 1); !slices.Equal(got, tt.want) {
				t.Errorf("after %v held %v, want %v", tt.ops, got, tt.want)
			}
			if got := tab.Held(1); got != len(tt.want) {
				t.Errorf("Held = %d, want %d", got, len(tt.want))
			}
		})
	}
}

func TestPosixDeltaMatchesApply(t *testing.T) {
	// posixDelta is the ENOLCK pre-check; it must agree with applyPOSIX.
	o1, o2 := owner{s: 1, id: 1}, owner{s: 1, id: 2}
	base := []record{
		{o: o1, start: 0, end: 9, typ: Read},
		{o: o1, start: 20, end: 29, typ: Write},
		{o: o2, start: 5, end: 25, typ: Read},
		{o: o1, start: 40, end: eof, typ: Read},
	}
	for s := uint64(0); s < 50; s += 3 {
		for _, e := range []uint64{s, s + 4, s + 17, eof} {
			for _, typ := range []Type{Read, Write, Unlock} {
				r := record{o: o1, start: s, end: e, typ: typ}
				locks := slices.Clone(base)
				d := posixDelta(locks, &r)
				got := applyPOSIX(locks, &r)
				if len(got)-len(base) != d {
					t.Errorf("%v [%d,%d]: delta %d, applied %d -> %d records", typ, s, e, d, len(base), len(got))
				}
			}
		}
	}
}

func TestInvalidRequests(t *testing.T) {
	tab := New(Config{})
	for name, r := range map[string]Request{
		"start after end": {Ino: 1, Owner: 1, Start: 10, End: 9, Type: Read},
		"zero type":       {Ino: 1, Owner: 1, End: 9},
		"unknown type":    {Ino: 1, Owner: 1, End: 9, Type: 9},
	} {
		if err := tab.SetLk(r); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%s: SetLk = %v, want fs.ErrInvalid", name, err)
		}
	}
	if _, err := tab.GetLk(Request{Ino: 1, Owner: 1, End: 9, Type: Unlock}); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("GetLk(unlock) = %v, want fs.ErrInvalid", err)
	}
}

func TestKernelEnds(t *testing.T) {
	for _, tt := range []struct{ kernel, table, back uint64 }{
		{0, 0, 0},
		{4095, 4095, 4095},
		{KernelEOF - 1, KernelEOF - 1, KernelEOF - 1},
		{KernelEOF, ToEOF, KernelEOF},
		{ToEOF, ToEOF, KernelEOF},
	} {
		if got := EndFromKernel(tt.kernel); got != tt.table {
			t.Errorf("EndFromKernel(%d) = %d, want %d", tt.kernel, got, tt.table)
		}
		if got := EndToKernel(EndFromKernel(tt.kernel)); got != tt.back {
			t.Errorf("EndToKernel(EndFromKernel(%d)) = %d, want %d", tt.kernel, got, tt.back)
		}
	}
}
