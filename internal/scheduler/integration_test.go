package scheduler

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tarn.dev/tarn/internal/accesspoint"
	"tarn.dev/tarn/internal/blob/disk"
	"tarn.dev/tarn/internal/filesvc"
	"tarn.dev/tarn/internal/meta/sqlmeta"
)

// fileService returns a file service over a temporary database and block
// store, or skips without FUSE.
func fileService(t testing.TB) *filesvc.Service {
	t.Helper()
	requireRoot(t)
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse on this machine")
	}
	dir := t.TempDir()
	db, err := sqlmeta.OpenSQLite(filepath.Join(dir, "tarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := disk.Open(filepath.Join(dir, "blocks"), disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := filesvc.New(filesvc.Config{DB: db, Blobs: blocks})
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		blocks.Close()
		db.Close()
	})
	return s
}

const appender = `
import fcntl
def handler(event, context):
    for i in range(event["n"]):
        with open("/mnt/msg/messages.txt", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write("%s %04d %s\n" % (event["tag"], i, "x" * 40))
            f.flush()
            fcntl.flock(f, fcntl.LOCK_UN)
    return {"appended": event["n"]}
`

// The MessageWall story: environments appending to one file on a shared
// file system through an access point, serialised by flock.
func TestParallelEnvironmentsAppendThroughAnAccessPointWithFlock(t *testing.T) {
	const envs, appends = 8, 1000
	files := fileService(t)
	w := newWorld(t, Config{})
	ctx := context.Background()
	const fsID = "fs-0123456789abcdef0"
	apMount, plain := t.TempDir(), t.TempDir()
	_, err := files.MountWith(ctx, fsID, apMount, filesvc.MountOptions{AccessPoint: &filesvc.AccessPoint{
		ID: "fsap-0123456789abcdef0", PosixUser: &accesspoint.User{UID: 1001, GID: 1001}, Path: "/message",
		CreationInfo: &accesspoint.CreationInfo{OwnerUID: 1001, OwnerGID: 1001, Perm: 0o750},
	}})
	if err != nil {
		t.Fatal(err)
	}
	fn := pyFunction(t, "messagewall", appender)
	fn.Mounts = []Mount{{HostPath: apMount, LocalMountPath: "/mnt/msg"}}
	fn.Timeout = 5 * time.Minute

	var wg sync.WaitGroup
	resps := make([]Response, envs)
	errs := make([]error, envs)
	for i := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i], errs[i] = w.invoke(fn, fmt.Sprintf(`{"tag": "env%d", "n": %d}`, i, appends))
		}()
	}
	wg.Wait()
	streams := map[string]bool{}
	for i := range envs {
		if errs[i] != nil || resps[i].FunctionError != "" {
			t.Fatalf("invocation %d: %v %s\n%s", i, errs[i], resps[i].Payload, resps[i].LogTail)
		}
		streams[resps[i].LogStream] = true
	}
	if len(streams) != envs {
		t.Errorf("%d invocations ran in %d environments, want one each", envs, len(streams))
	}

	if _, err := files.Mount(ctx, fsID, plain, true); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(plain, "message", "messages.txt")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if uid := statUID(st); uid != 1001 {
		t.Errorf("file owned by %d, want the access point's 1001", uid)
	}
	line := regexp.MustCompile(`^env[0-7] \d{4} x{40}$`)
	seen := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for _, l := range lines {
		if !line.MatchString(l) || seen[l] {
			t.Fatalf("torn or repeated line %q", l)
		}
		seen[l] = true
	}
	if len(lines) != envs*appends {
		t.Errorf("%d lines, want %d", len(lines), envs*appends)
	}
}

func TestGoFunctionRunsAsProvided(t *testing.T) {
	requireRoot(t)
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain to build the function")
	}
	dir := codeDir(t, nil)
	cmd := exec.Command(gobin, "build", "-o", filepath.Join(dir, "bootstrap"), "tarn.dev/tarn/internal/runtimes/testdata/gofn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build gofn: %v\n%s", err, out)
	}
	w := newWorld(t, Config{})
	fn := Function{Name: "gofn", Runtime: "provided.al2", Handler: "bootstrap", CodeDir: dir, MemoryMB: 256}
	_, out := w.mustInvoke(fn, `{"name": "tarn"}`)
	if out["hello"] != "tarn" || out["function"] != "gofn" || out["memory"] != 256.0 || out["has_deadline"] != true {
		t.Errorf("result %v", out)
	}
	resp, err := w.invoke(fn, `{"fail": true}`)
	if err != nil || resp.ErrorType != "errorString" || !bytes.Contains(resp.Payload, []byte("asked to fail")) {
		t.Errorf("failing invocation: %v %s %s", err, resp.ErrorType, resp.Payload)
	}
	if r, _ := w.mustInvoke(fn, `{"name": "again"}`); r.Cold {
		t.Error("a returned error did not keep the environment warm")
	}
}
