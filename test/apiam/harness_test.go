package apiam

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"tarn.dev/tarn/internal/testserver"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// awsPath is Debian's AWS CLI v2, always by absolute path: a pip-installed
// v1 `aws` earlier on PATH would shadow it.
const awsPath = "/usr/bin/aws"

// startTimeout bounds how long a server may take to come up or shut down;
// it guards against hangs and is not a performance assertion.
const startTimeout = 30 * time.Second

var accountRe = regexp.MustCompile(`account (\d{12})`)

// requireMounts skips unless this process can mount FUSE file systems and
// run the AWS CLI.
func requireMounts(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		testserver.Missing(t, "access point tests mount FUSE file systems and switch uids: run them as root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		testserver.Missing(t, "access point tests need /dev/fuse: "+err.Error())
	}
	if _, err := os.Stat(awsPath); err != nil {
		testserver.Missing(t, "the AWS CLI v2 is not at "+awsPath+"; install it with: apt-get install awscli")
	}
}

// key is an access key pair.
type key struct{ ID, Secret string }

// server is a running `tarn server` process.
type server struct {
	t         *testing.T
	Dir       string
	Endpoint  string
	Region    string
	AccountID string
	Root      key
}

// startServer starts `tarn server` on free loopback ports with a fresh data
// directory (internal/testserver). When the test ends the server is
// stopped with SIGTERM, which unmounts its mounts.
func startServer(t *testing.T) *server {
	t.Helper()
	ts := testserver.Start(t, filepath.Join(t.TempDir(), "tarn-data"))
	return &server{t: t, Dir: ts.Dir, Endpoint: ts.Endpoint, Region: ts.Region, AccountID: ts.AccountID,
		Root: key{ts.AccessKeyID, ts.SecretAccessKey}}
}

// baseEnv is the environment of every child process: nothing inherited, so
// that no AWS_* or TARN_* variable of the caller leaks in.
func baseEnv(home string) []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=C.UTF-8"}
}

func (s *server) fsArn(id string) string {
	return fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:file-system/%s", s.Region, s.AccountID, id)
}

func (s *server) userArn(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:user/%s", s.AccountID, name)
}

// awsCLI runs the AWS CLI v2 against a server with one key pair
// (testserver.AWSRunner).
type awsCLI struct {
	*testserver.AWSRunner
	t *testing.T
}

func (s *server) aws(t *testing.T, k key) *awsCLI {
	return &awsCLI{AWSRunner: testserver.NewAWSRunner(t.TempDir(), s.Endpoint, s.Region, k.ID, k.Secret), t: t}
}

// call runs an AWS CLI command that must succeed and decodes its JSON output
// into out (when out is not nil).
func (c *awsCLI) call(out any, args ...string) error { return c.Call(out, args...) }

// refusal runs an AWS CLI command that must fail with the AWS error code and
// returns its message.
func (c *awsCLI) refusal(code string, args ...string) (string, error) {
	return c.Refusal(code, args...)
}

func (c *awsCLI) must(out any, args ...string) {
	c.t.Helper()
	if err := c.call(out, args...); err != nil {
		c.t.Fatal(err)
	}
}

