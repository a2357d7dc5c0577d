package iamapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI drives a few IAM calls with the AWS CLI, which decodes the
// URL-encoded policy documents of responses and parses error documents
// itself.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: starts the AWS CLI")
	}
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI (aws) is not installed; install it to run this test")
	}
	w := newWorld(t)
	home := t.TempDir()
	run := func(args ...string) (map[string]any, string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsBin, append([]string{"--endpoint-url", w.url, "--region", "us-east-1", "--output", "json", "iam"}, args...)...)
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_ACCESS_KEY_ID=" + rootKey, "AWS_SECRET_ACCESS_KEY=rootsecret",
			"AWS_CONFIG_FILE=" + home + "/none", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/none", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER="}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var out map[string]any
		if err == nil && stdout.Len() > 0 {
			if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
				t.Fatalf("aws iam %s: output %q: %v", args[0], stdout.String(), jerr)
			}
		}
		return out, stderr.String(), err
	}

	out, stderr, err := run("create-role", "--role-name", "fn-role", "--assume-role-policy-document", trustDoc)
	if err != nil {
		t.Fatalf("create-role: %v: %s", err, stderr)
	}
	role := out["Role"].(map[string]any)
	// The CLI decodes the document into JSON.
	trust, _ := json.Marshal(role["AssumeRolePolicyDocument"])
	if role["Arn"] != "arn:aws:iam::123456789012:role/fn-role" || !strings.Contains(string(trust), `"Service":"lambda.amazonaws.com"`) {
		t.Errorf("create-role output: %v", out)
	}
	if _, stderr, err := run("attach-role-policy", "--role-name", "fn-role", "--policy-arn", rwARN); err != nil {
		t.Fatalf("attach-role-policy: %v: %s", err, stderr)
	}
	out, stderr, err = run("list-attached-role-policies", "--role-name", "fn-role")
	if err != nil {
		t.Fatalf("list-attached-role-policies: %v: %s", err, stderr)
	}
	if ps := out["AttachedPolicies"].([]any); len(ps) != 1 || ps[0].(map[string]any)["PolicyArn"] != rwARN {
		t.Errorf("list-attached-role-policies output: %v", out)
	}
	_, stderr, err = run("put-role-policy", "--role-name", "fn-role", "--policy-name", "p", "--policy-document",
		"{\"Statement\": {\"Effect\": \"Allow\", \"Action\": 5, \"Resource\": \"*\"}}")
	if err == nil || !strings.Contains(stderr, "MalformedPolicyDocument") || !strings.Contains(stderr, "line 1, column 45") {
		t.Errorf("put-role-policy with a bad Action: %v: %s", err, stderr)
	}
}
