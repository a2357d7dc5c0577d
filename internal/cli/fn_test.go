package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeFunctions answers the Lambda calls of `tarn fn` and `tarn logs` for
// one function, fn, and records the body of each call by "METHOD path".
type fakeFunctions struct {
	mu    sync.Mutex
	calls map[string]map[string]any
	order []string
}

const fakeFnARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"

func (f *fakeFunctions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]map[string]any{}
	}
	f.calls[key] = body
	f.order = append(f.order, key)
	f.mu.Unlock()
	const fn = "/2015-03-31/functions/fn"
	switch key {
	case "POST /2015-03-31/functions", "PUT " + fn + "/configuration", "PUT " + fn + "/code", "GET " + fn + "/configuration":
		json.NewEncoder(w).Encode(map[string]any{"FunctionName": "fn", "FunctionArn": fakeFnARN, "State": "Active", "LastUpdateStatus": "Successful"})
	case "POST " + fn + "/versions":
		json.NewEncoder(w).Encode(map[string]any{"FunctionName": "fn", "FunctionArn": fakeFnARN + ":1", "Version": "1"})
	case "GET " + fn:
		json.NewEncoder(w).Encode(map[string]any{"Configuration": map[string]any{"FunctionName": "fn", "MemorySize": 128}})
	case "GET " + fn + "/tarn-logs":
		if r.URL.Query().Get("tail") != "5" {
			http.Error(w, "want tail=5", 400)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Events": []map[string]any{
			{"Time": 1000, "Stream": "s1", "Message": "START RequestId: 1\n"}, {"Time": 2000, "Stream": "s1", "Message": "hello"}}})
	default:
		w.Header().Set("x-amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(404)
		w.Write([]byte(`{"Type":"User","Message":"Function not found: ` + r.URL.Path + `"}`))
	}
}

func (f *fakeFunctions) body(key string) (map[string]any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.calls[key]
	return b, ok
}

func (f *fakeFunctions) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.order = nil, nil
}

