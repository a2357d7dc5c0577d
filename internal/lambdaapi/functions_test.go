package lambdaapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"tarn.dev/tarn/internal/lambdaapi"
)

func TestFunctionLifecycle(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	zipFile := zipOf(t, appZip)
	out := w.create("hello", func(in *lambda.CreateFunctionInput) {
		in.Code.ZipFile = zipFile
		in.Environment = &types.Environment{Variables: map[string]string{"GREETING": "hi"}}
		in.Tags = map[string]string{"team": "a"}
		in.VpcConfig = &types.VpcConfig{SubnetIds: []string{"subnet-0abc"}, SecurityGroupIds: []string{"sg-0abc"}}
	})
	sum := sha256.Sum256(zipFile)
	if want := base64.StdEncoding.EncodeToString(sum[:]); aws.ToString(out.CodeSha256) != want {
		t.Errorf("CodeSha256 = %s, want %s", aws.ToString(out.CodeSha256), want)
	}
	if out.State != types.StateActive || aws.ToInt32(out.Timeout) != 3 || aws.ToInt32(out.MemorySize) != 128 ||
		aws.ToString(out.Version) != "$LATEST" || aws.ToString(out.FunctionArn) != "arn:aws:lambda:us-east-1:"+account+":function:hello" ||
		out.EphemeralStorage == nil || aws.ToInt32(out.EphemeralStorage.Size) != 512 || aws.ToString(out.VpcConfig.VpcId) == "" {
		t.Errorf("CreateFunction defaults wrong: %+v", out)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "code", "hello")); err != nil {
		t.Errorf("code not unpacked: %v", err)
	}
	_, err := w.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("hello"), Runtime: types.RuntimePython312,
		Handler: aws.String("app.handler"), Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zipFile}})
	if code(err) != "ResourceConflictException" || message(err) != "Function already exist: hello" {
		t.Errorf("CreateFunction(existing) = %v", err)
	}

	got, err := w.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("hello")})
	if err != nil || got.Tags["team"] != "a" || got.Configuration.Environment.Variables["GREETING"] != "hi" || got.Concurrency != nil {
		t.Fatalf("GetFunction = %+v, %v", got, err)
	}
	// Full and partial ARNs name the same function.
	for _, n := range []string{"arn:aws:lambda:us-east-1:" + account + ":function:hello", account + ":function:hello"} {
		if _, err := w.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(n)}); err != nil {
			t.Errorf("GetFunctionConfiguration(%s): %v", n, err)
		}
	}

	up, err := w.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("hello"),
		Timeout: aws.Int32(30), Environment: &types.Environment{Variables: map[string]string{"OTHER": "1"}}})
	if err != nil || up.LastUpdateStatus != types.LastUpdateStatusInProgress || aws.ToString(up.RevisionId) == aws.ToString(out.RevisionId) {
		t.Fatalf("UpdateFunctionConfiguration = %+v, %v", up, err)
	}
	c := w.waitSettled("hello")
	if aws.ToInt32(c.Timeout) != 30 || len(c.Environment.Variables) != 1 || c.Environment.Variables["OTHER"] != "1" {
		t.Errorf("after update: timeout %d env %v (Variables replace the whole map)", aws.ToInt32(c.Timeout), c.Environment.Variables)
	}
	_, err = w.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("hello"),
		Timeout: aws.Int32(10), RevisionId: aws.String("stale")})
	if code(err) != "PreconditionFailedException" {
		t.Errorf("update with stale RevisionId = %v, want PreconditionFailedException", err)
	}

	newZip := zipOf(t, map[string]string{"app.py": "def handler(e, c):\n    return 2\n"})
	uc, err := w.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("hello"), ZipFile: newZip})
	if err != nil || aws.ToString(uc.CodeSha256) == aws.ToString(out.CodeSha256) {
		t.Fatalf("UpdateFunctionCode = %+v, %v", uc, err)
	}
	w.waitSettled("hello")
	if _, drains, _ := w.runner.snapshot(); len(drains) != 2 || drains[0] != "hello:$LATEST" {
		t.Errorf("drains after two updates = %v", drains)
	}
	entries, _ := os.ReadDir(filepath.Join(w.dir, "code", "hello"))
	if len(entries) != 1 {
		t.Errorf("code directories after replacing the code: %d, want 1 (the old one collected)", len(entries))
	}

	w.create("other")
	list, err := w.client.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(1)})
	if err != nil || len(list.Functions) != 1 || list.NextMarker == nil || list.Functions[0].State != "" {
		t.Fatalf("ListFunctions page 1 = %+v, %v", list, err)
	}
	list2, err := w.client.ListFunctions(ctx, &lambda.ListFunctionsInput{Marker: list.NextMarker})
	if err != nil || len(list2.Functions) != 1 || aws.ToString(list2.Functions[0].FunctionName) != "other" || list2.NextMarker != nil {
		t.Fatalf("ListFunctions page 2 = %+v, %v", list2, err)
	}

	if _, err := w.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("hello")}); err != nil {
		t.Fatal(err)
	}
	_, err = w.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("hello")})
	if code(err) != "ResourceNotFoundException" || message(err) != "Function not found: arn:aws:lambda:us-east-1:"+account+":function:hello" {
		t.Errorf("GetFunction after delete = %v", err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "code", "hello")); !os.IsNotExist(err) {
		t.Errorf("code of deleted function still there: %v", err)
	}
	if _, err := w.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("hello")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("DeleteFunction twice = %v", err)
	}
}

