package accesspoint

import (
	"runtime"
	"testing"

	"tarn.dev/tarn/internal/vfs"
)

// BenchmarkKnownSetMemory reports the heap cost of one handed-out inode
// number, as B/inode.
func BenchmarkKnownSetMemory(b *testing.B) {
	const n = 100_000
	var perInode float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := &FS{confined: true, root: 7}
		for i := range n {
			a.learn(vfs.Ino(1000 + 3*i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perInode = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(a)
	}
	b.ReportMetric(perInode, "B/inode")
}

func TestLearnedInodesAreAcceptedAndOthersStale(t *testing.T) {
	a := &FS{confined: true, root: 7}
	a.learn(9)
	tests := []struct {
		ino     vfs.Ino
		want    vfs.Ino
		wantErr bool
	}{
		{vfs.RootIno, 7, false},
		{9, 9, false},
		{7, 0, true}, // the root's core number is never presented
		{8, 0, true},
	}
	for _, tt := range tests {
		got, err := a.in("test", tt.ino)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("in(%d) = %d, %v; want %d, error %v", tt.ino, got, err, tt.want, tt.wantErr)
		}
	}
}
