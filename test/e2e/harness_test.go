package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

	"tarn.dev/tarn/internal/testserver"
)

// Where the clients under test live. Always absolute: a pip-installed v1
// `aws` earlier on PATH would shadow Debian's v2.
const (
	awsPath     = testserver.AWSCLI
	pythonPath  = "/usr/bin/python3"
	installHint = "install them with: apt-get install awscli python3-boto3"
)

// Shapes of ids the API hands out.
var (
	fsIDPattern   = regexp.MustCompile(`^fs-[0-9a-f]{17}$`)
	fsapIDPattern = regexp.MustCompile(`^fsap-[0-9a-f]{17}$`)
	fsmtIDPattern = regexp.MustCompile(`^fsmt-[0-9a-f]{17}$`)
)

// TestMain removes the tarn binary built for the run (internal/testserver
// builds it once, or takes $TARN_E2E_BIN, e.g. the release artefact in CI).
func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

func requireAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(awsPath); err != nil {
		testserver.Missing(t, "the AWS CLI v2 is not at "+awsPath+"; "+installHint)
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
		testserver.Missing(t, fmt.Sprintf("boto3 is not importable by %s (%v); %s", pythonPath, boto3Err, installHint))
	}
}

// server is a running `tarn server` process (internal/testserver). When
// the test ends a server still running is stopped with SIGTERM.
type server struct {
	*testserver.Server
	t *testing.T
}

// newDataDir returns a data directory path that does not exist yet, so that
// the server creates it as on a first start.
func newDataDir(t *testing.T) string {
	return filepath.Join(t.TempDir(), "tarn-data")
}

// startServer starts `tarn server` on free loopback ports with data
// directory dir and waits until it serves.
func startServer(t *testing.T, dir string) *server {
	t.Helper()
	return &server{Server: testserver.Start(t, dir), t: t}
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
	s.Server.StopWith(s.t, sig)
}

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

// awsCLI runs Debian's AWS CLI v2 against a server
// (testserver.AWSRunner).
type awsCLI struct {
	*testserver.AWSRunner
	t *testing.T
}

// awsCLI returns a runner of the AWS CLI with the server's root credentials.
func (s *server) awsCLI(t *testing.T) *awsCLI {
	t.Helper()
	requireAWSCLI(t)
	return newAWSCLI(t, s.Endpoint, s.Region, s.AccessKeyID, s.SecretAccessKey)
}

func newAWSCLI(t *testing.T, endpoint, region, id, secret string) *awsCLI {
	return &awsCLI{AWSRunner: testserver.NewAWSRunner(t.TempDir(), endpoint, region, id, secret), t: t}
}

// call runs an AWS CLI command that must succeed and decodes its JSON output
// into out (when out is not nil).
func (c *awsCLI) call(out any, args ...string) error { return c.Call(out, args...) }

// failsWith runs an AWS CLI command that must fail with the AWS error code.
func (c *awsCLI) failsWith(code string, args ...string) error {
	_, err := c.Refusal(code, args...)
	return err
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
	cmd := exec.CommandContext(ctx, testserver.Binary(t), args...)
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