func TestCreateFunctionRejectsBadInput(t *testing.T) {
	w := newWorld(t, func(c *lambdaapi.Config) { c.MaxZipBytes = 4096; c.MaxUnzippedBytes = 1 << 20 })
	big := map[string]string{"big.bin": strings.Repeat("a", 2<<20)}
	random := make([]byte, 8192)
	for i := range random {
		random[i] = byte(i*7919 + i/13)
	}
	cases := []struct {
		name     string
		mutate   func(*lambda.CreateFunctionInput)
		code     string
		contains string
	}{
		{"name with a dot", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("a.b") }, "InvalidParameterValueException", ""},
		{"name too long", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String(strings.Repeat("a", 65)) }, "ValidationException", "at 'functionName'"},
		{"name with spaces", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("a b") }, "ValidationException", "regular expression pattern"},
		{"bad role", func(in *lambda.CreateFunctionInput) { in.Role = aws.String("role") }, "ValidationException", "at 'role'"},
		{"timeout", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(300000) }, "ValidationException",
			"1 validation error detected: Value '300000' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{"memory", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) }, "ValidationException", "at 'memorySize'"},
		{"ephemeral", func(in *lambda.CreateFunctionInput) {
			in.EphemeralStorage = &types.EphemeralStorage{Size: aws.Int32(100)}
		}, "ValidationException", "at 'ephemeralStorage.size'"},
		{"unknown runtime", func(in *lambda.CreateFunctionInput) { in.Runtime = "cobol9" }, "InvalidParameterValueException",
			"Value cobol9 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [provided.al2, provided.al2023, python3.10"},
		{"deprecated runtime", func(in *lambda.CreateFunctionInput) { in.Runtime = "python2.7" }, "InvalidParameterValueException", "is no longer supported"},
		{"missing handler", func(in *lambda.CreateFunctionInput) { in.Handler = nil }, "InvalidParameterValueException",
			"Runtime and Handler are mandatory parameters for functions created with deployment packages."},
		{"missing code", func(in *lambda.CreateFunctionInput) { in.Code = &types.FunctionCode{} }, "InvalidParameterValueException", "Please provide a source for function code."},
		{"mount path", func(in *lambda.CreateFunctionInput) {
			in.FileSystemConfigs = []types.FileSystemConfig{{Arn: aws.String("arn:aws:elasticfilesystem:us-east-1:" + account + ":access-point/fsap-0123456789abcdef0"), LocalMountPath: aws.String("/flock/q3-00")}}
		}, "ValidationException", "Value '/flock/q3-00' at 'fileSystemConfigs.1.member.localMountPath' failed to satisfy constraint: Member must satisfy regular expression pattern: ^/mnt/[a-zA-Z0-9-_.]+$"},
		{"nested mount path", func(in *lambda.CreateFunctionInput) {
			in.FileSystemConfigs = []types.FileSystemConfig{{Arn: aws.String("arn:aws:elasticfilesystem:us-east-1:" + account + ":access-point/fsap-0123456789abcdef0"), LocalMountPath: aws.String("/mnt/a/b")}}
		}, "ValidationException", "localMountPath"},
		{"file system ARN", func(in *lambda.CreateFunctionInput) {
			in.FileSystemConfigs = []types.FileSystemConfig{{Arn: aws.String("arn:aws:elasticfilesystem:us-east-1:" + account + ":file-system/fs-0123456789abcdef0"), LocalMountPath: aws.String("/mnt/efs")}}
		}, "ValidationException", "fileSystemConfigs.1.member.arn"},
		{"missing access point", func(in *lambda.CreateFunctionInput) {
			in.FileSystemConfigs = []types.FileSystemConfig{{Arn: aws.String("arn:aws:elasticfilesystem:us-east-1:" + account + ":access-point/fsap-0123456789abcdef0"), LocalMountPath: aws.String("/mnt/efs")}}
		}, "InvalidParameterValueException", "not found"},
		{"reserved env", func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"AWS_REGION": "x"}}
		}, "InvalidParameterValueException", "Reserved keys used in this request: AWS_REGION"},
		{"env too large", func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"BIG": strings.Repeat("v", 5000)}}
		}, "InvalidParameterValueException", "exceeded the 4KB limit"},
		{"env key", func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"1X": "v"}}
		}, "ValidationException", "environment.variables"},
		{"corrupt zip", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = []byte("PK\x03\x04 not really") }, "InvalidParameterValueException",
			"Could not unzip uploaded file. Please check your file, then try to upload again."},
		{"traversal", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = zipOf(t, map[string]string{"../evil.py": "x"}) }, "InvalidParameterValueException", "Could not unzip uploaded file"},
		{"zip too large", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = zipOfStored(t, "r.bin", random) }, "RequestEntityTooLargeException", "CreateFunction"},
		{"unzipped too large", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = zipOf(t, big) }, "InvalidParameterValueException", "Unzipped size must be smaller than 1048576 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := &lambda.CreateFunctionInput{FunctionName: aws.String("f"), Runtime: types.RuntimePython312,
				Handler: aws.String("app.handler"), Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zipOf(t, appZip)}}
			c.mutate(in)
			_, err := w.client.CreateFunction(context.Background(), in)
			if code(err) != c.code || !strings.Contains(message(err), c.contains) {
				t.Fatalf("CreateFunction = %v (%s), want %s containing %q", err, message(err), c.code, c.contains)
			}
			if _, err := w.client.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("f")}); code(err) != "ResourceNotFoundException" {
				t.Errorf("a refused create left a function behind: %v", err)
			}
		})
	}
	if entries, _ := os.ReadDir(filepath.Join(w.dir, "code", "f")); len(entries) != 0 {
		t.Errorf("refused packages left code behind: %v", entries)
	}
}

