// Package testserver runs real `tarn server` processes for end-to-end tests:
// it builds the binary once per test binary, starts servers on free loopback
// ports with fresh data directories, and runs clients (the tarn CLI, the AWS
// CLI) against them. It is imported by tests only.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// AWSCLI is Debian's AWS CLI v2. Always the absolute path: a pip-installed
// v1 `aws` earlier on PATH would shadow it.
const AWSCLI = "/usr/bin/aws"

// startTimeout guards against hangs; it is not a performance assertion.
const startTimeout = 60 * time.Second

var (
	buildOnce sync.Once
	binPath   string
	buildDir  string // where Binary built it; "" for $TARN_E2E_BIN
	buildErr  error
)

// Main runs the tests of m and then removes the binary Binary built, if it
// built one; a package's TestMain calls os.Exit(testserver.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	return code
}

// Binary returns the tarn binary: $TARN_E2E_BIN, or one built from this
// module the first time it is asked for.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if bin := os.Getenv("TARN_E2E_BIN"); bin != "" {
			binPath = bin
			return
		}
		dir, err := os.MkdirTemp("", "tarn-test-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir, binPath = dir, filepath.Join(dir, "tarn")
		out, err := exec.Command("go", "build", "-o", binPath, "tarn.dev/tarn/cmd/tarn").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build tarn: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Require skips t, or fails it when TARN_E2E_REQUIRE=1 (as in CI), unless
// the machine can run what the test needs: root for FUSE mounts and
// sandboxes, and the AWS CLI.
func Require(t testing.TB, root, awsCLI bool) {
	t.Helper()
	var missing []string
	if root {
		if os.Geteuid() != 0 {
			missing = append(missing, "root")
		} else if _, err := os.Stat("/dev/fuse"); err != nil {
			missing = append(missing, "/dev/fuse")
		}
	}
	if awsCLI {
		if _, err := os.Stat(AWSCLI); err != nil {
			missing = append(missing, AWSCLI+" (apt-get install awscli)")
		}
	}
	if len(missing) == 0 {
		return
	}
	Missing(t, "this test needs "+strings.Join(missing, ", "))
}

// Missing skips t because something it needs is not there (msg says what),
// or fails it when the environment demands that every test run
// (TARN_E2E_REQUIRE=1, as in CI).
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("TARN_E2E_REQUIRE") == "1" {
		t.Fatal(msg + " (TARN_E2E_REQUIRE=1 forbids skipping)")
	}
	t.Skip(msg)
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Server is a running `tarn server` process.
type Server struct {
	Dir        string
	Endpoint   string // control API, http://127.0.0.1:PORT
	GatewayURL string // HTTP API gateway, http://127.0.0.1:PORT
	Region     string
	AccountID  string
	// Root credentials.
	AccessKeyID, SecretAccessKey string

	bin    string
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
}

var (
	gatewayLine = regexp.MustCompile(`HTTP API gateway at (http://\S+)`)
	accountLine = regexp.MustCompile(`account (\d{12})`)
)

// Start starts `tarn server` with data directory dir (created when missing)
// on free loopback ports and waits until it serves. The process is killed
// when the test ends if it still runs.
func Start(t testing.TB, dir string) *Server {
	t.Helper()
	s := &Server{Dir: dir, bin: Binary(t), out: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(s.bin, "server", "--data", dir, "--listen", "127.0.0.1:0")
	s.cmd.Env = cleanEnv(os.TempDir())
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start tarn server: %v", err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.Stop(t)
		if t.Failed() {
			t.Logf("tarn server %s printed:\n%s", dir, s.out.String())
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		var info struct {
			Endpoint, Region string
			Pid              int
		}
		b, err := os.ReadFile(filepath.Join(dir, "server.json"))
		if err == nil && json.Unmarshal(b, &info) == nil && info.Pid == s.cmd.Process.Pid {
			s.Endpoint, s.Region = info.Endpoint, info.Region
			out := s.out.String()
			gw, acct := gatewayLine.FindStringSubmatch(out), accountLine.FindStringSubmatch(out)
			if gw != nil && acct != nil {
				s.GatewayURL, s.AccountID = gw[1], acct[1]
				break
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("tarn server exited while starting:\n%s", s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("tarn server did not start within %s:\n%s", startTimeout, s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var keys struct{ AccessKeyId, SecretAccessKey string }
	b, err := os.ReadFile(filepath.Join(dir, "keys", "root.json"))
	if err != nil || json.Unmarshal(b, &keys) != nil {
		t.Fatalf("read root keys: %v", err)
	}
	s.AccessKeyID, s.SecretAccessKey = keys.AccessKeyId, keys.SecretAccessKey
	return s
}

// Stop stops the server with SIGTERM and waits for it. A server that does
// not stop is made to print its goroutines (SIGQUIT), then killed.
func (s *Server) Stop(t testing.TB) {
	if !s.Alive() {
		return
	}
	if !s.signal(syscall.SIGTERM) {
		t.Errorf("tarn server did not stop on SIGTERM within %s; its goroutines follow (SIGQUIT)", startTimeout)
	}
}

// StopWith stops the server with sig and requires a clean exit: status 0
// and server.json removed. A server that does not stop fails t with its
// output (goroutines included, see Stop).
func (s *Server) StopWith(t testing.TB, sig os.Signal) {
	t.Helper()
	if !s.signal(sig) {
		t.Fatalf("tarn server did not stop within %s after %v; its goroutines follow (SIGQUIT):\n%s", startTimeout, sig, s.out.String())
	}
	if st := s.ExitState(); !st.Success() {
		t.Fatalf("tarn server exited with %v after %v:\n%s", st, sig, s.out.String())
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "server.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("server.json still there after a clean stop (stat: %v)", err)
	}
}

// signal sends sig to the server and waits until it exits. A server that
// does not exit within startTimeout is made to print its goroutines
// (SIGQUIT), then killed, and signal reports false.
func (s *Server) signal(sig os.Signal) bool {
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
		return true
	case <-time.After(startTimeout):
	}
	s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.Kill()
	}
	return false
}

// ExitState reports how the server process ended, or nil while it runs.
func (s *Server) ExitState() *os.ProcessState {
	if s.Alive() {
		return nil
	}
	return s.cmd.ProcessState
}

// Kill kills the server with SIGKILL and waits until it is gone.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// Alive reports whether the server process still runs.
func (s *Server) Alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Output returns what the server printed so far.
func (s *Server) Output() string { return s.out.String() }

// Env returns the environment for a client of this server: the root key
// (unless key and secret are given), the region, and TARN_ENDPOINT.
func (s *Server) Env(home string, keyAndSecret ...string) []string {
	id, secret := s.AccessKeyID, s.SecretAccessKey
	if len(keyAndSecret) == 2 {
		id, secret = keyAndSecret[0], keyAndSecret[1]
	}
	return append(cleanEnv(home),
		"AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION="+s.Region, "AWS_REGION="+s.Region, "TARN_ENDPOINT="+s.Endpoint)
}

// Result is what a client command did.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs a command with this server's client environment (root key).
func (s *Server) Run(t testing.TB, stdin []byte, name string, args ...string) Result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = s.Env(t.TempDir())
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	return r
}

// AWS runs the AWS CLI against the server and fails t unless it succeeds;
// it returns stdout.
func (s *Server) AWS(t testing.TB, args ...string) string {
	t.Helper()
	r := s.Run(t, nil, AWSCLI, append([]string{"--endpoint-url", s.Endpoint, "--output", "json"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r.Stdout
}

// Tarn runs the tarn CLI against the server and fails t unless it succeeds;
// it returns stdout.
func (s *Server) Tarn(t testing.TB, args ...string) string {
	t.Helper()
	r := s.Run(t, nil, s.bin, append(args, "--data", s.Dir)...)
	if r.Code != 0 {
		t.Fatalf("tarn %s: exit %d: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r.Stdout
}

// cleanEnv is the environment of a child process: the machine's, without
// any AWS_ or TARN_ settings of the caller, with HOME set (so no user AWS
// configuration applies) and no client retries.
func cleanEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "TARN_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
}

// Parallel runs independent steps concurrently, a few at a time (the
// machine is small), reports every error and stops the test if any failed.
func Parallel(t testing.TB, steps ...func() error) {
	t.Helper()
	errs := make([]error, len(steps))
	sem := make(chan struct{}, 3)
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = step()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// AWSRunner runs the AWS CLI against one endpoint with one key pair. Its
// environment inherits nothing of the caller's (so no AWS_* or TARN_*
// variable or user configuration applies) and asks for no retries. Its
// methods may run on any goroutine.
type AWSRunner struct {
	endpoint string
	env      []string
}

// NewAWSRunner returns a runner of the AWS CLI for endpoint and region that
// signs with the key pair id, secret; home is its HOME.
func NewAWSRunner(home, endpoint, region, id, secret string) *AWSRunner {
	return &AWSRunner{endpoint: endpoint, env: []string{
		"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=C.UTF-8",
		"AWS_ACCESS_KEY_ID=" + id,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_DEFAULT_REGION=" + region,
		"AWS_MAX_ATTEMPTS=1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	}}
}

// Run runs `aws --endpoint-url E --output json ARGS…`, for at most a minute.
func (c *AWSRunner) Run(args ...string) (stdout []byte, stderr string, err error) {
	full := append([]string{"--endpoint-url", c.endpoint, "--output", "json"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, AWSCLI, full...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.String(), err
}

// Call runs a command that must succeed and decodes its JSON output into
// out (when out is not nil).
func (c *AWSRunner) Call(out any, args ...string) error {
	stdout, stderr, err := c.Run(args...)
	if err != nil {
		return fmt.Errorf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	if out != nil {
		if err := json.Unmarshal(stdout, out); err != nil {
			return fmt.Errorf("aws %s: decode output: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
	return nil
}

// Refusal runs a command that must fail with the AWS error code and
// returns what it printed on stderr.
func (c *AWSRunner) Refusal(code string, args ...string) (string, error) {
	_, stderr, err := c.Run(args...)
	if err == nil {
		return "", fmt.Errorf("aws %s succeeded, want error %s", strings.Join(args, " "), code)
	}
	if !strings.Contains(stderr, "An error occurred ("+code+")") {
		return "", fmt.Errorf("aws %s: want error %s, got:\n%s", strings.Join(args, " "), code, stderr)
	}
	return stderr, nil
}
