package server

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tarn.dev/tarn/internal/lambdaapi"
	"tarn.dev/tarn/internal/logs"
)

// TestFunctionLogsMergeStreamsAndSkipOldOnes writes streams whose files
// were last modified when their last event was, as a running function's
// are, and checks that reads from a cursor and tails give what merging
// every stream gives.
func TestFunctionLogsMergeStreamsAndSkipOldOnes(t *testing.T) {
	dir := t.TempDir()
	store, err := logs.Open(dir, logs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	// Stream i holds events at minutes 10i .. 10i+4 and, for the newest
	// two, one interleaved event of the other.
	var all []string
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	lastOf := map[string]time.Time{}
	add := func(stream string, min int) {
		msg := fmt.Sprintf("%s@%d", stream, min)
		if err := store.Append("fn", stream, logs.Event{Time: at(min), Message: msg}); err != nil {
			t.Fatal(err)
		}
		if at(min).After(lastOf[stream]) {
			lastOf[stream] = at(min)
		}
	}
	for i := range 6 {
		for m := range 5 {
			add(fmt.Sprint("s", i), 10*i+m)
		}
	}
	add("s4", 53) // s4's last event is after s5's first ones
	for stream, last := range lastOf {
		p := filepath.Join(dir, url.PathEscape("fn"), url.PathEscape(stream)+".log")
		if err := os.Chtimes(p, last, last); err != nil {
			t.Fatal(err)
		}
	}
	l := functionLogs{store: store}
	full, err := l.events("fn", time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range full {
		all = append(all, e.Message)
	}
	if len(all) != 31 || all[0] != "s0@0" || all[30] != "s5@54" {
		t.Fatalf("all events = %v", all)
	}
	ctx := context.Background()
	for _, n := range []int{1, 3, 7, 31, 40} {
		evs, _, err := l.Tail(ctx, "fn", n)
		if err != nil {
			t.Fatal(err)
		}
		want := all[max(0, len(all)-n):]
		if got := messages(evs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Tail(%d) = %v, want %v", n, got, want)
		}
	}
	for _, cut := range []int{0, 20, 29, 30} {
		cursor := fmt.Sprint(full[cut].Time.UnixNano())
		evs, _, err := l.Read(ctx, "fn", cursor, 0)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, e := range full {
			if e.Time.After(full[cut].Time) {
				want = append(want, e.Message)
			}
		}
		if got := messages(evs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Read after %s = %v, want %v", all[cut], got, want)
		}
	}
}

func messages(evs []lambdaapi.LogEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Message)
	}
	return out
}

// TestFunctionLogsDoNotOpenStreamsLastWrittenBeforeTheCursor plants an event
// in a stream whose file was last modified long before it: a read from a
// later cursor must not have opened that stream, so must not return it.
func TestFunctionLogsDoNotOpenStreamsLastWrittenBeforeTheCursor(t *testing.T) {
	dir := t.TempDir()
	store, err := logs.Open(dir, logs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(store.Append("fn", "old", logs.Event{Time: t0, Message: "old@0"}, logs.Event{Time: t0.Add(time.Hour), Message: "planted"}))
	must(store.Append("fn", "new", logs.Event{Time: t0.Add(50 * time.Minute), Message: "new@50"}))
	must(os.Chtimes(filepath.Join(dir, "fn", "old.log"), t0, t0))
	must(os.Chtimes(filepath.Join(dir, "fn", "new.log"), t0.Add(50*time.Minute), t0.Add(50*time.Minute)))
	l := functionLogs{store: store}
	evs, _, err := l.Read(context.Background(), "fn", fmt.Sprint(t0.Add(10*time.Minute).UnixNano()), 0)
	must(err)
	if got := fmt.Sprint(messages(evs)); got != "[new@50]" {
		t.Errorf("read after minute 10 = %s, want [new@50] (the old stream skipped)", got)
	}
}
