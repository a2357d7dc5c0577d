//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// viewScript reports what a handler sees of its environment as JSON.
const viewScript = `
import errno, json, os, socket
def tryw(p):
    try:
        with open(p, 'w') as f:
            f.write('x')
        return 'ok'
    except OSError as e:
        return errno.errorcode[e.errno]
st = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())
r = {
    'uid': os.getuid(), 'euid': os.geteuid(), 'gid': os.getgid(), 'groups': os.getgroups(),
    'ppid': os.getppid(), 'pid1': open('/proc/1/cmdline').read().split('\0')[0],
    'hostname': socket.gethostname(), 'cwd': os.getcwd(),
    'root_write': tryw('/x'), 'usr_write': tryw('/usr/x'), 'etc_read': os.path.exists('/etc/passwd'),
    'task_write': tryw('/var/task/x'), 'code': open('/var/task/handler.py').read(),
    'tmp_write': tryw('/tmp/x'),
    'ro_read': open('/mnt/ro/data').read(), 'ro_write': tryw('/mnt/ro/new'),
    'rw_write': tryw('/mnt/rw/new'),
    'dev_null': tryw('/dev/null'),
    'host_mnt_hidden': os.listdir('/mnt'),
    'sys_submounts_hidden': os.listdir('/sys/fs/cgroup'),
}
for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs'):
    r[k] = st[k].strip()
print(json.dumps(r))
`

