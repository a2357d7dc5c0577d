package accesspoint_test

import (
	"context"
	"testing"

	"tarn.dev/tarn/internal/accesspoint"
	"tarn.dev/tarn/internal/vfs"
)

// stubFS answers GetAttr and Lookup instantly, so that the cost of a view
// itself shows.
type stubFS struct{ vfs.FileSystem }

//go:noinline
func (stubFS) GetAttr(ctx context.Context, c vfs.Caller, ino vfs.Ino) (vfs.Attr, error) {
	return vfs.Attr{Ino: ino, Mode: vfs.ModeRegular | 0o644}, nil
}

//go:noinline
func (stubFS) Lookup(ctx context.Context, c vfs.Caller, parent vfs.Ino, name string) (vfs.Attr, error) {
	return vfs.Attr{Ino: 1000, Mode: vfs.ModeRegular | 0o644}, nil
}

// BenchmarkViewOverhead measures what each kind of view adds to a GetAttr
// that costs nothing: the pass-through view, root squash with read-only
// (the IAM decorators), and a full access point.
func BenchmarkViewOverhead(b *testing.B) {
	views := []struct {
		name string
		cfg  accesspoint.Config
	}{
		{"passthrough", accesspoint.Config{}},
		{"squash+readonly", accesspoint.Config{SquashRoot: true, ReadOnly: true}},
		{"accesspoint", accesspoint.Config{PosixUser: &apUser, Root: 500, SquashRoot: true}},
	}
	b.Run("bare", func(b *testing.B) {
		var fsys vfs.FileSystem = stubFS{}
		for b.Loop() {
			fsys.GetAttr(ctx, stranger, 1000)
		}
	})
	for _, v := range views {
		b.Run(v.name, func(b *testing.B) {
			var fsys vfs.FileSystem = wrap(b, stubFS{}, v.cfg)
			must(fsys.Lookup(ctx, stranger, vfs.RootIno, "f")) // hands out 1000
			b.ResetTimer()
			for b.Loop() {
				if _, err := fsys.GetAttr(ctx, root, 1000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
