package logs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec int, msg string) Event { return Event{t0.Add(time.Duration(sec) * time.Second), msg} }

func messages(evs []Event) string {
	var m []string
	for _, e := range evs {
		m = append(m, e.Message)
	}
	return strings.Join(m, ",")
}

func TestReadSelectsByTimeAndLimit(t *testing.T) {
	s := open(t, Options{})
	const stream = "2025/01/02/[$LATEST]0123456789abcdef0123456789abcdef"
	if err := s.Append("fn", stream, at(0, "a"), at(1, "b\nwith newline"), at(2, "c"), at(3, "d")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"all", Query{}, "a,b\nwith newline,c,d"},
		{"start", Query{Start: t0.Add(2 * time.Second)}, "c,d"},
		{"end exclusive", Query{End: t0.Add(2 * time.Second)}, "a,b\nwith newline"},
		{"limit takes the last", Query{Limit: 2}, "c,d"},
		{"limit from head takes the first", Query{Limit: 1, FromHead: true}, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := s.Read("fn", stream, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := messages(evs); got != tc.want {
				t.Errorf("Read(%+v) = %q, want %q", tc.q, got, tc.want)
			}
			if len(evs) > 0 && evs[0].Time.IsZero() {
				t.Error("event without a time")
			}
		})
	}
	if _, err := s.Read("fn", "nope", Query{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing stream = %v, want fs.ErrNotExist", err)
	}
}

func TestStreamsListsEachStreamWithItsSpan(t *testing.T) {
	s := open(t, Options{})
	s.Append("fn", "b/[1]x", at(5, "x"))
	s.Append("fn", "a/[1]y", at(1, "y"), at(2, "z"))
	s.Append("other", "c", at(1, "w"))
	got, err := s.Streams("fn")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "a/[1]y" || got[1].Name != "b/[1]x" {
		t.Fatalf("Streams = %+v, want a/[1]y and b/[1]x", got)
	}
	if !got[0].FirstEvent.Equal(t0.Add(time.Second)) || got[0].StoredBytes == 0 {
		t.Errorf("stream info %+v: want first event at +1s and bytes stored", got[0])
	}
	if none, err := s.Streams("missing"); err != nil || len(none) != 0 {
		t.Errorf("Streams of a function without logs = %v, %v", none, err)
	}
	if err := s.DeleteFunction("fn"); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.Streams("fn"); len(left) != 0 {
		t.Errorf("streams left after DeleteFunction: %v", left)
	}
}

func TestStreamStaysBoundedAndKeepsTheNewestEvents(t *testing.T) {
	const max = 4096
	s := open(t, Options{MaxStreamBytes: max})
	w, err := s.OpenStream("fn", "s")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	line := strings.Repeat("x", 100)
	for i := range 1000 {
		if err := w.Append(at(i, fmt.Sprintf("%04d %s", i, line))); err != nil {
			t.Fatal(err)
		}
	}
	info, _ := s.Streams("fn")
	if len(info) != 1 || info[0].StoredBytes > 2*max {
		t.Fatalf("stream stores %+v, want at most %d bytes", info, 2*max)
	}
	evs, err := s.Read("fn", "s", Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || !strings.HasPrefix(evs[len(evs)-1].Message, "0999 ") {
		t.Fatalf("read %d events, last %q; want the newest kept", len(evs), messages(evs[len(evs)-1:]))
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Time.Before(evs[i-1].Time) {
			t.Fatalf("events out of order at %d", i)
		}
	}
}

func TestLongMessagesAreSplit(t *testing.T) {
	s := open(t, Options{})
	msg := strings.Repeat("y", MaxEventSize*2+10)
	if err := s.Append("fn", "s", at(0, msg)); err != nil {
		t.Fatal(err)
	}
	evs, _ := s.Read("fn", "s", Query{})
	if len(evs) != 3 || len(evs[0].Message) != MaxEventSize || len(evs[2].Message) != 10 {
		t.Fatalf("got %d events, want 3 parts of at most %d bytes", len(evs), MaxEventSize)
	}
}

func TestFollowDeliversStoredThenLiveEventsOnce(t *testing.T) {
	s := open(t, Options{})
	s.Append("fn", "s1", at(0, "old"), at(10, "recent"))
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []string
	done := make(chan error)
	go func() {
		done <- s.Follow(ctx, "fn", t0.Add(5*time.Second), func(e StreamEvent) {
			mu.Lock()
			got = append(got, e.Stream+":"+e.Message)
			n := len(got)
			mu.Unlock()
			if n == 4 {
				cancel()
			}
		})
	}()
	w, _ := s.OpenStream("fn", "s2")
	defer w.Close()
	for i := range 3 {
		w.Append(at(20+i, fmt.Sprint("live", i)))
	}
	s.Append("other", "s", at(30, "not mine"))
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Follow = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Follow did not deliver 4 events")
	}
	want := "s1:recent,s2:live0,s2:live1,s2:live2"
	if g := strings.Join(got, ","); g != want {
		// Live events may have been stored before Follow read the streams;
		// each must still come exactly once, in order.
		t.Errorf("followed %q, want %q", g, want)
	}
}
