package lambda

import (
	"archive/zip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"tarn.dev/tarn/internal/testserver"
)

// handlerCode is the function under test. Each environment has its own id,
// made when the module loads, so callers can tell environments apart.
//
//   - {"op":"count","n":N} appends "<env> <N>" to invocations.log under
//     flock(2) and returns the environment's id;
//   - {"op":"marker","name":F} writes the request id to F;
//   - {"op":"read","name":F} returns F's content, null when it is missing;
//   - {"op":"story","envs":E,"lines":L} waits until E environments have
//     arrived (so that they run at once), then appends L lines to story.log,
//     each under flock(2).
const handlerCode = `import fcntl, json, os, time, uuid

ENV_ID = uuid.uuid4().hex
DATA = "/mnt/data"


def append(path, line):
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            f.write(line)
            f.flush()
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def handler(event, context):
    op = event.get("op", "count")
    if op == "count":
        append(os.path.join(DATA, "invocations.log"), "%s %d\n" % (ENV_ID, event.get("n", 0)))
        return {"env": ENV_ID, "uid": os.getuid()}
    if op == "marker":
        with open(os.path.join(DATA, event["name"]), "w") as f:
            f.write(context.aws_request_id)
        return {"env": ENV_ID}
    if op == "read":
        try:
            with open(os.path.join(DATA, event["name"])) as f:
                return {"content": f.read()}
        except FileNotFoundError:
            return {"content": None}
    if op == "story":
        barrier = os.path.join(DATA, "barrier")
        os.makedirs(barrier, exist_ok=True)
        open(os.path.join(barrier, ENV_ID), "w").close()
        deadline = time.time() + 60
        while len(os.listdir(barrier)) < event["envs"] and time.time() < deadline:
            time.sleep(0.01)
        path = os.path.join(DATA, "story.log")
        with open(path, "a") as f:
            for i in range(event["lines"]):
                fcntl.flock(f, fcntl.LOCK_EX)
                try:
                    f.write("%s %04d %s\n" % (ENV_ID, i, "x" * 40))
                    f.flush()
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)
        return {"env": ENV_ID}
    raise ValueError("unknown op " + op)
`

// fixture is what setup created.
type fixture struct {
	RoleARN, FileSystemID, AccessPointID, AccessPointARN, Function string
}

// setup creates, with the AWS CLI, an execution role that trusts Lambda and
// may mount and write EFS, a file system with an access point (uid 1001 at
// /fn), and the Python function with the access point at /mnt/data, and
// waits until the function is Active.
func setup(t *testing.T, s *testserver.Server, name string) fixture {
	t.Helper()
	var f fixture
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	var role struct{ Role struct{ Arn string } }
	decode(t, s.AWS(t, "iam", "create-role", "--role-name", name+"-role", "--assume-role-policy-document", trust), &role)
	f.RoleARN = role.Role.Arn
	s.AWS(t, "iam", "attach-role-policy", "--role-name", name+"-role",
		"--policy-arn", "arn:aws:iam::aws:policy/AmazonElasticFileSystemClientReadWriteAccess")

	var fs struct{ FileSystemId string }
	decode(t, s.AWS(t, "efs", "create-file-system", "--creation-token", name+"-fs"), &fs)
	f.FileSystemID = fs.FileSystemId
	var ap struct{ AccessPointId, AccessPointArn string }
	decode(t, s.AWS(t, "efs", "create-access-point", "--file-system-id", f.FileSystemID,
		"--posix-user", "Uid=1001,Gid=1001",
		"--root-directory", "Path=/fn,CreationInfo={OwnerUid=1001,OwnerGid=1001,Permissions=0755}"), &ap)
	f.AccessPointID, f.AccessPointARN = ap.AccessPointId, ap.AccessPointArn

	f.Function = name
	var created struct{ State string }
	decode(t, s.AWS(t, "lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
		"--role", f.RoleARN, "--handler", "lambda_function.handler", "--timeout", "90",
		"--zip-file", "fileb://"+codeZip(t),
		"--file-system-configs", "Arn="+f.AccessPointARN+",LocalMountPath=/mnt/data"), &created)
	if created.State != "Pending" {
		t.Errorf("create-function with FileSystemConfigs: State %q, want Pending", created.State)
	}
	s.AWS(t, "lambda", "wait", "function-active-v2", "--function-name", name)
	var cfg struct {
		State             string
		FileSystemConfigs []struct{ Arn, LocalMountPath string }
	}
	decode(t, s.AWS(t, "lambda", "get-function-configuration", "--function-name", name), &cfg)
	if cfg.State != "Active" || len(cfg.FileSystemConfigs) != 1 || cfg.FileSystemConfigs[0].LocalMountPath != "/mnt/data" {
		t.Fatalf("function after the waiter: %+v, want Active with the access point at /mnt/data", cfg)
	}
	return f
}

