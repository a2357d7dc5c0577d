//go:build linux

package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where the cgroup file systems are mounted (a variable for
// tests of the unified layout on v1 machines).
var cgroupRoot = "/sys/fs/cgroup"

// cpuPeriod is the CFS period in microseconds used for the CPU quota.
const cpuPeriod = 100000

// v1Controllers are the cgroup v1 hierarchies a sandbox joins. memory and
// pids are required; cpu and freezer are used when present.
var v1Controllers = []string{"memory", "cpu", "pids", "freezer"}

// cgroup is one sandbox's control group: a single directory on the unified
// (v2) hierarchy, or one directory per controller hierarchy on v1.
type cgroup struct {
	v2   bool
	dirs map[string]string // controller ("" on v2) → directory
}

// limits are the resource limits written into a new cgroup.
type limits struct {
	memory  int64   // bytes; 0 = unlimited
	cpu     float64 // cores; 0 = unlimited
	pidsMax int     // 0 = unlimited
}

// cgroupV2 reports whether /sys/fs/cgroup is the unified hierarchy.
func cgroupV2() (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil {
		return false, fmt.Errorf("statfs %s: %w", cgroupRoot, err)
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		return true, nil
	case unix.TMPFS_MAGIC:
		return false, nil
	}
	return false, fmt.Errorf("statfs %s: unknown file system type %#x", cgroupRoot, st.Type)
}

// newCgroup creates the cgroup parent/name and writes the limits into it.
func newCgroup(parent, name string, lim limits) (*cgroup, error) {
	v2, err := cgroupV2()
	if err != nil {
		return nil, err
	}
	cg := &cgroup{v2: v2, dirs: map[string]string{}}
	if v2 {
		if err := enableV2Controllers(parent); err != nil {
			return nil, err
		}
		cg.dirs[""] = filepath.Join(cgroupRoot, parent, name)
	} else {
		for _, c := range v1Controllers {
			root := filepath.Join(cgroupRoot, c)
			if _, err := os.Stat(root); err != nil {
				if c == "memory" || c == "pids" {
					return nil, fmt.Errorf("cgroup v1 controller %q: %w", c, err)
				}
				continue
			}
			if err := os.MkdirAll(filepath.Join(root, parent), 0o755); err != nil {
				return nil, fmt.Errorf("create cgroup parent: %w", err)
			}
			cg.dirs[c] = filepath.Join(root, parent, name)
		}
	}
	for _, d := range cg.dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			cg.remove()
			return nil, fmt.Errorf("create cgroup: %w", err)
		}
	}
	if err := cg.setLimits(lim); err != nil {
		cg.remove()
		return nil, err
	}
	return cg, nil
}

// enableV2Controllers makes memory, cpu and pids available to the children
// of parent, enabling them on the way down from the root.
func enableV2Controllers(parent string) error {
	dir := cgroupRoot
	parts := strings.Split(filepath.Clean(parent), "/")
	for i := 0; i <= len(parts); i++ {
		avail, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
		if err != nil {
			return fmt.Errorf("read cgroup controllers: %w", err)
		}
		var want []string
		for _, c := range []string{"memory", "cpu", "pids"} {
			if slices.Contains(strings.Fields(string(avail)), c) {
				want = append(want, "+"+c)
			}
		}
		if len(want) > 0 {
			if err := writeFile(filepath.Join(dir, "cgroup.subtree_control"), strings.Join(want, " ")); err != nil {
				return fmt.Errorf("enable cgroup controllers in %s: %w", dir, err)
			}
		}
		if i == len(parts) {
			break
		}
		dir = filepath.Join(dir, parts[i])
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create cgroup parent: %w", err)
		}
	}
	return nil
}

func (cg *cgroup) setLimits(lim limits) error {
	var quota int64 = -1
	if lim.cpu > 0 {
		quota = max(int64(lim.cpu*cpuPeriod), 1000)
	}
	type setting struct{ ctl, file, value string }
	var set []setting
	if cg.v2 {
		if lim.memory > 0 {
			set = append(set, setting{"", "memory.max", strconv.FormatInt(lim.memory, 10)},
				setting{"", "memory.swap.max", "0"})
		}
		if quota > 0 {
			set = append(set, setting{"", "cpu.max", fmt.Sprintf("%d %d", quota, cpuPeriod)})
		}
		if lim.pidsMax > 0 {
			set = append(set, setting{"", "pids.max", strconv.Itoa(lim.pidsMax)})
		}
	} else {
		if lim.memory > 0 {
			m := strconv.FormatInt(lim.memory, 10)
			// The memory limit must be set before memory+swap, which may
			// not be lower than it.
			set = append(set, setting{"memory", "memory.limit_in_bytes", m},
				setting{"memory", "memory.memsw.limit_in_bytes", m})
		}
		if quota > 0 && cg.dirs["cpu"] != "" {
			set = append(set, setting{"cpu", "cpu.cfs_period_us", strconv.Itoa(cpuPeriod)},
				setting{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)})
		}
		if lim.pidsMax > 0 {
			set = append(set, setting{"pids", "pids.max", strconv.Itoa(lim.pidsMax)})
		}
	}
	for _, s := range set {
		p := filepath.Join(cg.dirs[s.ctl], s.file)
		if err := writeFile(p, s.value); err != nil {
			// Swap accounting is optional (memsw needs swapaccount=1).
			if errors.Is(err, fs.ErrNotExist) && strings.Contains(s.file, "sw") {
				continue
			}
			return fmt.Errorf("set cgroup limit %s: %w", s.file, err)
		}
	}
	return nil
}

