package e2e

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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/efs"
)

// Where the clients under test live. Always absolute: a pip-installed v1
// `aws` earlier on PATH would shadow Debian's v2.
const (
	awsPath     = "/usr/bin/aws"
	pythonPath  = "/usr/bin/python3"
	installHint = "install them with: apt-get install awscli python3-boto3"
)

// startTimeout bounds how long a server may take to come up or shut down;
// it guards against hangs and is not a performance assertion.
const startTimeout = 30 * time.Second

// Shapes of ids the API hands out.
var (
	fsIDPattern   = regexp.MustCompile(`^fs-[0-9a-f]{17}$`)
	fsapIDPattern = regexp.MustCompile(`^fsap-[0-9a-f]{17}$`)
	fsmtIDPattern = regexp.MustCompile(`^fsmt-[0-9a-f]{17}$`)
	accountRe     = regexp.MustCompile(`account (\d{12})`)
)

// tarnBin is the tarn binary built once for the whole run.
var tarnBin string

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	if bin := os.Getenv("TARN_E2E_BIN"); bin != "" {
		// A binary built elsewhere, e.g. the release artefact in CI.
		tarnBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "tarn-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	tarnBin = filepath.Join(dir, "tarn")
	// `go test` puts its own go command first on PATH.
	build := exec.Command("go", "build", "-o", tarnBin, "tarn.dev/tarn/cmd/tarn")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build tarn:", err)
		return 1
	}
	return m.Run()
}

// missing skips t because a client is not installed, or fails it when the
// environment demands every e2e test run (TARN_E2E_REQUIRE=1, as in CI).
func missing(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("TARN_E2E_REQUIRE") == "1" {
		t.Fatalf("%s (TARN_E2E_REQUIRE=1 forbids skipping)", msg)
	}
	t.Skip(msg)
}

func requireAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(awsPath); err != nil {
		missing(t, "the AWS CLI v2 is not at "+awsPath+"; "+installHint)
	}
}

var (
	boto3Once sync.Once
	boto3Err  error
)

func requireBoto3(t *testing.T) {
	t.Helper()
	boto3Once.Do(func() {
		out, err := exec.Command(pythonPath, "-c", "import boto3").CombinedOutput()
		if err != nil {
			boto3Err = fmt.Errorf("%s -c 'import boto3': %v: %s", pythonPath, err, bytes.TrimSpace(out))
		}
	})
	if boto3Err != nil {
		missing(t, fmt.Sprintf("boto3 is not importable by %s (%v); %s", pythonPath, boto3Err, installHint))
	}
}

// lockedBuffer collects a child's output while tests read it.
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

// server is a running `tarn server` process.
type server struct {
	t         *testing.T
	Dir       string
	Endpoint  string
	Region    string
	AccountID string
	// Root credentials from keys/root.json.
	AccessKeyID, SecretAccessKey string

	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	state  *os.ProcessState
}

// serverInfo is DIR/server.json.
type serverInfo struct {
	Endpoint string
	Region   string
	Pid      int
}

// rootKeys is DIR/keys/root.json.
type rootKeys struct {
	AccessKeyId     string
	SecretAccessKey string
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// newDataDir returns a data directory path that does not exist yet, so that
// the server creates it as on a first start.
func newDataDir(t *testing.T) string {
	return filepath.Join(t.TempDir(), "tarn-data")
}

// startServer starts `tarn server` on a free loopback port with data
// directory dir and waits until it listens. The process is killed when the
// test ends if it still runs.
func startServer(t *testing.T, dir string) *server {
	t.Helper()
	s := &server{t: t, Dir: dir, out: &lockedBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(tarnBin, "server", "--data", dir, "--listen", "127.0.0.1:0")
	s.cmd.Env = baseEnv(t.TempDir())
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start tarn server: %v", err)
	}
	go func() {
		s.cmd.Wait()
		s.state = s.cmd.ProcessState
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("server %s output:\n%s", dir, s.out.String())
		}
	})

	// server.json is written once the port is bound; a stale one from a
	// killed predecessor names another pid.
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.exited:
			t.Fatalf("tarn server exited before listening (%v):\n%s", s.state, s.out.String())
		case <-deadline.C:
			t.Fatalf("tarn server did not come up within %v:\n%s", startTimeout, s.out.String())
		case <-tick.C:
		}
		var info serverInfo
		if err := readJSONFile(filepath.Join(dir, "server.json"), &info); err != nil || info.Pid != s.cmd.Process.Pid {
			continue
		}
		m := accountRe.FindStringSubmatch(s.out.String())
		if m == nil {
			continue // the banner follows server.json
		}
		s.Endpoint, s.Region, s.AccountID = info.Endpoint, info.Region, m[1]
		break
	}
	var keys rootKeys
	if err := readJSONFile(filepath.Join(dir, "keys", "root.json"), &keys); err != nil {
		t.Fatalf("read root keys: %v", err)
	}
	s.AccessKeyID, s.SecretAccessKey = keys.AccessKeyId, keys.SecretAccessKey
	return s
}

