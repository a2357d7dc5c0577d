package mem_test

import (
	"context"
	"testing"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/blob/blobtest"
	"tarn.dev/tarn/internal/blob/mem"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return mem.New() })
}

func TestUsageCountsBytesAndObjects(t *testing.T) {
	ctx := context.Background()
	var s mem.Store
	steps := []struct {
		name                 string
		do                   func() error
		wantBytes, wantCount int64
	}{
		{"Empty", func() error { return nil }, 0, 0},
		{"PutA", func() error { return s.Put(ctx, "a", make([]byte, 10)) }, 10, 1},
		{"PutB", func() error { return s.Put(ctx, "b/c", make([]byte, 5)) }, 15, 2},
		{"OverwriteA", func() error { return s.Put(ctx, "a", make([]byte, 3)) }, 8, 2},
		{"DeleteB", func() error { return s.Delete(ctx, "b/c") }, 3, 1},
		{"DeleteBAgain", func() error { return s.Delete(ctx, "b/c") }, 3, 1},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if b, n := s.Usage(); b != st.wantBytes || n != st.wantCount {
			t.Fatalf("after %s: Usage() = %d, %d; want %d, %d", st.name, b, n, st.wantBytes, st.wantCount)
		}
	}
}