func TestHandlerSeesLambdaLikeEnvironment(t *testing.T) {
	requireRoot(t)
	code := dirWith(t, 0o755, map[string]string{"handler.py": "def handler(e, c): return e\n"})
	ro := dirWith(t, 0o755, map[string]string{"data": "read-only data"})
	rw := dirWith(t, 0o777, nil)

	spec := pySpec(viewScript)
	spec.Code = code
	spec.Hostname = "fn-view"
	spec.Mounts = []Bind{{Source: ro, Target: "/mnt/ro", ReadOnly: true}, {Source: rw, Target: "/mnt/rw"}}
	r := run(t, spec)
	if r.info.ExitCode != 0 {
		t.Fatalf("exit %+v, stderr:\n%s", r.info, r.stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	want := map[string]any{
		"uid": 993.0, "euid": 993.0, "gid": 993.0, "groups": []any{},
		"ppid": 1.0, "pid1": "tarn-sandbox-init",
		"hostname": "fn-view", "cwd": "/var/task",
		"root_write": "EROFS", "usr_write": "EROFS", "etc_read": true,
		"task_write": "EROFS", "code": "def handler(e, c): return e\n",
		"tmp_write": "ok",
		"ro_read":   "read-only data", "ro_write": "EROFS",
		"rw_write":        "ok",
		"dev_null":        "ok",
		"host_mnt_hidden": []any{"ro", "rw"}, "sys_submounts_hidden": []any{},
		"CapInh": "0000000000000000", "CapPrm": "0000000000000000", "CapEff": "0000000000000000",
		"CapBnd": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "1",
	}
	for k, w := range want {
		g := got[k]
		if gl, ok := g.([]any); ok && k == "host_mnt_hidden" && len(gl) == 2 && gl[0] == "rw" {
			g = []any{gl[1], gl[0]}
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	if b, err := os.ReadFile(filepath.Join(rw, "new")); err != nil || string(b) != "x" {
		t.Errorf("write through the read-write bind: host sees %q, %v", b, err)
	}
}

func TestRootIsBoundWithoutTheMountsBeneathIt(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	for _, d := range []string{"usr", "data/sub"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []string{"bin", "lib", "lib64"} {
		if err := os.Symlink("usr/"+l, filepath.Join(root, l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	hostMount(t, "/usr", filepath.Join(root, "usr"), "", syscall.MS_BIND)
	sub := filepath.Join(root, "data/sub")
	hostMount(t, "tarn-test", sub, "tmpfs", 0)
	if err := os.WriteFile(filepath.Join(sub, "secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	spec := pySpec("import os; print(sorted(os.listdir('/')), os.listdir('/data/sub'))")
	spec.Root = root
	r := run(t, spec)
	want := "['bin', 'data', 'dev', 'lib', 'lib64', 'mnt', 'proc', 'sys', 'tmp', 'usr', 'var'] []"
	if got := strings.TrimSpace(r.stdout); got != want {
		t.Errorf("sandbox on a custom root sees %q (stderr %s), want %q", got, r.stderr, want)
	}
}

// hostMount mounts on the host for the length of the test.
func hostMount(t *testing.T, src, dst, fstype string, flags uintptr) {
	t.Helper()
	if err := syscall.Mount(src, dst, fstype, flags, ""); err != nil {
		t.Fatalf("mount %s: %v", dst, err)
	}
	t.Cleanup(func() { syscall.Unmount(dst, syscall.MNT_DETACH) })
}

func TestTmpIsPrivateAndLimitedToTmpSize(t *testing.T) {
	requireRoot(t)
	const script = `
import errno, os
fd = os.open('/tmp/big', os.O_WRONLY | os.O_CREAT, 0o600)
n = 0
try:
    while n < int(os.environ['WANT']):
        n += os.write(fd, b'x' * 65536)
    print('ok', n)
except OSError as e:
    print(errno.errorcode[e.errno], n)
`
	for _, tc := range []struct {
		name string
		want int64
		out  string
	}{
		{"under the size", 512 << 10, "ok"},
		{"past the size", 4 << 20, "ENOSPC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := pySpec(script)
			spec.TmpSize = 1 << 20
			spec.Env = append(spec.Env, "WANT="+strconv.FormatInt(tc.want, 10))
			r := run(t, spec)
			if f := strings.Fields(r.stdout); len(f) != 2 || f[0] != tc.out {
				t.Fatalf("writing %d bytes to /tmp: %q (stderr %s), want %s", tc.want, r.stdout, r.stderr, tc.out)
			}
		})
	}
	if _, err := os.Stat("/tmp/big"); err == nil {
		t.Errorf("the sandbox's /tmp/big appeared in the host's /tmp")
	}
}

func TestTmpSourceReplacesTheTmpfs(t *testing.T) {
	requireRoot(t)
	dir := dirWith(t, 0o1777, nil)
	spec := pySpec("open('/tmp/out', 'w').write('kept')")
	spec.TmpSource = dir
	r := run(t, spec)
	if r.info.ExitCode != 0 {
		t.Fatalf("exit %+v: %s", r.info, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "out")); err != nil || string(b) != "kept" {
		t.Errorf("file written to /tmp: host directory holds %q, %v", b, err)
	}
}

func TestMemoryLimitOOMKillsAndIsReported(t *testing.T) {
	requireRoot(t)
	spec := pySpec("b = b'x' * (256 << 20); print('survived')")
	spec.MemoryBytes = 64 << 20
	var out syncBuffer
	spec.Stdout, spec.Stderr = &out, &out
	s, err := Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.Signal != syscall.SIGKILL || !info.OOMKilled || !s.OOMKilled() {
		t.Fatalf("allocating past the limit: %+v, OOMKilled() %v, output %q; want SIGKILL and OOM", info, s.OOMKilled(), out.String())
	}
	if info.MaxMemory < 32<<20 || info.MaxMemory > 64<<20 {
		t.Errorf("MaxMemory = %d, want between 32 MiB and the 64 MiB limit", info.MaxMemory)
	}
	if st := s.Stats(); st.MaxMemoryBytes != info.MaxMemory {
		t.Errorf("Stats after exit = %+v, want peak %d", st, info.MaxMemory)
	}
}

func TestWithinMemoryLimitIsNotOOM(t *testing.T) {
	requireRoot(t)
	spec := pySpec("b = b'x' * (16 << 20); print('survived')")
	spec.MemoryBytes = 128 << 20
	r := run(t, spec)
	if r.info.ExitCode != 0 || r.info.OOMKilled || strings.TrimSpace(r.stdout) != "survived" {
		t.Fatalf("allocating within the limit: %+v %q %s", r.info, r.stdout, r.stderr)
	}
	if r.info.MaxMemory < 16<<20 {
		t.Errorf("MaxMemory = %d, want at least the 16 MiB allocated", r.info.MaxMemory)
	}
}

func TestForkBombIsStoppedByPidsMaxAndKilled(t *testing.T) {
	requireRoot(t)
	const pidsMax = 24
	spec := pySpec(`
import os, sys, time
print('ready', flush=True)
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
`)
	spec.PidsMax = pidsMax
	spec.MemoryBytes = 512 << 20
	s, _ := startReady(t, spec)
	cur := filepath.Join(s.cg.dir("pids"), "pids.current")
	deadline := time.Now().Add(time.Minute)
	for readInt(cur) < pidsMax+initPids && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := readInt(cur); n != pidsMax+initPids {
		t.Fatalf("pids.current = %d, want the bomb to reach pids.max %d", n, pidsMax+initPids)
	}
	threads := 0
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid())); err == nil {
		_, v, _ := strings.Cut(string(b), "\nThreads:")
		threads, _ = strconv.Atoi(strings.Fields(v)[0])
	}
	if threads == 0 || threads > initPids {
		t.Errorf("the init has %d threads, want 1 to %d", threads, initPids)
	}
	pids, err := s.cg.procs()
	if err != nil {
		t.Fatal(err)
	}
	dirs := cgroupDirs(s)
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	info, _ := s.Wait()
	if !info.Killed {
		t.Errorf("ExitInfo.Killed false after Kill")
	}
	checkGone(t, pids, dirs)
}

func TestKillDuringHangLeavesNoProcessMountOrCgroup(t *testing.T) {
	requireRoot(t)
	src := dirWith(t, 0o755, map[string]string{"f": "x"})
	before := sandboxMounts(t, src)
	spec := pySpec(`
import os, time
for i in range(3):
    if os.fork() == 0:
        if i == 0 and os.fork() != 0:
            os._exit(0)  # orphan a grandchild onto PID 1
        os.setsid()
        time.sleep(3600)
print('ready', flush=True)
time.sleep(3600)
`)
	spec.Mounts = []Bind{{Source: src, Target: "/mnt/x", ReadOnly: true}}
	s, _ := startReady(t, spec)
	if during := sandboxMounts(t, src); len(during) != len(before) {
		t.Errorf("sandbox mounts leaked into the host's mount table: %q", during)
	}
	pids, err := s.cg.procs()
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) < 4 {
		t.Fatalf("cgroup holds %v, want the init, the handler and its children", pids)
	}
	if st := s.Stats(); st.MemoryBytes <= 0 || st.MaxMemoryBytes < st.MemoryBytes {
		t.Errorf("Stats of a running sandbox = %+v, want current > 0 and peak >= current", st)
	}
	dirs := cgroupDirs(s)
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if info, err := s.Wait(); err != nil || !info.Killed || info.Signal != syscall.SIGKILL {
		t.Errorf("Wait after Kill = %+v, %v; want killed by SIGKILL", info, err)
	}
	checkGone(t, append(pids, s.Pid()), dirs)
	if after := sandboxMounts(t, src); len(after) != len(before) {
		t.Errorf("mounts left behind: %q", after)
	}
}

func TestStdoutFloodIsDeliveredWithoutDeadlock(t *testing.T) {
	requireRoot(t)
	const outBytes, errBytes = 64 << 20, 8 << 20
	spec := pySpec(fmt.Sprintf(`
import sys
chunk = b'o' * 65536
for i in range(%d):
    sys.stdout.buffer.write(chunk)
    if i %% 8 == 0:
        sys.stderr.buffer.write(b'e' * 65536)
`, outBytes/65536))
	var out, errw countWriter
	spec.Stdout, spec.Stderr = &out, &errw
	s, err := Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Wait()
	if err != nil || info.ExitCode != 0 {
		t.Fatalf("Wait = %+v, %v", info, err)
	}
	if out.n != outBytes || errw.n != errBytes {
		t.Errorf("delivered %d bytes of stdout and %d of stderr, want %d and %d", out.n, errw.n, outBytes, errBytes)
	}
}

func TestSandboxesRunSideBySide(t *testing.T) {
	requireRoot(t)
	script := `
import os, signal, socket, sys
open('/tmp/mine', 'w').write(os.environ['NAME'])
def done(sig, frame):
    print(socket.gethostname(), os.listdir('/tmp'), open('/tmp/mine').read(), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
print('ready', flush=True)
signal.pause()
`
	a := pySpec(script)
	a.Hostname, a.Env = "a", append(a.Env, "NAME=a")
	b := pySpec(script)
	b.Hostname, b.Env = "b", append(b.Env, "NAME=b")
	sa, _ := startReady(t, a)
	sb, wb := startReady(t, b)

	if err := sa.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := sb.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	info, err := sb.Wait()
	if err != nil || info.ExitCode != 0 || info.Killed {
		t.Fatalf("second sandbox after the first was killed: %+v, %v", info, err)
	}
	if got, want := strings.TrimSpace(strings.TrimPrefix(wb.String(), "ready\n")), "b ['mine'] b"; got != want {
		t.Errorf("second sandbox saw %q, want %q", got, want)
	}
}

func TestExitIsReported(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name   string
		script string
		code   int
		sig    syscall.Signal
	}{
		{"clean exit", "pass", 0, 0},
		{"exit status", "import sys; sys.exit(3)", 3, 0},
		{"uncaught exception", "1/0", 1, 0},
		{"killed by a signal", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)", -1, syscall.SIGTERM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, pySpec(tc.script))
			if r.info.ExitCode != tc.code || r.info.Signal != tc.sig || r.info.OOMKilled || r.info.Killed {
				t.Errorf("ExitInfo = %+v, want code %d signal %v", r.info, tc.code, tc.sig)
			}
		})
	}
}

func TestStartFailuresAreReportedAndCleanedUp(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"missing program", func(s *Spec) { s.Argv = []string{"/nonexistent/prog"} }, "no such file"},
		{"program not on PATH", func(s *Spec) { s.Argv = []string{"no-such-prog"} }, "file does not exist"},
		{"missing code directory", func(s *Spec) { s.Code = "/nonexistent/code" }, "/nonexistent/code"},
		{"relative mount target", func(s *Spec) { s.Mounts = []Bind{{Source: "/etc", Target: "mnt"}} }, "bad mount"},
		{"reserved mount target", func(s *Spec) { s.Mounts = []Bind{{Source: "/etc", Target: "/proc/x"}} }, "reserved"},
		{"nested mount targets", func(s *Spec) {
			s.Mounts = []Bind{{Source: "/etc", Target: "/mnt/a"}, {Source: "/etc", Target: "/mnt/a/b"}}
		}, "lies inside"},
		{"empty argv", func(s *Spec) { s.Argv = nil }, "empty Argv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := pySpec("pass")
			tc.edit(&spec)
			s, err := Start(context.Background(), spec)
			if err == nil {
				s.Kill()
				t.Fatalf("Start succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start error %q, want it to contain %q", err, tc.want)
			}
			if left := testCgroups(t); len(left) != 0 {
				t.Errorf("cgroups left behind: %v", left)
			}
		})
	}
}