// addProc moves pid into every hierarchy of the cgroup (v1; on v2 the
// process is cloned straight into it).
func (cg *cgroup) addProc(pid int) error {
	for _, d := range cg.dirs {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("join cgroup: %w", err)
		}
	}
	return nil
}

// dir is the directory holding the memory and pids files.
func (cg *cgroup) dir(ctl string) string {
	if cg.v2 {
		return cg.dirs[""]
	}
	return cg.dirs[ctl]
}

// procs lists the processes in the cgroup.
func (cg *cgroup) procs() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(cg.dir("pids"), "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for f := range strings.FieldsSeq(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

// kill SIGKILLs every process in the cgroup: cgroup.kill on v2; on v1
// freeze (so nothing forks meanwhile), signal each pid, thaw.
func (cg *cgroup) kill() {
	if cg.v2 {
		if writeFile(filepath.Join(cg.dirs[""], "cgroup.kill"), "1") == nil {
			return
		}
	}
	freezer := cg.dirs["freezer"]
	for range 100 {
		pids, err := cg.procs()
		if err != nil || len(pids) == 0 {
			return
		}
		if freezer != "" {
			freeze(freezer, "FROZEN")
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		if freezer != "" {
			freeze(freezer, "THAWED")
		}
		time.Sleep(time.Millisecond)
	}
}

// freeze writes state into freezer.state and waits briefly for it to take.
func freeze(dir, state string) {
	p := filepath.Join(dir, "freezer.state")
	if writeFile(p, state) != nil {
		return
	}
	for range 100 {
		b, err := os.ReadFile(p)
		if err != nil || strings.TrimSpace(string(b)) == state {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// memory returns the current and peak memory use in bytes.
func (cg *cgroup) memory() (cur, peak int64) {
	d := cg.dir("memory")
	if cg.v2 {
		cur = readInt(filepath.Join(d, "memory.current"))
		peak = readInt(filepath.Join(d, "memory.peak"))
	} else {
		cur = readInt(filepath.Join(d, "memory.usage_in_bytes"))
		peak = readInt(filepath.Join(d, "memory.max_usage_in_bytes"))
	}
	return cur, max(cur, peak)
}

// resetPeak restarts the peak memory count (v1 only: on v2 a reset of
// memory.peak holds only for the file descriptor that wrote it).
func (cg *cgroup) resetPeak() {
	if !cg.v2 {
		_ = writeFile(filepath.Join(cg.dirs["memory"], "memory.max_usage_in_bytes"), "0")
	}
}

// oomKills returns how many processes the OOM killer killed in the cgroup.
func (cg *cgroup) oomKills() int64 {
	d := cg.dir("memory")
	if cg.v2 {
		return readKey(filepath.Join(d, "memory.events"), "oom_kill")
	}
	if n := readKey(filepath.Join(d, "memory.oom_control"), "oom_kill"); n >= 0 {
		return n
	}
	// Kernels before 4.13 have no oom_kill counter: hitting the limit is
	// the best available sign.
	return readInt(filepath.Join(d, "memory.failcnt"))
}

// remove deletes the cgroup directories, retrying while the kernel still
// counts exiting tasks in them.
func (cg *cgroup) remove() error {
	var last error
	for _, d := range cg.dirs {
		for i := 0; ; i++ {
			err := unix.Rmdir(d)
			if err == nil || errors.Is(err, unix.ENOENT) {
				break
			}
			if i == 500 {
				last = fmt.Errorf("remove cgroup %s: %w", d, err)
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return last
}

func writeFile(name, value string) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readInt reads a file holding one integer ("max" reads as -1); 0 when
// the file is missing.
func readInt(name string) int64 {
	b, err := os.ReadFile(name)
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return -1
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// readKey reads the value of key in a flat-keyed file ("key value" lines);
// -1 when absent.
func readKey(name, key string) int64 {
	f, err := os.Open(name)
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return -1
}