func TestFnCommandsSendTheirFlags(t *testing.T) {
	ctx := context.Background()
	fake := &fakeFunctions{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Run(ctx, append(args, "--endpoint", srv.URL, "--region", "us-east-1"), &out, &errb)
		return out.String(), errb.String(), code
	}
	code := t.TempDir()
	if err := os.WriteFile(filepath.Join(code, "app.py"), []byte("def h(e, c): return 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const ap = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0"
	asJSON := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	out, errs, rc := run("fn", "create", "fn", "--code", code, "--role", "arn:aws:iam::123456789012:role/r", "--runtime", "python3.12",
		"--handler", "app.h", "--memory", "256", "--timeout", "9", "--description", "wall", "--tmp", "1024", "--env", "A=1", "--env", "B=x=y", "--fs", ap+":/mnt/msg")
	if rc != 0 || strings.TrimSpace(out) != fakeFnARN {
		t.Fatalf("tarn fn create: exit %d, stdout %q, stderr %s", rc, out, errs)
	}
	in, _ := fake.body("POST /2015-03-31/functions")
	for field, want := range map[string]string{
		"FunctionName":      `"fn"`,
		"Runtime":           `"python3.12"`,
		"Handler":           `"app.h"`,
		"Role":              `"arn:aws:iam::123456789012:role/r"`,
		"MemorySize":        `256`,
		"Timeout":           `9`,
		"Description":       `"wall"`,
		"Environment":       `{"Variables":{"A":"1","B":"x=y"}}`,
		"FileSystemConfigs": `[{"Arn":"` + ap + `","LocalMountPath":"/mnt/msg"}]`,
		"EphemeralStorage":  `{"Size":1024}`,
	} {
		if got := asJSON(in[field]); got != want {
			t.Errorf("CreateFunction %s = %s, want %s", field, got, want)
		}
	}
	if zip, _ := in["Code"].(map[string]any)["ZipFile"].(string); zip == "" {
		t.Errorf("CreateFunction Code = %v, want a zip", in["Code"])
	}
	if _, waited := fake.body("GET /2015-03-31/functions/fn/configuration"); !waited {
		t.Errorf("tarn fn create did not wait for the function to settle")
	}

	fake.reset()
	out, errs, rc = run("fn", "update", "fn", "--timeout", "30", "--clear-env", "--fs", "none", "--description", "d")
	if rc != 0 || strings.TrimSpace(out) != fakeFnARN {
		t.Fatalf("tarn fn update: exit %d, stdout %q, stderr %s", rc, out, errs)
	}
	in, _ = fake.body("PUT /2015-03-31/functions/fn/configuration")
	for field, want := range map[string]string{
		"Timeout":           `30`,
		"Description":       `"d"`,
		"Environment":       `{"Variables":{}}`,
		"FileSystemConfigs": `[]`,
		"Role":              `null`,
		"MemorySize":        `null`,
		"EphemeralStorage":  `null`,
	} {
		if got := asJSON(in[field]); got != want {
			t.Errorf("UpdateFunctionConfiguration %s = %s, want %s", field, got, want)
		}
	}
	if _, sent := fake.body("PUT /2015-03-31/functions/fn/code"); sent {
		t.Errorf("tarn fn update without --code updated the code")
	}

	fake.reset()
	if out, errs, rc = run("fn", "update", "fn", "--code", code, "--no-wait"); rc != 0 || strings.TrimSpace(out) != fakeFnARN {
		t.Fatalf("tarn fn update --code: exit %d, stdout %q, stderr %s", rc, out, errs)
	}
	if calls := strings.Join(fake.order, ","); calls != "PUT /2015-03-31/functions/fn/code" {
		t.Errorf("tarn fn update --code --no-wait called %s, want only UpdateFunctionCode", calls)
	}

	if out, errs, rc = run("fn", "publish", "fn", "--description", "v1"); rc != 0 || strings.TrimSpace(out) != fakeFnARN+":1" {
		t.Errorf("tarn fn publish: exit %d, stdout %q, stderr %s", rc, out, errs)
	}
	if out, errs, rc = run("fn", "show", "fn"); rc != 0 || !strings.Contains(out, `"MemorySize": 128`) {
		t.Errorf("tarn fn show: exit %d, stdout %q, stderr %s", rc, out, errs)
	}
	if out, errs, rc = run("logs", "fn", "--tail", "5"); rc != 0 || out != "START RequestId: 1\nhello\n" {
		t.Errorf("tarn logs: exit %d, stdout %q, stderr %s", rc, out, errs)
	}
	if out, errs, rc = run("logs", "fn", "--tail", "5", "--streams"); rc != 0 ||
		out != "1970-01-01T00:00:01Z s1 START RequestId: 1\n1970-01-01T00:00:02Z s1 hello\n" {
		t.Errorf("tarn logs --streams: exit %d, stdout %q, stderr %s", rc, out, errs)
	}
	if _, errs, rc = run("logs", "nope"); rc != 1 || !strings.Contains(errs, "ResourceNotFoundException: Function not found") {
		t.Errorf("tarn logs of an unknown function: exit %d, stderr %q", rc, errs)
	}
}

func TestFnUsageErrors(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	// No server answers here: each mistake must be caught before a request.
	const endpoint = "http://127.0.0.1:1"
	code := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"fn", "create"}, "expected one function name, got 0 arguments"},
		{[]string{"fn", "create", "a", "b"}, "expected one function name, got 2 arguments"},
		{[]string{"fn", "create", "fn", "--role", "r"}, "give --code and --role"},
		{[]string{"fn", "create", "fn", "--role", "r", "--code", code, "--env", "novalue"}, `--env "novalue" is not K=V`},
		{[]string{"fn", "create", "fn", "--role", "r", "--code", code, "--fs", "/mnt/x"}, `--fs "/mnt/x" is not ACCESS_POINT_ARN:/mnt/PATH`},
		{[]string{"fn", "update"}, "expected one function name, got 0 arguments"},
		{[]string{"fn", "update", "fn", "--env", "=v"}, `--env "=v" is not K=V`},
		{[]string{"fn", "update", "fn"}, "nothing to update"},
		{[]string{"fn", "invoke"}, "expected one function name, got 0 arguments"},
		{[]string{"fn", "show", "a", "b"}, "expected one function name, got 2 arguments"},
		{[]string{"fn", "publish"}, "expected one function name, got 0 arguments"},
		{[]string{"fn", "rm"}, "name the functions to delete"},
		{[]string{"fn", "concurrency", "fn", "many"}, `concurrency "many" is not a number of 0 or more`},
		{[]string{"logs"}, "expected one function name, got 0 arguments"},
		{[]string{"logs", "fn", "--bogus"}, "flag provided but not defined: -bogus"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		rc := Run(context.Background(), append(c.args, "--endpoint", endpoint, "--region", "us-east-1"), &out, &errb)
		if rc != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("tarn %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(c.args, " "), rc, errb.String(), c.want)
		}
	}
}
