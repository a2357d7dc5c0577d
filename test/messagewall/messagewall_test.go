package messagewall

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tarn.dev/tarn/internal/testserver"
)

const (
	curlPath     = "/usr/bin/curl"
	functionName = "MessageWall"
	// The function's code, as the example's README deploys it.
	functionSource = "../../examples/messagewall/app.py"

	writers   = 16  // concurrent curl processes
	perWriter = 500 // POSTs each
	readers   = 2   // GET loops while the writers run

	// requestTimeout guards each request against hangs; it is not a
	// performance assertion.
	requestTimeout = 60 * time.Second
)

// messageLine is one message of the concurrent phase: writer and sequence.
var messageLine = regexp.MustCompile(`^w(\d\d)-(\d\d\d)$`)

// wall is a message wall built on a server.
type wall struct {
	fsID, apID string
	url        string // …/<apiId>/default/MessageWall
}

func TestMessageWall(t *testing.T) {
	testserver.Require(t, true, true)
	requireCurl(t)
	s := testserver.Start(t, t.TempDir())
	w := build(t, s)

	t.Run("transcript", func(t *testing.T) { checkTranscript(t, w) })
	t.Run("concurrent appends keep every line intact", func(t *testing.T) { checkConcurrentAppends(t, w) })
	t.Run("host mount sees the same file", func(t *testing.T) { checkHostMount(t, s, w) })
}

func requireCurl(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(curlPath); err == nil {
		return
	}
	testserver.Missing(t, "this test needs "+curlPath+" (apt-get install curl; scripts/test installs it)")
}

// awsJSON runs the AWS CLI and decodes its JSON output into v.
func awsJSON(t *testing.T, s *testserver.Server, v any, args ...string) {
	t.Helper()
	out := s.AWS(t, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("aws %s: decode %q: %v", strings.Join(args, " "), out, err)
	}
}

