package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"

	"tarn.dev/tarn/internal/testserver"
)

// tarnOK runs a tarn command that must succeed and returns its stdout.
func tarnOK(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := tarn(t, stdin, nil, args...)
	if r.Code != 0 {
		t.Fatalf("tarn %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

func decodeJSON(t *testing.T, what, text string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("%s: output is not JSON: %v\n%s", what, err, text)
	}
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestTarnPorcelain sets up the launch blog's message wall file system with
// the tarn commands, finding the server through --data alone.
func TestTarnPorcelain(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	s := startServer(t, dir)
	d := []string{"--data", dir}
	run := func(stdin string, args ...string) string {
		t.Helper()
		return tarnOK(t, stdin, append(args, d...)...)
	}

	id := strings.TrimSpace(run("", "fs", "create", "--name", "demo"))
	if !fsIDPattern.MatchString(id) {
		t.Fatalf("tarn fs create printed %q, want a file system id", id)
	}
	table := run("", "fs", "ls")
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[1], id) || !strings.Contains(lines[1], "demo") || !strings.Contains(lines[1], "available") {
		t.Errorf("tarn fs ls:\n%s\nwant a header and one row with %s, demo, available", table, id)
	}
	var list []struct {
		FileSystemID   string `json:"FileSystemId"`
		Name           string
		LifeCycleState string
		SizeInBytes    int64
		OwnerID        string `json:"OwnerId"`
	}
	decodeJSON(t, "tarn fs ls --json", run("", "fs", "ls", "--json"), &list)
	if len(list) != 1 || list[0].FileSystemID != id || list[0].Name != "demo" || list[0].LifeCycleState != "available" ||
		list[0].SizeInBytes != 6144 || list[0].OwnerID != s.AccountID {
		t.Errorf("tarn fs ls --json = %+v", list)
	}
	var shown struct {
		FileSystemID  string `json:"FileSystemId"`
		FileSystemArn string
		Tags          map[string]string
	}
	decodeJSON(t, "tarn fs show --json", run("", "fs", "show", "demo", "--json"), &shown)
	if shown.FileSystemID != id || shown.FileSystemArn != s.fsArn(id) || shown.Tags["Name"] != "demo" {
		t.Errorf("tarn fs show demo --json = %+v", shown)
	}
	if out := run("", "fs", "show", id); !strings.Contains(out, "demo") || !strings.Contains(out, s.fsArn(id)) {
		t.Errorf("tarn fs show %s:\n%s", id, out)
	}

	// The access point of the message wall, file system given by name.
	apID := strings.TrimSpace(run("", "ap", "create", "demo", "--uid", "1001", "--gid", "1001", "--path", "/message",
		"--owner", "1001:1001", "--mode", "750"))
	if !fsapIDPattern.MatchString(apID) {
		t.Fatalf("tarn ap create printed %q, want an access point id", apID)
	}
	var aps []wireAccessPoint
	decodeJSON(t, "tarn ap ls --json", run("", "ap", "ls", "demo", "--json"), &aps)
	if len(aps) != 1 || aps[0].AccessPointID != apID || aps[0].FileSystemID != id || aps[0].PosixUser == nil ||
		aps[0].PosixUser.UID != 1001 || aps[0].PosixUser.GID != 1001 || aps[0].RootDirectory == nil ||
		aps[0].RootDirectory.Path != "/message" || aps[0].RootDirectory.CreationInfo == nil ||
		aps[0].RootDirectory.CreationInfo.Permissions != "750" || aps[0].RootDirectory.CreationInfo.OwnerUID != 1001 {
		t.Errorf("tarn ap ls demo --json = %+v", aps)
	}
	if out := run("", "ap", "ls"); !strings.Contains(out, apID) || !strings.Contains(out, "1001:1001") ||
		!strings.Contains(out, "/message (creates 1001:1001 750)") {
		t.Errorf("tarn ap ls:\n%s", out)
	}

	mtID := strings.TrimSpace(run("", "mt", "create", "demo"))
	if !fsmtIDPattern.MatchString(mtID) {
		t.Fatalf("tarn mt create printed %q, want a mount target id", mtID)
	}
	if out := run("", "mt", "ls", "demo"); !strings.Contains(out, mtID) || !strings.Contains(out, "available") {
		t.Errorf("tarn mt ls demo:\n%s", out)
	}

	// Policy from standard input, shown, deleted.
	run(readOnlyPolicy, "fs", "policy", "demo", "--set", "-")
	if out := run("", "fs", "policy", "demo"); !sameJSON(out, readOnlyPolicy) {
		t.Errorf("tarn fs policy demo = %s, want %s", out, readOnlyPolicy)
	}
	run("", "fs", "policy", "demo", "--delete")
	if r := tarn(t, "", nil, append([]string{"fs", "policy", "demo"}, d...)...); r.Code != 0 || r.Stdout != "" ||
		!strings.Contains(r.Stderr, "no policy") {
		t.Errorf("tarn fs policy after --delete: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}

	if out := run("", "fs", "update", "demo", "--throughput-mode", "provisioned", "--provisioned-mibps", "12"); !strings.Contains(out, "provisioned, 12 MiB/s") {
		t.Errorf("tarn fs update:\n%s", out)
	}

	// In use: a plain rm fails with the API's error, --force removes the dependents.
	if r := tarn(t, "", nil, append([]string{"fs", "rm", "demo"}, d...)...); r.Code != 1 || !strings.Contains(r.Stderr, "FileSystemInUse") {
		t.Errorf("tarn fs rm of a file system in use: exit %d, stderr %q; want 1 and FileSystemInUse", r.Code, r.Stderr)
	}
	if out := run("", "fs", "rm", "demo", "--force"); strings.TrimSpace(out) != "deleted "+id {
		t.Errorf("tarn fs rm --force printed %q", out)
	}
	if out := strings.TrimSpace(run("", "fs", "ls", "--json")); out != "[]" {
		t.Errorf("tarn fs ls --json after rm = %s, want []", out)
	}
	if r := tarn(t, "", nil, append([]string{"ap", "rm", apID}, d...)...); r.Code != 1 || !strings.Contains(r.Stderr, "AccessPointNotFound") {
		t.Errorf("tarn ap rm of a deleted access point: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// TestTarnUsageErrors checks that command-line mistakes exit 2 with a
// message, before any request is made.
func TestTarnUsageErrors(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t) // no server: a usage error must not need one
	cases := []struct {
		name string
		args []string // --data DIR is appended
		want string
	}{
		{"unknown command", []string{"bogus"}, `unknown command "bogus"`},
		{"unknown subcommand", []string{"fs", "bogus"}, `unknown command "bogus"`},
		{"unknown flag", []string{"fs", "create", "--bogus"}, "flag provided but not defined: -bogus"},
		{"fs create with an argument", []string{"fs", "create", "demo"}, "takes no arguments"},
		{"fs show without a file system", []string{"fs", "show"}, "expected one file system"},
		{"fs rm without a file system", []string{"fs", "rm"}, "needs at least one file system"},
		{"ap create with uid but no gid", []string{"ap", "create", "demo", "--uid", "1001"}, "give both --uid and --gid"},
		{"ap create with a bad uid", []string{"ap", "create", "demo", "--uid", "x", "--gid", "1"}, `--uid "x" is not a number`},
		{"ap create with owner but no mode", []string{"ap", "create", "demo", "--owner", "1:1"}, "give both --owner and --mode"},
		{"ap create with a bad owner", []string{"ap", "create", "demo", "--owner", "1001", "--mode", "750"}, `--owner "1001" is not UID:GID`},
		{"mt rm without an id", []string{"mt", "rm"}, "needs at least one mount target id"},
		{"server with an argument", []string{"server", "extra"}, "takes no arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tarn(t, "", nil, append(tc.args, "--data", dir)...)
			if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("tarn %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), r.Code, r.Stderr, tc.want)
			}
		})
	}
	if r := tarn(t, "", nil, "fs"); r.Code != 2 || !strings.Contains(r.Stderr, "fs needs a subcommand") ||
		!strings.Contains(r.Stdout, "tarn fs create") {
		t.Errorf("tarn fs: exit %d, stdout %q, stderr %q; want exit 2, the fs help and a message", r.Code, r.Stdout, r.Stderr)
	}
	// Not usage errors: no server to talk to is exit 1 with a hint.
	r := tarn(t, "", nil, "fs", "ls", "--data", dir)
	if r.Code != 1 || !strings.Contains(r.Stderr, "no running tarn server") {
		t.Errorf("tarn fs ls without a server: exit %d, stderr %q", r.Code, r.Stderr)
	}
	r = tarn(t, "", nil, "env", "--data", dir)
	if r.Code != 1 || !strings.Contains(r.Stderr, "tarn server --data "+dir) {
		t.Errorf("tarn env without a server: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// TestTarnEnvFeedsTheAWSCLI is the banner's promise: eval "$(tarn env)" in
// bash, then the AWS CLI works against the server.
func TestTarnEnvFeedsTheAWSCLI(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	s := startServer(t, dir)

	lines := strings.Split(strings.TrimSpace(tarnOK(t, "", "env", "--data", dir)), "\n")
	want := []string{
		"export AWS_ACCESS_KEY_ID=" + shellQuote(s.AccessKeyID),
		"export AWS_SECRET_ACCESS_KEY=" + shellQuote(s.SecretAccessKey),
		"export AWS_DEFAULT_REGION=" + shellQuote(s.Region),
		"export AWS_REGION=" + shellQuote(s.Region),
		"export TARN_ENDPOINT=" + shellQuote(s.Endpoint),
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("tarn env printed\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	requireAWSCLI(t)
	f, err := s.sdk().CreateFileSystem(context.Background(), &efs.CreateFileSystemInput{CreationToken: aws.String("env"),
		Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("from-env")}}})
	if err != nil {
		t.Fatalf("CreateFileSystem: %v", err)
	}
	script := fmt.Sprintf(`set -e; eval "$(%s env --data %s)"; `+
		`exec /usr/bin/aws --endpoint-url "$TARN_ENDPOINT" --output json efs describe-file-systems`,
		shellQuote(testserver.Binary(t)), shellQuote(dir))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/bash", "-c", script)
	cmd.Env = append(baseEnv(t.TempDir()), "AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bash -c %q: %v\n%s", script, err, stderr.String())
	}
	var out wireFileSystems
	decodeJSON(t, "aws efs describe-file-systems", stdout.String(), &out)
	if len(out.FileSystems) != 1 || out.FileSystems[0].FileSystemID != *f.FileSystemId || out.FileSystems[0].Name != "from-env" {
		t.Errorf("describe-file-systems after eval \"$(tarn env)\" = %+v", out.FileSystems)
	}
}
