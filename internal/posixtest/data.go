package posixtest

import (
	"bytes"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

var dataCases = []testCase{
	{"SparseWrites", func(e *env) {
		p := e.path("sparse")
		f, err := os.Create(p)
		e.ok(err)
		defer f.Close()
		const far = 10 << 20
		_, err = f.WriteAt([]byte("head"), 0)
		e.ok(err)
		_, err = f.WriteAt([]byte("mid"), 1<<20)
		e.ok(err)
		_, err = f.WriteAt([]byte("tail"), far)
		e.ok(err)
		if st := e.stat(p); st.Size != far+4 {
			e.t.Errorf("size = %d, want %d", st.Size, far+4)
		}
		got := make([]byte, far+4)
		n, err := f.ReadAt(got, 0)
		if n != len(got) {
			e.t.Fatalf("read %d bytes, %v", n, err)
		}
		want := make([]byte, far+4)
		copy(want, "head")
		copy(want[1<<20:], "mid")
		copy(want[far:], "tail")
		if !bytes.Equal(got, want) {
			e.t.Errorf("sparse file content differs: holes must read as zeros")
		}
		// A large write that straddles the 4 MiB boundary, then an overwrite
		// in its middle.
		big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
		_, err = f.WriteAt(big, 3<<20)
		e.ok(err)
		_, err = f.WriteAt([]byte("XYZ"), 4<<20)
		e.ok(err)
		copy(want[3<<20:], big)
		copy(want[4<<20:], "XYZ")
		n, _ = f.ReadAt(got, 0)
		if !bytes.Equal(got[:n], want) {
			e.t.Errorf("content after overlapping writes differs")
		}
	}},
	{"Fallocate", func(e *env) {
		if e.opts.NoFallocate {
			e.t.Skip("Options.NoFallocate")
		}
		p := e.path("f")
		f, err := os.Create(p)
		e.ok(err)
		defer f.Close()
		fd := int(f.Fd())
		e.ok(unix.Fallocate(fd, 0, 0, 1<<20))
		if st := e.stat(p); st.Size != 1<<20 {
			e.t.Errorf("size after fallocate = %d, want %d", st.Size, 1<<20)
		}
		e.ok(unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, 0, 4<<20))
		if st := e.stat(p); st.Size != 1<<20 {
			e.t.Errorf("FALLOC_FL_KEEP_SIZE changed the size to %d", st.Size)
		}
		data := bytes.Repeat([]byte{'a'}, 8192)
		_, err = f.WriteAt(data, 0)
		e.ok(err)
		e.ok(unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 4096, 2048))
		got := make([]byte, 8192)
		_, err = f.ReadAt(got, 0)
		e.ok(err)
		want := bytes.Clone(data)
		clear(want[4096:6144])
		if !bytes.Equal(got, want) {
			e.t.Errorf("punched hole does not read as zeros with data kept around it")
		}
		if st := e.stat(p); st.Size != 1<<20 {
			e.t.Errorf("size after punching = %d", st.Size)
		}
		e.want("fallocate with zero length", unix.Fallocate(fd, 0, 0, 0), syscall.EINVAL)
		r, err := os.Open(p)
		e.ok(err)
		defer r.Close()
		e.want("fallocate on a read-only descriptor", unix.Fallocate(int(r.Fd()), 0, 0, 10), syscall.EBADF)
	}},
	{"Mmap", func(e *env) {
		p := e.writeFile("f", make([]byte, 8192))
		out := e.python(nil, `
import mmap, os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR)
m = mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[100:105] = b"hello"
m[5000:5003] = b"end"
m.flush()
m.close()
os.pwrite(fd, b"WORLD", 200)
m = mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ)
print(m[200:205].decode())
m.close()
os.close(fd)
`, p)
		if out != "WORLD" {
			e.t.Errorf("mmap read after pwrite = %q, want WORLD", out)
		}
		got := e.readFile(p)
		if string(got[100:105]) != "hello" || string(got[5000:5003]) != "end" {
			e.t.Errorf("writes through a shared mapping are not in the file: %q %q", got[100:105], got[5000:5003])
		}
	}},
}
