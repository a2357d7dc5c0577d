package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestFunctionRecordsCascadeAndSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tarn.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	if err := s.CreateFunction(ctx, Function{Name: "f", Config: []byte(`{"v":0}`), Created: now}); err != nil {
		t.Fatal(err)
	}
	var ee *ExistsError
	if err := s.CreateFunction(ctx, Function{Name: "f", Config: []byte(`{}`), Created: now}); !errors.As(err, &ee) {
		t.Fatalf("CreateFunction(f) again = %v, want *ExistsError", err)
	}
	for i := 1; i <= 2; i++ {
		n, err := s.PublishVersion(ctx, "f", func(v int) ([]byte, error) { return []byte{'0' + byte(v)}, nil })
		if err != nil || n != i {
			t.Fatalf("PublishVersion = %d, %v; want %d", n, err, i)
		}
	}
	if err := s.PutAlias(ctx, Alias{Name: "f", Alias: "live", Version: "1", Config: []byte(`{}`)}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAlias(ctx, Alias{Name: "f", Alias: "live", Version: "1", Config: []byte(`{}`)}, true); !errors.As(err, &ee) {
		t.Fatalf("PutAlias(create) again = %v, want *ExistsError", err)
	}
	if err := s.PutAlias(ctx, Alias{Name: "f", Alias: "nope", Version: "1", Config: []byte(`{}`)}, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PutAlias(update missing) = %v, want ErrNotFound", err)
	}
	refs := func(v string) func([]Alias) []string {
		return func(as []Alias) []string {
			var out []string
			for _, a := range as {
				if a.Version == v {
					out = append(out, a.Alias)
				}
			}
			return out
		}
	}
	if err := s.DeleteVersion(ctx, "f", 1, refs("1")); !errors.Is(err, ErrInUse) {
		t.Fatalf("DeleteVersion(1) referenced by an alias = %v, want ErrInUse", err)
	}
	if err := s.DeleteVersion(ctx, "f", 2, refs("2")); err != nil {
		t.Fatal(err)
	}
	n := 5
	if err := s.SetReservedConcurrency(ctx, "f", &n); err != nil {
		t.Fatal(err)
	}
	if err := s.PutProvisioned(ctx, Qualified{Name: "f", Qualifier: "live", Config: []byte(`{"n":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPermission(ctx, Permission{Name: "f", Sid: "a", Statement: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPermission(ctx, Permission{Name: "f", Sid: "a", Statement: []byte(`{}`)}); !errors.As(err, &ee) {
		t.Fatalf("AddPermission(a) again = %v, want *ExistsError", err)
	}
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, err := s.Function(ctx, "f")
	if err != nil || f.NextVersion != 3 || f.Reserved == nil || *f.Reserved != 5 || string(f.Config) != `{"v":0}` {
		t.Fatalf("Function(f) after reopen = %+v, %v", f, err)
	}
	vs, _ := s.Versions(ctx, "f")
	if len(vs) != 1 || vs[0].Version != 1 {
		t.Errorf("Versions = %+v, want only 1", vs)
	}
	if total, _ := s.ReservedTotal(ctx, "other"); total != 5 {
		t.Errorf("ReservedTotal = %d, want 5", total)
	}
	if err := s.DeleteFunction(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Function(ctx, "f"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Function after delete = %v, want ErrNotFound", err)
	}
	for name, check := range map[string]func() int{
		"versions":    func() int { v, _ := s.Versions(ctx, "f"); return len(v) },
		"aliases":     func() int { v, _ := s.Aliases(ctx, "f"); return len(v) },
		"provisioned": func() int { v, _ := s.Provisioned(ctx, "f", ""); return len(v) },
		"permissions": func() int { v, _ := s.Permissions(ctx, "f", ""); return len(v) },
	} {
		if n := check(); n != 0 {
			t.Errorf("%s left after DeleteFunction: %d", name, n)
		}
	}
}

func TestEventQueueClaimsAndRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tarn.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.UnixMilli(1700000000000)
	for i, at := range []time.Time{t0, t0.Add(time.Second), t0.Add(time.Hour)} {
		if _, err := s.EnqueueEvent(ctx, QueuedEvent{RequestID: string(rune('a' + i)), Name: "f", Payload: []byte("{}"), NextAt: at, Enqueued: t0}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ClaimDueEvents(ctx, t0.Add(time.Second), 10)
	if err != nil || len(got) != 2 || got[0].RequestID != "a" || got[1].RequestID != "b" {
		t.Fatalf("ClaimDueEvents = %+v, %v; want a, b", got, err)
	}
	if again, _ := s.ClaimDueEvents(ctx, t0.Add(time.Second), 10); len(again) != 0 {
		t.Fatalf("claimed events claimed twice: %+v", again)
	}
	if at, ok, _ := s.NextEventAt(ctx); !ok || !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("NextEventAt = %v, %v; want the unclaimed one", at, ok)
	}
	got[0].Attempts, got[0].NextAt = 1, t0.Add(time.Minute)
	if err := s.ReleaseEvent(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A restart releases the claim of b, which was never completed.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.ResetEventClaims(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = s.ClaimDueEvents(ctx, t0.Add(2*time.Minute), 10)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.RequestID)
		if e.RequestID == "a" && e.Attempts != 1 {
			t.Errorf("event a attempts = %d, want 1", e.Attempts)
		}
	}
	if !slices.Equal(ids, []string{"b", "a"}) {
		t.Errorf("after restart claimed %v, want [b a]", ids)
	}
	for _, e := range got {
		if err := s.DeleteEvent(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
	}
}
