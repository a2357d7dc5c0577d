//go:build linux

package sandbox

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestUnifiedHierarchy runs a sandbox on a cgroup v2 hierarchy. On a v1
// machine it uses the unified hierarchy mounted beside the v1 ones, which
// has no resource controllers, so it checks placement, kill and clean-up
// but not limits.
func TestUnifiedHierarchy(t *testing.T) {
	requireRoot(t)
	if v2, err := cgroupV2(); err != nil || v2 {
		t.Skip("/sys/fs/cgroup is itself cgroup v2: the other tests cover it")
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup/unified", &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Skip("no cgroup v2 hierarchy at /sys/fs/cgroup/unified")
	}
	old := cgroupRoot
	cgroupRoot = "/sys/fs/cgroup/unified"
	t.Cleanup(func() { cgroupRoot = old })

	r := run(t, pySpec("print(open('/proc/self/cgroup').read())"))
	if r.info.ExitCode != 0 || !strings.Contains(r.stdout, "0::/"+testCgroupParent+"/sbx-") {
		t.Errorf("run on v2: %+v %q %s", r.info, r.stdout, r.stderr)
	}

	s, _ := startReady(t, pySpec(`
import os, time
for i in range(3):
    if os.fork() == 0:
        time.sleep(3600)
print('ready', flush=True)
time.sleep(3600)
`))
	if !s.cg.v2 {
		t.Fatal("sandbox not on the unified hierarchy")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", s.Pid()))
	if err != nil || !strings.Contains(string(b), "0::/"+testCgroupParent+"/sbx-") {
		t.Errorf("init's cgroups %q, %v; want it cloned into the sandbox's v2 cgroup", b, err)
	}
	pids, err := s.cg.procs()
	if err != nil || len(pids) < 5 {
		t.Fatalf("cgroup.procs = %v, %v; want the init, the handler and 3 children", pids, err)
	}
	dirs := cgroupDirs(s)
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.Wait(); !info.Killed || info.Signal != syscall.SIGKILL {
		t.Errorf("Wait after Kill = %+v", info)
	}
	for _, p := range pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p)); err == nil && strings.Contains(string(b), "/sbx-") {
			t.Errorf("process %d survived Kill", p)
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s survived Kill", d)
		}
	}
}