func TestUpdatesWaitForTheUpdateInProgress(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, func(c *lambdaapi.Config) { long := time.Hour; c.SettleDelay = &long })
	w.create("f")
	if _, err := w.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("f"),
		MemorySize: aws.Int32(256)}); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"UpdateFunctionConfiguration": func() error {
			_, err := w.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("f"), Timeout: aws.Int32(5)})
			return err
		},
		"UpdateFunctionCode": func() error {
			_, err := w.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("f"), ZipFile: zipOf(t, appZip)})
			return err
		},
		"PublishVersion": func() error {
			_, err := w.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("f")})
			return err
		},
	} {
		err := call()
		want := "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:" + account + ":function:f"
		if code(err) != "ResourceConflictException" || message(err) != want {
			t.Errorf("%s during an update = %v", name, err)
		}
	}
	c, _ := w.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("f")})
	if aws.ToInt32(c.MemorySize) != 256 || aws.ToInt32(c.Timeout) != 3 {
		t.Errorf("refused updates changed the function: memory %d timeout %d", aws.ToInt32(c.MemorySize), aws.ToInt32(c.Timeout))
	}
	// A restart settles what the previous process left in progress.
	short := time.Millisecond
	w.mutate = func(c *lambdaapi.Config) { c.SettleDelay = &short }
	w.restart()
	w.waitSettled("f")
}
