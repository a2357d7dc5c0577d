package posixtest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
)

var dirCases = []testCase{
	{"MkdirRmdir", func(e *env) {
		d := e.path("d")
		e.ok(os.Mkdir(d, 0o750))
		if st := e.stat(d); st.Mode != syscall.S_IFDIR|uint32(0o750&^e.umask) || st.Nlink != 2 {
			e.t.Errorf("new directory: mode %o nlink %d, want %o 2", st.Mode, st.Nlink, syscall.S_IFDIR|0o750&^e.umask)
		}
		parent := e.stat(e.dir).Nlink
		e.ok(os.Mkdir(e.path("d", "sub"), 0o755))
		if st := e.stat(d); st.Nlink != 3 {
			e.t.Errorf("nlink with one subdirectory = %d, want 3", st.Nlink)
		}
		e.want("mkdir existing", syscall.Mkdir(d, 0o755), syscall.EEXIST)
		e.want("mkdir under missing parent", syscall.Mkdir(e.path("missing", "x"), 0o755), syscall.ENOENT)
		e.want("rmdir non-empty", syscall.Rmdir(d), syscall.ENOTEMPTY)
		f := e.writeFile("f", nil)
		e.want("rmdir a file", syscall.Rmdir(f), syscall.ENOTDIR)
		e.want("unlink a directory", syscall.Unlink(d), syscall.EISDIR)
		e.want("rmdir .", syscall.Rmdir(e.path("d", "sub")+"/."), syscall.EINVAL)
		e.want("rmdir missing", syscall.Rmdir(e.path("missing")), syscall.ENOENT)
		e.want("mkdir name too long", syscall.Mkdir(e.path(strings.Repeat("d", e.opts.NameMax+1)), 0o755), syscall.ENAMETOOLONG)
		e.ok(syscall.Rmdir(e.path("d", "sub")))
		e.ok(syscall.Rmdir(d))
		if got := e.stat(e.dir).Nlink; got != parent-1 {
			e.t.Errorf("parent nlink after rmdir = %d, want %d", got, parent-1)
		}
		e.want("unlink missing", syscall.Unlink(e.path("missing")), syscall.ENOENT)
	}},
	{"ReadDir", func(e *env) {
		// Long names make the listing span several kernel reads.
		var want []string
		for i := range 300 {
			name := fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 100))
			want = append(want, name)
			if i%3 == 0 {
				e.ok(os.Mkdir(e.path(name), 0o755))
			} else {
				e.writeFile(name, nil)
			}
		}
		ents, err := os.ReadDir(e.dir)
		e.ok(err)
		var got []string
		for _, de := range ents {
			got = append(got, de.Name())
			if de.IsDir() != (nameIndex(de.Name())%3 == 0) {
				e.t.Errorf("entry %s: IsDir = %v", de.Name(), de.IsDir())
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			e.t.Errorf("listing has %d entries, want %d (each once)", len(got), len(want))
		}
		f, err := os.Open(e.dir)
		e.ok(err)
		defer f.Close()
		names, err := f.Readdirnames(10)
		e.ok(err)
		e.ok(os.Remove(e.path(want[299])))
		rest, err := f.Readdirnames(-1)
		e.ok(err)
		seen := map[string]bool{}
		for _, n := range append(names, rest...) {
			if seen[n] {
				e.t.Errorf("entry %s listed twice while the directory changed", n)
			}
			seen[n] = true
		}
		for _, n := range want[:299] {
			if !seen[n] {
				e.t.Errorf("entry %s missing while another was removed", n)
			}
		}
	}},
	{"SetgidDirectory", func(e *env) {
		e.needRoot()
		d := e.path("sg")
		e.ok(os.Mkdir(d, 0o755))
		e.ok(os.Chown(d, -1, 4242))
		e.ok(syscall.Chmod(d, 0o2775))
		f := e.path("sg", "f")
		e.ok(os.WriteFile(f, nil, 0o644))
		if st := e.stat(f); st.Gid != 4242 {
			e.t.Errorf("file in setgid directory has gid %d, want 4242", st.Gid)
		}
		sub := e.path("sg", "sub")
		e.ok(os.Mkdir(sub, 0o755))
		if st := e.stat(sub); st.Gid != 4242 || st.Mode&syscall.S_ISGID == 0 {
			e.t.Errorf("subdirectory of setgid directory: gid %d mode %o, want gid 4242 with setgid", st.Gid, st.Mode)
		}
	}},
}

func nameIndex(name string) int {
	var i int
	fmt.Sscanf(name, "%03d", &i)
	return i
}