func TestStartHonoursContext(t *testing.T) {
	requireRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, pySpec("pass")); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a cancelled context: %v, want context.Canceled", err)
	}
	if left := testCgroups(t); len(left) != 0 {
		t.Errorf("cgroups left behind: %v", left)
	}
}

func TestNetworkIsolation(t *testing.T) {
	requireRoot(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	script := fmt.Sprintf(`
import errno, socket
def connect(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=5).close()
        return 'ok'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
own = socket.socket()
own.bind(('127.0.0.1', 0))
own.listen()
print(connect(%d), connect(own.getsockname()[1]))
`, port)
	for _, tc := range []struct {
		isolated bool
		want     string
	}{
		{false, "ok ok"},
		{true, "ECONNREFUSED ok"},
	} {
		t.Run(fmt.Sprintf("isolated=%v", tc.isolated), func(t *testing.T) {
			spec := pySpec(script)
			spec.NetworkIsolated = tc.isolated
			r := run(t, spec)
			if got := strings.TrimSpace(r.stdout); got != tc.want {
				t.Errorf("host port, own loopback port: %q (stderr %s), want %q", got, r.stderr, tc.want)
			}
		})
	}
}

func TestCgroupLimits(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name  string
		spec  Spec
		quota int64 // µs per 100 ms period; -1 = none
	}{
		{"one core at 1769 MiB", Spec{MemoryBytes: 1769 << 20, PidsMax: 64 - initPids}, 100000},
		{"a fraction at 128 MiB", Spec{MemoryBytes: 128 << 20, PidsMax: 64 - initPids}, 128 * 100000 / 1769},
		{"explicit CPU", Spec{MemoryBytes: 128 << 20, CPUFraction: 2, PidsMax: 64 - initPids}, 200000},
		{"unlimited", Spec{}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Argv = []string{"x"}
			_, lim, _, err := prepare(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			cg, err := newCgroup(testCgroupParent, "limits-"+strconv.Itoa(os.Getpid()), lim)
			if err != nil {
				t.Fatal(err)
			}
			defer cg.remove()
			mem, quota, pids := readLimits(cg)
			wantMem, wantPids := tc.spec.MemoryBytes, int64(tc.spec.PidsMax+initPids)
			if wantMem == 0 {
				wantMem = -1
			}
			if tc.spec.PidsMax == 0 {
				wantPids = -1
			}
			if mem != wantMem || quota != tc.quota || pids != wantPids {
				t.Errorf("memory %d, cpu quota %d, pids %d; want %d, %d, %d", mem, quota, pids, wantMem, tc.quota, wantPids)
			}
		})
	}
}