// codeZip writes the function's deployment package.
func codeZip(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fn.zip")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(out)
	w, err := zw.Create("lambda_function.py")
	if err == nil {
		_, err = w.Write([]byte(handlerCode))
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
}

// sdk is a signed Lambda client of s without retries, so that the test sees
// every throttle.
func sdk(s *testserver.Server) *lambdasdk.Client {
	return lambdasdk.New(lambdasdk.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// invokeResult is a successful invocation's payload and log tail.
type invokeResult struct {
	Payload map[string]any
	Log     string
}

// invoke runs one RequestResponse invocation and fails on a function error.
// A throttle is returned as is.
func invoke(ctx context.Context, c *lambdasdk.Client, name, qualifier string, payload any, tail bool) (invokeResult, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return invokeResult{}, err
	}
	in := &lambdasdk.InvokeInput{FunctionName: aws.String(name), Payload: b}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	if tail {
		in.LogType = types.LogTypeTail
	}
	out, err := c.Invoke(ctx, in)
	if err != nil {
		return invokeResult{}, err
	}
	var r invokeResult
	if out.LogResult != nil {
		l, err := base64.StdEncoding.DecodeString(*out.LogResult)
		if err != nil {
			return r, fmt.Errorf("log result: %w", err)
		}
		r.Log = string(l)
	}
	if out.FunctionError != nil {
		return r, fmt.Errorf("function error %s: %s", *out.FunctionError, out.Payload)
	}
	if err := json.Unmarshal(out.Payload, &r.Payload); err != nil {
		return r, fmt.Errorf("payload %q: %w", out.Payload, err)
	}
	return r, nil
}

// throttleReason returns the Reason of a TooManyRequestsException.
func throttleReason(err error) (string, bool) {
	var tm *types.TooManyRequestsException
	if errors.As(err, &tm) {
		return string(tm.Reason), true
	}
	return "", false
}

// invokeUntilRun invokes until the invocation is not throttled, counting
// the throttles, which must all be for the function's reserved concurrency.
func invokeUntilRun(ctx context.Context, c *lambdasdk.Client, name string, payload any, throttles *int) (invokeResult, error) {
	for {
		r, err := invoke(ctx, c, name, "", payload, false)
		reason, throttled := throttleReason(err)
		if !throttled {
			return r, err
		}
		if reason != string(types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded) {
			return r, fmt.Errorf("throttled for %q, want the reserved concurrency: %w", reason, err)
		}
		*throttles++
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// reportLine returns the REPORT line of an invocation log.
func reportLine(log string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "REPORT ") {
			return l
		}
	}
	return ""
}

// mountFS mounts the whole file system on the host with `tarn mount` and
// unmounts it when the test ends.
func mountFS(t *testing.T, s *testserver.Server, fsID string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tarn-lambda-mnt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	s.Tarn(t, "mount", fsID, dir)
	t.Cleanup(func() {
		if r := s.Run(t, nil, testserver.Binary(t), "umount", dir, "--data", s.Dir); r.Code != 0 {
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// eventually retries check until it succeeds or the guard runs out; the
// guard only stops a hang and is not a performance assertion.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// set is a set of strings safe for concurrent use.
type set struct {
	mu sync.Mutex
	m  map[string]int
}

func (s *set) add(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]int{}
	}
	s.m[k]++
}

func (s *set) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.m {
		out[k] = v
	}
	return out
}
