package lock

import (
	"context"
	"sync/atomic"
	"testing"
)

func BenchmarkFlockLockUnlock(b *testing.B) {
	tab := New(Config{})
	lk := Request{Session: 1, Ino: 42, Owner: 7, Type: Write, Flock: true}
	un := lk
	un.Type = Unlock
	b.ReportAllocs()
	for b.Loop() {
		if err := tab.SetLk(lk); err != nil {
			b.Fatal(err)
		}
		if err := tab.SetLk(un); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPOSIXLockUnlock(b *testing.B) {
	tab := New(Config{})
	// Another owner's lock elsewhere in the file, as in a shared log.
	if err := tab.SetLk(Request{Session: 1, Ino: 42, Owner: 8, Start: 1 << 20, End: ToEOF, Type: Read}); err != nil {
		b.Fatal(err)
	}
	lk := Request{Session: 1, Ino: 42, Owner: 7, Start: 4096, End: 8191, Type: Write}
	un := lk
	un.Type = Unlock
	b.ReportAllocs()
	for b.Loop() {
		if err := tab.SetLkw(context.Background(), lk); err != nil {
			b.Fatal(err)
		}
		if err := tab.SetLk(un); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFlockParallelFiles: each goroutine locks its own file; shards
// keep them from contending.
func BenchmarkFlockParallelFiles(b *testing.B) {
	tab := New(Config{})
	var next atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := next.Add(1)
		lk := Request{Session: 1, Ino: n, Owner: n, Type: Write, Flock: true}
		un := lk
		un.Type = Unlock
		for pb.Next() {
			if err := tab.SetLk(lk); err != nil {
				b.Fatal(err)
			}
			if err := tab.SetLk(un); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFlockContended: every goroutine takes the same exclusive flock
// with a blocking request, so most acquisitions queue and are handed over.
func BenchmarkFlockContended(b *testing.B) {
	tab := New(Config{})
	var next atomic.Uint64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		n := next.Add(1)
		lk := Request{Session: 1, Ino: 1, Owner: n, Type: Write, Flock: true}
		ctx := context.Background()
		for pb.Next() {
			if err := tab.SetLkw(ctx, lk); err != nil {
				b.Fatal(err)
			}
			tab.ReleaseFlock(1, 1, n)
		}
	})
}

// BenchmarkPOSIXContended: goroutines lock overlapping ranges of one file.
func BenchmarkPOSIXContended(b *testing.B) {
	tab := New(Config{})
	var next atomic.Uint64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		n := next.Add(1)
		ctx := context.Background()
		i := uint64(0)
		for pb.Next() {
			i++
			start := (n*7 + i) % 64
			lk := Request{Session: 1, Ino: 1, Owner: n, Start: start, End: start + 15, Type: Type(1 + i%2)}
			if err := tab.SetLkw(ctx, lk); err != nil {
				b.Fatal(err)
			}
			tab.ReleasePOSIX(1, 1, n)
		}
	})
}