// readLimits reads the memory limit, CPU quota and pids limit (-1 for
// none) of a cgroup.
func readLimits(cg *cgroup) (mem, quota, pids int64) {
	if cg.v2 {
		d := cg.dirs[""]
		b, _ := os.ReadFile(filepath.Join(d, "cpu.max"))
		f := strings.Fields(string(b))
		quota = -1
		if len(f) == 2 && f[0] != "max" {
			quota, _ = strconv.ParseInt(f[0], 10, 64)
		}
		return readInt(filepath.Join(d, "memory.max")), quota, readInt(filepath.Join(d, "pids.max"))
	}
	mem = readInt(filepath.Join(cg.dirs["memory"], "memory.limit_in_bytes"))
	if mem > 1<<60 {
		mem = -1
	}
	return mem, readInt(filepath.Join(cg.dirs["cpu"], "cpu.cfs_quota_us")), readInt(filepath.Join(cg.dirs["pids"], "pids.max"))
}

// dirWith makes a directory with mode perm holding files.
func dirWith(t *testing.T, perm os.FileMode, files map[string]string) string {
	t.Helper()
	d := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(d, perm); err != nil {
		t.Fatal(err)
	}
	return d
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func cgroupDirs(s *Sandbox) []string {
	var dirs []string
	for _, d := range s.cg.dirs {
		dirs = append(dirs, d)
	}
	return dirs
}

// checkGone fails unless none of pids is still a process of the sandbox
// and the cgroup directories are gone.
func checkGone(t *testing.T, pids []int, dirs []string) {
	t.Helper()
	for _, p := range pids {
		// A recycled pid belongs to someone else: check the cgroup too.
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p))
		if err == nil && strings.Contains(string(b), "/sbx-") && strings.Contains(string(b), testCgroupParent) {
			t.Errorf("process %d survived Kill", p)
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s survived Kill", d)
		}
	}
}

// testCgroups lists the sandbox cgroups under the test parent.
func testCgroups(t *testing.T) []string {
	t.Helper()
	var left []string
	for _, d := range []string{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup"} {
		m, _ := filepath.Glob(filepath.Join(d, testCgroupParent, "sbx-*"))
		left = append(left, m...)
	}
	return left
}

// sandboxMounts lists the host's mounts that come from a sandbox: its
// tmpfs file systems, or src (a bind source) mounted somewhere.
func sandboxMounts(t *testing.T, src string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "tarn-sandbox") || strings.Contains(l, "tarn-dev") || strings.Contains(l, src) ||
			strings.Contains(l, "/var/task") {
			found = append(found, l)
		}
	}
	return found
}
