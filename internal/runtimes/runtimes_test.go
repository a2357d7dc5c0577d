package runtimes

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCommand(t *testing.T) {
	tests := []struct {
		id       string
		wantArg0 string
		wantErr  error
	}{
		{"python3.8", PythonInterpreter, nil},
		{"python3.13", PythonInterpreter, nil},
		{"provided.al2", "/var/task/bootstrap", nil},
		{"provided.al2023", "/var/task/bootstrap", nil},
		{"nodejs20.x", "", ErrUnknownRuntime},
		{"python2.7", "", ErrUnknownRuntime},
		{"", "", ErrUnknownRuntime},
	}
	for _, tt := range tests {
		argv, err := Command(tt.id, "/var/task")
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Command(%q) error = %v, want %v", tt.id, err, tt.wantErr)
			continue
		}
		if tt.wantErr == nil && argv[0] != tt.wantArg0 {
			t.Errorf("Command(%q) = %q, want argv[0] %q", tt.id, argv, tt.wantArg0)
		}
	}
	argv, _ := Command("python3.12", "/var/task")
	if argv[len(argv)-1] != PythonBootstrap || !strings.Contains(PythonBootstrap, "def main()") {
		t.Error("python command does not carry the embedded bootstrap")
	}
}

func TestIDsAreSortedAndLookupable(t *testing.T) {
	ids := IDs()
	if !slices.IsSorted(ids) || len(ids) != 8 {
		t.Fatalf("IDs() = %v", ids)
	}
	for _, id := range ids {
		if _, err := Lookup(id); err != nil {
			t.Errorf("Lookup(%q) = %v", id, err)
		}
	}
}

func TestEnvironment(t *testing.T) {
	env := Environment(FunctionInfo{
		Name: "fn", Runtime: "python3.12", Handler: "app.handler", RuntimeAPI: "127.0.0.1:9001",
		MemoryMB: 256, LogStreamName: "2020/01/31/[$LATEST]3893aaaa7fac4485b47bb75b671a283c",
		AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token",
		UserEnv: map[string]string{"LANG": "C.UTF-8", "AWS_REGION": "eu-west-1", "TZ": "Europe/Paris", "Z_USER": "$HOME", "A_USER": "1"},
	})
	want := []string{
		"AWS_LAMBDA_FUNCTION_NAME=fn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand", "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/fn",
		"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"_HANDLER=app.handler", "LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime", "TZ=:UTC",
		"AWS_LAMBDA_LOG_STREAM_NAME=2020/01/31/[$LATEST]3893aaaa7fac4485b47bb75b671a283c",
		"AWS_EXECUTION_ENV=AWS_Lambda_python3.12",
		"AWS_ACCESS_KEY_ID=AKID", "AWS_ACCESS_KEY=AKID", "AWS_SECRET_ACCESS_KEY=secret", "AWS_SESSION_TOKEN=token",
		"LANG=C.UTF-8", "PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LD_LIBRARY_PATH=/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
		"AWS_XRAY_CONTEXT_MISSING=LOG_ERROR", "A_USER=1", "Z_USER=$HOME",
	}
	if !slices.Equal(env, want) {
		t.Errorf("Environment =\n%q\nwant\n%q", env, want)
	}
}

func TestEnvironmentProvidedHasNoExecutionEnv(t *testing.T) {
	for _, kv := range Environment(FunctionInfo{Name: "fn", Runtime: "provided.al2023"}) {
		if strings.HasPrefix(kv, "AWS_EXECUTION_ENV=") || strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") {
			t.Errorf("provided runtime environment has %s", kv)
		}
	}
}