// Stop shuts the server down with SIGTERM and requires a clean exit.
func (s *server) Stop() {
	s.t.Helper()
	s.StopWith(syscall.SIGTERM)
}

// StopWith shuts the server down with sig and requires a clean exit: status
// 0 and server.json removed.
func (s *server) StopWith(sig os.Signal) {
	s.t.Helper()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(startTimeout):
		s.t.Fatalf("tarn server did not stop within %v after %v:\n%s", startTimeout, sig, s.out.String())
	}
	if !s.state.Success() {
		s.t.Fatalf("tarn server exited with %v after %v:\n%s", s.state, sig, s.out.String())
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "server.json")); !errors.Is(err, fs.ErrNotExist) {
		s.t.Errorf("server.json still there after a clean stop (stat: %v)", err)
	}
}

// Kill kills the server with SIGKILL and waits for it to be gone.
func (s *server) Kill() {
	s.t.Helper()
	s.cmd.Process.Kill()
	<-s.exited
}

// Output returns what the server printed so far.
func (s *server) Output() string { return s.out.String() }

// sdk returns an AWS SDK for Go v2 EFS client for the server's endpoint with
// the root credentials.
func (s *server) sdk() *efs.Client {
	return sdkClient(s.Endpoint, s.Region, s.AccessKeyID, s.SecretAccessKey)
}

func sdkClient(endpoint, region, id, secret string) *efs.Client {
	cfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 1,
	}
	return efs.NewFromConfig(cfg, func(o *efs.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// baseEnv is the environment of every child process: nothing inherited, so
// that no AWS_* or TARN_* variable of the caller leaks in.
func baseEnv(home string) []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=C.UTF-8"}
}

// awsCLI runs Debian's AWS CLI v2 against a server.
type awsCLI struct {
	t        *testing.T
	endpoint string
	env      []string
}

// awsCLI returns a runner of the AWS CLI with the server's root credentials.
func (s *server) awsCLI(t *testing.T) *awsCLI {
	t.Helper()
	requireAWSCLI(t)
	return newAWSCLI(t, s.Endpoint, s.Region, s.AccessKeyID, s.SecretAccessKey)
}

func newAWSCLI(t *testing.T, endpoint, region, id, secret string) *awsCLI {
	env := append(baseEnv(t.TempDir()),
		"AWS_ACCESS_KEY_ID="+id,
		"AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION="+region,
		"AWS_MAX_ATTEMPTS=1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	)
	return &awsCLI{t: t, endpoint: endpoint, env: env}
}

// run runs `aws --endpoint-url E --output json ARGS…`.
func (c *awsCLI) run(args ...string) (stdout []byte, stderr string, err error) {
	full := append([]string{"--endpoint-url", c.endpoint, "--output", "json"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, awsPath, full...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.String(), err
}

// call runs an AWS CLI command that must succeed and decodes its JSON output
// into out (when out is not nil).
func (c *awsCLI) call(out any, args ...string) error {
	stdout, stderr, err := c.run(args...)
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

// failsWith runs an AWS CLI command that must fail with the AWS error code.
func (c *awsCLI) failsWith(code string, args ...string) error {
	_, stderr, err := c.run(args...)
	if err == nil {
		return fmt.Errorf("aws %s succeeded, want error %s", strings.Join(args, " "), code)
	}
	if !strings.Contains(stderr, "An error occurred ("+code+")") {
		return fmt.Errorf("aws %s: want error %s, got:\n%s", strings.Join(args, " "), code, stderr)
	}
	return nil
}

// must is call that stops the test on failure.
func (c *awsCLI) must(out any, args ...string) {
	c.t.Helper()
	if err := c.call(out, args...); err != nil {
		c.t.Fatal(err)
	}
}

// mustFail is failsWith that stops the test on failure.
func (c *awsCLI) mustFail(code string, args ...string) {
	c.t.Helper()
	if err := c.failsWith(code, args...); err != nil {
		c.t.Fatal(err)
	}
}

// tarnResult is the outcome of one tarn CLI command.
type tarnResult struct {
	Stdout, Stderr string
	Code           int
}

// tarn runs the tarn binary with args, stdin and a clean environment plus
// extra variables.
func tarn(t *testing.T, stdin string, extraEnv []string, args ...string) tarnResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tarnBin, args...)
	cmd.Env = append(baseEnv(t.TempDir()), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
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

// fsArn and apArn are the ARNs the API must report for the server's account.
func (s *server) fsArn(id string) string {
	return fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:file-system/%s", s.Region, s.AccountID, id)
}

func (s *server) apArn(id string) string {
	return fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:access-point/%s", s.Region, s.AccountID, id)
}