// mustFail runs a command that must fail with code and returns its message.
func (c *awsCLI) mustFail(code string, args ...string) string {
	c.t.Helper()
	msg, err := c.refusal(code, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return msg
}

// tarnResult is the outcome of one tarn CLI command.
type tarnResult struct {
	Stdout, Stderr string
	Code           int
}

// tarn runs the tarn binary against the server with the key pair k in the
// environment (nil: none, so the CLI takes the root key from the data
// directory).
func (s *server) tarn(t *testing.T, k *key, args ...string) tarnResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testserver.Binary(t), append([]string{"--data", s.Dir}, args...)...)
	cmd.Env = baseEnv(t.TempDir())
	if k != nil {
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+k.ID, "AWS_SECRET_ACCESS_KEY="+k.Secret)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := tarnResult{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run tarn %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// mount runs `tarn mount FS MP [--access-point AP]` as k. A mount that
// succeeds is unmounted with `tarn umount` when the test ends (lazily with
// umount(2) if that fails).
func (s *server) mount(t *testing.T, k *key, fsID, mp, ap string) tarnResult {
	t.Helper()
	args := []string{"mount", fsID, mp}
	if ap != "" {
		args = append(args, "--access-point", ap)
	}
	r := s.tarn(t, k, args...)
	if r.Code == 0 {
		t.Cleanup(func() {
			if !isMounted(mp) {
				return
			}
			if u := s.tarn(t, nil, "umount", mp); u.Code != 0 {
				t.Logf("tarn umount %s: %s", mp, u.Stderr)
				syscall.Unmount(mp, syscall.MNT_DETACH)
			}
		})
	}
	return r
}

// mustMount is mount that must succeed.
func (s *server) mustMount(t *testing.T, k *key, fsID, mp, ap string) string {
	t.Helper()
	r := s.mount(t, k, fsID, mp, ap)
	if r.Code != 0 {
		t.Fatalf("tarn mount %s %s (access point %q): exit %d\n%s%s", fsID, mp, ap, r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// mountView is an entry of `tarn mount --json`.
type mountView struct {
	FileSystemID  string `json:"FileSystemId"`
	AccessPointID string `json:"AccessPointId"`
	MountPoint    string
	ReadOnly      bool
	SquashRoot    bool
}

// mounts lists the server's mounts by mount point.
func (s *server) mounts(t *testing.T) map[string]mountView {
	t.Helper()
	r := s.tarn(t, nil, "mount", "--json")
	if r.Code != 0 {
		t.Fatalf("tarn mount --json: exit %d: %s", r.Code, r.Stderr)
	}
	var list []mountView
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("tarn mount --json: %v\n%s", err, r.Stdout)
	}
	out := map[string]mountView{}
	for _, m := range list {
		out[m.MountPoint] = m
	}
	return out
}

// isMounted reports whether dir is a mount point other than its parent's
// file system.
func isMounted(dir string) bool {
	var st, parent syscall.Stat_t
	if syscall.Stat(dir, &st) != nil || syscall.Stat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}

// baseDir returns a fresh directory that every uid can traverse (child
// processes of the tests run as other users), removed when the test ends.
// Mount points made in it are unmounted before it is removed.
func baseDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tarn-apiam-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mkdirs makes directories named under base and returns their paths.
func mkdirs(t *testing.T, base string, names ...string) []string {
	t.Helper()
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(base, n)
		if err := os.MkdirAll(out[i], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// accessPoint is what the tests read of create-access-point's output.
type accessPoint struct {
	AccessPointId  string
	AccessPointArn string
	LifeCycleState string
}

// createFileSystem creates a file system with the AWS CLI and waits until it
// and the access points made by aps (given its id) are available.
func createFileSystem(t *testing.T, aws *awsCLI, token string, aps ...[]string) (string, []accessPoint) {
	t.Helper()
	var f struct{ FileSystemId string }
	aws.must(&f, "efs", "create-file-system", "--creation-token", token)
	waitAvailable(t, aws, "efs", "describe-file-systems", "--file-system-id", f.FileSystemId)
	out := make([]accessPoint, len(aps))
	steps := make([]func() error, len(aps))
	for i, args := range aps {
		steps[i] = func() error {
			return aws.call(&out[i], append([]string{"efs", "create-access-point", "--file-system-id", f.FileSystemId}, args...)...)
		}
	}
	testserver.Parallel(t, steps...)
	if len(aps) > 0 {
		waitAvailable(t, aws, "efs", "describe-access-points", "--file-system-id", f.FileSystemId)
	}
	return f.FileSystemId, out
}

// waitAvailable polls a describe command until every LifeCycleState in its
// output is "available".
func waitAvailable(t *testing.T, aws *awsCLI, args ...string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		out, stderr, err := aws.Run(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		states := regexp.MustCompile(`"LifeCycleState": "(\w+)"`).FindAllStringSubmatch(string(out), -1)
		ready := len(states) > 0
		for _, s := range states {
			ready = ready && s[1] == "available"
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws %s: not available within %v:\n%s", strings.Join(args, " "), startTimeout, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// owner returns the uid, gid and permission bits of path (not following a
// final symlink).
func owner(t *testing.T, path string) (uid, gid, perm uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatalf("lstat %s: %v", path, err)
	}
	return st.Uid, st.Gid, st.Mode & 0o7777
}

// names lists a directory's entry names, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir %s: %v", dir, err)
	}
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name()
	}
	return out
}

// errno returns the errno inside err, or 0.
func errno(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}