// build makes the message wall the way the example's README does, with the
// AWS CLI only.
func build(t *testing.T, s *testserver.Server) wall {
	t.Helper()
	var w wall

	const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
		`"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	var role struct{ Role struct{ Arn string } }
	awsJSON(t, s, &role, "iam", "create-role", "--role-name", "MessageWallRole", "--assume-role-policy-document", trust)
	s.AWS(t, "iam", "attach-role-policy", "--role-name", "MessageWallRole",
		"--policy-arn", "arn:aws:iam::aws:policy/AmazonElasticFileSystemClientReadWriteAccess")

	var fs struct{ FileSystemId, LifeCycleState string }
	awsJSON(t, s, &fs, "efs", "create-file-system", "--creation-token", "message-wall", "--tags", "Key=Name,Value=message-wall")
	w.fsID = fs.FileSystemId
	for deadline := time.Now().Add(requestTimeout); fs.LifeCycleState != "available"; {
		if time.Now().After(deadline) {
			t.Fatalf("file system %s is still %s", w.fsID, fs.LifeCycleState)
		}
		time.Sleep(100 * time.Millisecond)
		var d struct {
			FileSystems []struct{ LifeCycleState string }
		}
		awsJSON(t, s, &d, "efs", "describe-file-systems", "--file-system-id", w.fsID)
		if len(d.FileSystems) == 1 {
			fs.LifeCycleState = d.FileSystems[0].LifeCycleState
		}
	}

	var ap struct{ AccessPointId, AccessPointArn string }
	awsJSON(t, s, &ap, "efs", "create-access-point", "--file-system-id", w.fsID,
		"--posix-user", "Uid=1001,Gid=1001",
		"--root-directory", "Path=/message,CreationInfo={OwnerUid=1001,OwnerGid=1001,Permissions=750}")
	w.apID = ap.AccessPointId

	var fn struct{ FunctionArn string }
	awsJSON(t, s, &fn, "lambda", "create-function", "--function-name", functionName,
		"--runtime", "python3.12", "--handler", "app.handler", "--role", role.Role.Arn,
		"--memory-size", "512", "--timeout", "30",
		"--zip-file", "fileb://"+zipFunction(t),
		"--file-system-configs", "Arn="+ap.AccessPointArn+",LocalMountPath=/mnt/msg")
	s.AWS(t, "lambda", "wait", "function-active-v2", "--function-name", functionName)

	var api struct{ ApiId, ApiEndpoint string }
	awsJSON(t, s, &api, "apigatewayv2", "create-api", "--name", "MessageWall", "--protocol-type", "HTTP")
	var integ struct{ IntegrationId string }
	awsJSON(t, s, &integ, "apigatewayv2", "create-integration", "--api-id", api.ApiId,
		"--integration-type", "AWS_PROXY", "--integration-uri", fn.FunctionArn, "--payload-format-version", "2.0")
	s.AWS(t, "apigatewayv2", "create-route", "--api-id", api.ApiId,
		"--route-key", "ANY /MessageWall", "--target", "integrations/"+integ.IntegrationId)
	s.AWS(t, "apigatewayv2", "create-stage", "--api-id", api.ApiId, "--stage-name", "default", "--auto-deploy")
	account := strings.Split(fn.FunctionArn, ":")[4]
	s.AWS(t, "lambda", "add-permission", "--function-name", functionName, "--statement-id", "message-wall-api",
		"--action", "lambda:InvokeFunction", "--principal", "apigateway.amazonaws.com",
		"--source-arn", fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/*/*/MessageWall", s.Region, account, api.ApiId))

	if !strings.HasPrefix(api.ApiEndpoint, s.GatewayURL) {
		t.Fatalf("apiEndpoint %q is not on the gateway %s", api.ApiEndpoint, s.GatewayURL)
	}
	w.url = api.ApiEndpoint + "/default/MessageWall"
	return w
}

// zipFunction zips the example's app.py and returns the zip's path.
func zipFunction(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(functionSource)
	if err != nil {
		t.Fatalf("read the example's function: %v", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "app.py", Method: zip.Deflate}
	h.SetMode(0o644)
	f, err := zw.CreateHeader(h)
	if err == nil {
		_, err = f.Write(src)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatalf("zip app.py: %v", err)
	}
	path := filepath.Join(t.TempDir(), "messagewall.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// curlResult is one curl transfer: the body, status and content type.
type curlResult struct {
	body        string
	status      string
	contentType string
}

// curl runs /usr/bin/curl with args and one URL (the last arg) and fails t
// unless curl succeeds.
func curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	// The write-out goes after the body, behind a separator no body holds.
	const sep = "\n\x1f"
	full := append([]string{"-sS", "--max-time", fmt.Sprint(requestTimeout.Seconds()),
		"--write-out", sep + "%{http_code} %{content_type}"}, args...)
	out, err := exec.Command(curlPath, full...).Output()
	if err != nil {
		t.Fatalf("curl %s: %v: %s", strings.Join(args, " "), err, stderrOf(err))
	}
	body, meta, ok := strings.Cut(string(out), sep)
	if !ok {
		t.Fatalf("curl %s: no write-out in %q", strings.Join(args, " "), out)
	}
	status, ctype, _ := strings.Cut(meta, " ")
	return curlResult{body: body, status: status, contentType: ctype}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// checkTranscript replays the launch blog's session, plus the answers to
// an unsupported method and an unknown path.
func checkTranscript(t *testing.T, w wall) {
	text := []string{"-H", "Content-Type: text/plain"}
	steps := []struct {
		name      string
		args      []string
		status    string
		wantBody  string
		wantJSONs bool // content-type application/json, as for any string result
	}{
		{"GET before any post", nil, "200", "No message yet.", true},
		{"first POST", append(text, "-d", "Hello from EFS!"), "200", "Hello from EFS!\n", true},
		{"second POST", append(text, "-d", "Hello again :)"), "200", "Hello from EFS!\nHello again :)\n", true},
		{"GET after two posts", nil, "200", "Hello from EFS!\nHello again :)\n", true},
		{"PUT", []string{"-X", "PUT", "-d", "x"}, "200", "Method unsupported.", true},
		{"DELETE", []string{"-X", "DELETE"}, "200", "Messages deleted.", true},
		{"GET after DELETE", nil, "200", "No message yet.", true},
	}
	for _, st := range steps {
		got := curl(t, append(st.args, w.url)...)
		if got.status != st.status || got.body != st.wantBody {
			t.Errorf("%s: %s %q, want %s %q", st.name, got.status, got.body, st.status, st.wantBody)
		}
		if st.wantJSONs && got.contentType != "application/json" {
			t.Errorf("%s: content-type %q, want application/json", st.name, got.contentType)
		}
	}

	// The route is ANY /MessageWall on stage default; nothing else is served.
	other := strings.TrimSuffix(w.url, "MessageWall") + "Other"
	if got := curl(t, other); got.status != "404" || got.body != `{"message":"Not Found"}` {
		t.Errorf("GET %s = %s %q, want 404 {\"message\":\"Not Found\"}", other, got.status, got.body)
	}
}

// checkConcurrentAppends runs writers curl processes that POST perWriter
// messages each over one keep-alive connection, while readers GET the wall
// in a loop, and checks that no line is ever torn or lost.
func checkConcurrentAppends(t *testing.T, w wall) {
	dir := t.TempDir()
	ctx, stopReaders := context.WithCancel(context.Background())
	defer stopReaders()

	var readWG sync.WaitGroup
	readErrs := make([]error, readers)
	readCounts := make([]int, readers)
	for r := range readers {
		readWG.Add(1)
		go func() {
			defer readWG.Done()
			readCounts[r], readErrs[r] = readWhileWriting(ctx, w.url)
		}()
	}

	var writeWG sync.WaitGroup
	writeOut := make([][]byte, writers)
	writeErrs := make([]error, writers)
	for c := range writers {
		cfg := filepath.Join(dir, fmt.Sprintf("writer%02d.curl", c))
		if err := os.WriteFile(cfg, writerConfig(w.url, c), 0o644); err != nil {
			t.Fatal(err)
		}
		writeWG.Add(1)
		go func() {
			defer writeWG.Done()
			cmd := exec.Command(curlPath, "-sS", "--max-time", fmt.Sprint(requestTimeout.Seconds()), "-K", cfg)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			writeOut[c], writeErrs[c] = cmd.Output()
			if writeErrs[c] != nil {
				writeErrs[c] = fmt.Errorf("%w: %s", writeErrs[c], errb.String())
			}
		}()
	}
	writeWG.Wait()
	stopReaders()
	readWG.Wait()

	for c := range writers {
		if writeErrs[c] != nil {
			t.Errorf("writer %d: curl: %v", c, writeErrs[c])
			continue
		}
		codes := strings.Fields(string(writeOut[c]))
		var bad []string
		for i, code := range codes {
			if code != "200" {
				bad = append(bad, fmt.Sprintf("message %d: %s", i, code))
			}
		}
		if len(codes) != perWriter || len(bad) > 0 {
			t.Errorf("writer %d: %d answers, want %d; not 200: %v", c, len(codes), perWriter, bad)
		}
	}
	for r := range readers {
		if readErrs[r] != nil {
			t.Errorf("reader %d: %v", r, readErrs[r])
		}
		if readCounts[r] == 0 {
			t.Errorf("reader %d saw no message while the writers ran", r)
		}
	}

	final := curl(t, w.url)
	if final.status != "200" {
		t.Fatalf("GET after the writers: %s %q", final.status, final.body)
	}
	if err := checkWall(final.body, true); err != nil {
		t.Errorf("the wall after %d writers × %d posts: %v", writers, perWriter, err)
	}
}

// writerConfig is a curl config file that POSTs writer c's messages, one
// transfer each, and writes out each status code.
func writerConfig(url string, c int) []byte {
	var b strings.Builder
	for i := range perWriter {
		if i > 0 {
			b.WriteString("next\n")
		}
		fmt.Fprintf(&b, "url = %q\nheader = \"Content-Type: text/plain\"\ndata = \"w%02d-%03d\"\n", url, c, i)
		b.WriteString("output = \"/dev/null\"\nwrite-out = \"%{http_code}\\n\"\n")
	}
	return []byte(b.String())
}

// readWhileWriting GETs the wall until ctx ends and checks each answer: 200,
// whole lines only, never fewer than the previous answer. It returns the
// number of answers that held messages.
func readWhileWriting(ctx context.Context, url string) (int, error) {
	client := &http.Client{Timeout: requestTimeout}
	seen, last := 0, 0
	for ctx.Err() == nil {
		resp, err := client.Get(url)
		if err != nil {
			return seen, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return seen, err
		}
		if resp.StatusCode != http.StatusOK {
			return seen, fmt.Errorf("GET: %s %q", resp.Status, body)
		}
		if string(body) == "No message yet." {
			if last > 0 {
				return seen, fmt.Errorf("GET: no message after %d lines", last)
			}
			continue
		}
		if err := checkWall(string(body), false); err != nil {
			return seen, fmt.Errorf("GET while writing: %v", err)
		}
		n := strings.Count(string(body), "\n")
		if n < last {
			return seen, fmt.Errorf("GET: %d lines after %d", n, last)
		}
		last = n
		seen++
	}
	return seen, nil
}

// checkWall checks that body is whole message lines, each writer's in the
// order it sent them; complete also wants every message of every writer.
func checkWall(body string, complete bool) error {
	if !strings.HasSuffix(body, "\n") {
		return fmt.Errorf("last line torn: ends %q", tail(body))
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	next := make([]int, writers)
	for i, l := range lines {
		m := messageLine.FindStringSubmatch(l)
		if m == nil {
			return fmt.Errorf("line %d is not a whole message: %q", i+1, l)
		}
		c, _ := strconv.Atoi(m[1])
		seq, _ := strconv.Atoi(m[2])
		if c >= writers || seq != next[c] {
			return fmt.Errorf("line %d is %q, want writer %d's message %d", i+1, l, c, next[c])
		}
		next[c]++
	}
	if complete && len(lines) != writers*perWriter {
		return fmt.Errorf("%d lines, want %d", len(lines), writers*perWriter)
	}
	return nil
}

func tail(s string) string {
	if len(s) > 40 {
		return s[len(s)-40:]
	}
	return s
}

// checkHostMount mounts the whole file system on the host and reads the
// wall's file: the same bytes the function serves, owned by the access
// point's user, in the directory its CreationInfo made.
func checkHostMount(t *testing.T, s *testserver.Server, w wall) {
	mp := filepath.Join(t.TempDir(), "wall")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	s.Tarn(t, "mount", w.fsID, mp)
	t.Cleanup(func() {
		if r := s.Run(t, nil, testserver.Binary(t), "umount", mp, "--data", s.Dir); r.Code != 0 {
			t.Logf("tarn umount %s: %s", mp, r.Stderr)
			syscall.Unmount(mp, syscall.MNT_DETACH)
		}
	})

	served := curl(t, w.url)
	onHost, err := os.ReadFile(filepath.Join(mp, "message", "content"))
	if err != nil {
		t.Fatalf("read the wall on the host mount: %v", err)
	}
	if string(onHost) != served.body {
		t.Errorf("host mount: %d bytes ending %q; the function serves %d bytes ending %q",
			len(onHost), tail(string(onHost)), len(served.body), tail(served.body))
	}
	if err := checkWall(string(onHost), true); err != nil {
		t.Errorf("host mount: %v", err)
	}

	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{"message", os.ModeDir | 0o750},
		{"message/content", 0},
	} {
		fi, err := os.Stat(filepath.Join(mp, c.path))
		if err != nil {
			t.Errorf("stat %s: %v", c.path, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 1001 || st.Gid != 1001 {
			t.Errorf("%s is owned by %d:%d, want 1001:1001 (the access point's user)", c.path, st.Uid, st.Gid)
		}
		if c.mode != 0 && fi.Mode() != c.mode {
			t.Errorf("%s has mode %v, want %v", c.path, fi.Mode(), c.mode)
		}
	}
}
