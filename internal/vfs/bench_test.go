package vfs_test

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"tarn.dev/tarn/internal/blob/disk"
	"tarn.dev/tarn/internal/vfs"
)

func BenchmarkCreateUnlink(b *testing.B) {
	e := newEnv(b, vfs.Options{})
	d := e.mkdir(root, vfs.RootIno, "d", 0o777)
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("f%d", i)
		_, h, err := e.fs.Create(ctx, alice, d, name, 0o644, syscall.O_RDWR, 0)
		ok(b, err)
		ok(b, e.fs.Release(ctx, h))
		ok(b, e.fs.Unlink(ctx, alice, d, name))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "create+unlink/s")
}

func BenchmarkGetAttr(b *testing.B) {
	e := newEnv(b, vfs.Options{})
	f := e.writeFile(root, vfs.RootIno, "f", []byte("x"))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			must(e.fs.GetAttr(ctx, alice, f))
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stat/s")
}

func BenchmarkRandomWrite4K(b *testing.B) {
	bs, err := disk.Open(b.TempDir(), disk.Options{})
	ok(b, err)
	e := newEnvOn(b, vfs.Options{}, bs)
	const size = 256 << 20
	a, h, err := e.fs.Create(ctx, root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	ok(b, err)
	must(e.fs.SetAttr(ctx, root, a.Ino, vfs.SetAttrIn{Size: ptr[uint64](size), Handle: h}))
	rng := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 4096)
	b.SetBytes(4096)
	b.ResetTimer()
	for range b.N {
		must(e.fs.Write(ctx, h, p, rng.Int64N(size/4096)*4096))
	}
	ok(b, e.fs.Fsync(ctx, h))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "IOPS")
	b.StopTimer()
	ok(b, e.fs.Release(ctx, h))
}

func BenchmarkSequentialWrite(b *testing.B) {
	bs, err := disk.Open(b.TempDir(), disk.Options{})
	ok(b, err)
	e := newEnvOn(b, vfs.Options{}, bs)
	_, h, err := e.fs.Create(ctx, root, vfs.RootIno, "f", 0o644, syscall.O_RDWR, 0)
	ok(b, err)
	p := make([]byte, 128<<10)
	b.SetBytes(int64(len(p)))
	b.ResetTimer()
	for i := range b.N {
		must(e.fs.Write(ctx, h, p, int64(i)*int64(len(p))))
	}
	ok(b, e.fs.Fsync(ctx, h))
	b.StopTimer()
	ok(b, e.fs.Release(ctx, h))
}

func BenchmarkSequentialRead(b *testing.B) {
	e := newEnv(b, vfs.Options{})
	const size = 64 << 20
	f := e.writeFile(root, vfs.RootIno, "f", make([]byte, size))
	h := must(e.fs.Open(ctx, root, f, syscall.O_RDONLY))
	p := make([]byte, 128<<10)
	b.SetBytes(int64(len(p)))
	b.ResetTimer()
	for i := range b.N {
		must(e.fs.Read(ctx, h, p, int64(i)*int64(len(p))%size))
	}
	b.StopTimer()
	ok(b, e.fs.Release(ctx, h))
}
