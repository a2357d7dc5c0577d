package lambdaapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"tarn.dev/tarn/internal/lambdaapi"
	"tarn.dev/tarn/internal/store"
)

func TestInvoke(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.create("f", func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"KEY": "v1"}}
	})
	invoke := func(in *lambda.InvokeInput) (*lambda.InvokeOutput, error) {
		if in.FunctionName == nil {
			in.FunctionName = aws.String("f")
		}
		return w.client.Invoke(ctx, in)
	}

	out, err := invoke(&lambda.InvokeInput{Payload: []byte(`{"a":1}`), LogType: types.LogTypeTail})
	if err != nil || out.StatusCode != 200 || aws.ToString(out.ExecutedVersion) != "$LATEST" || out.FunctionError != nil {
		t.Fatalf("Invoke = %+v, %v", out, err)
	}
	var got struct {
		Version string
		Payload map[string]int
	}
	if json.Unmarshal(out.Payload, &got); got.Payload["a"] != 1 {
		t.Errorf("payload = %s", out.Payload)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if len(tail) != 4096 || !strings.Contains(string(tail), "END RequestId:") || !strings.HasSuffix(string(tail), "\t\n") {
		t.Errorf("log tail: %d bytes %q…", len(tail), string(tail[max(0, len(tail)-80):]))
	}

	out, err = invoke(&lambda.InvokeInput{Payload: []byte(`{"fail":true}`)})
	if err != nil || out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" || out.LogResult != nil {
		t.Errorf("failing Invoke = %+v, %v", out, err)
	}
	out, err = invoke(&lambda.InvokeInput{InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != 204 {
		t.Errorf("DryRun = %+v, %v", out, err)
	}

	_, err = invoke(&lambda.InvokeInput{Payload: []byte(`{"throttle":true}`)})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonConcurrentInvocationLimitExceeded {
		t.Errorf("throttled Invoke = %v, want TooManyRequestsException with the runner's reason", err)
	}

	errCases := []struct {
		name string
		in   lambda.InvokeInput
		code string
		msg  string
	}{
		{"sync payload too large", lambda.InvokeInput{Payload: []byte(`"` + strings.Repeat("a", 6291456) + `"`)},
			"RequestEntityTooLargeException", "6291458 byte payload is too large for the RequestResponse invocation type (limit 6291456 bytes)"},
		{"async payload too large", lambda.InvokeInput{InvocationType: types.InvocationTypeEvent, Payload: []byte(`"` + strings.Repeat("a", 1048576) + `"`)},
			"RequestEntityTooLargeException", "1048578 byte payload is too large for the Event invocation type (limit 1048576 bytes)"},
		{"not JSON", lambda.InvokeInput{Payload: []byte(`{nope`)}, "InvalidRequestContentException", "Could not parse request body into json"},
		{"missing function", lambda.InvokeInput{FunctionName: aws.String("nope")}, "ResourceNotFoundException",
			"Function not found: arn:aws:lambda:us-east-1:" + account + ":function:nope"},
		{"missing version", lambda.InvokeInput{Qualifier: aws.String("7")}, "ResourceNotFoundException", "function:f:7"},
		{"missing alias", lambda.InvokeInput{Qualifier: aws.String("live")}, "ResourceNotFoundException", "function:f:live"},
		{"conflicting qualifiers", lambda.InvokeInput{FunctionName: aws.String("f:1"), Qualifier: aws.String("2")}, "InvalidParameterValueException", "does not match"},
		{"other account", lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:999999999999:function:f")}, "ResourceNotFoundException", ""},
	}
	for _, c := range errCases {
		if _, err := invoke(&c.in); code(err) != c.code || !strings.Contains(message(err), c.msg) {
			t.Errorf("%s: Invoke = %v, want %s %q", c.name, err, c.code, c.msg)
		}
	}

	// Versions, aliases and $LATEST.
	v1, err := w.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("f")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("f"),
		Environment: &types.Environment{Variables: map[string]string{"KEY": "v2"}}}); err != nil {
		t.Fatal(err)
	}
	w.waitSettled("f")
	if _, err := w.client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("f"), Name: aws.String("live"), FunctionVersion: v1.Version}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ fn, qualifier, version, env string }{
		{"f", "", "$LATEST", "v2"},
		{"f", "$LATEST", "$LATEST", "v2"},
		{"f", "1", "1", "v1"},
		{"f:1", "", "1", "v1"},
		{"f", "live", "1", "v1"},
		{"arn:aws:lambda:us-east-1:" + account + ":function:f:live", "", "1", "v1"},
	} {
		in := &lambda.InvokeInput{FunctionName: aws.String(c.fn)}
		if c.qualifier != "" {
			in.Qualifier = aws.String(c.qualifier)
		}
		out, err := invoke(in)
		if err != nil {
			t.Errorf("Invoke(%s, %q): %v", c.fn, c.qualifier, err)
			continue
		}
		var got struct {
			Version string
			Env     map[string]string
		}
		json.Unmarshal(out.Payload, &got)
		if aws.ToString(out.ExecutedVersion) != c.version || got.Version != c.version || got.Env["KEY"] != c.env {
			t.Errorf("Invoke(%s, %q) ran version %s (%s) with KEY=%s; want %s with %s", c.fn, c.qualifier,
				aws.ToString(out.ExecutedVersion), got.Version, got.Env["KEY"], c.version, c.env)
		}
	}

	// Reserved concurrency 0 throttles every invocation.
	if _, err := w.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("f"),
		ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	_, err = invoke(&lambda.InvokeInput{})
	if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
		t.Errorf("Invoke with reserved concurrency 0 = %v", err)
	}
}

func TestInvokePendingFunctionConflicts(t *testing.T) {
	ctx := context.Background()
	long := time.Hour
	var checked []string
	w := newWorld(t, func(c *lambdaapi.Config) {
		c.SettleDelay = &long
		c.CheckRole = func(ctx context.Context, roleArn string, aps []string) error {
			checked = append(checked, aps...)
			if strings.HasSuffix(roleArn, "/no-mount") {
				return errors.New("no ClientMount")
			}
			if strings.HasSuffix(roleArn, "/missing") {
				return lambdaapi.ErrRoleNotAssumable
			}
			return nil
		}
	})
	apArn := w.fileSystem("available", "available")
	fsc := []types.FileSystemConfig{{Arn: aws.String(apArn), LocalMountPath: aws.String("/mnt/msg")}}
	out := w.create("f", func(in *lambda.CreateFunctionInput) { in.FileSystemConfigs = fsc })
	if out.State != types.StatePending || out.LastUpdateStatus != types.LastUpdateStatusInProgress || string(out.StateReasonCode) != "Creating" {
		t.Errorf("create with a file system: state %s / %s", out.State, out.LastUpdateStatus)
	}
	if len(checked) != 1 || checked[0] != apArn {
		t.Errorf("CheckRole saw access points %v, want [%s]", checked, apArn)
	}
	_, err := w.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f")})
	if code(err) != "ResourceConflictException" || message(err) != "The operation cannot be performed at this time. The function is currently in the following state: Pending" {
		t.Errorf("Invoke while Pending = %v", err)
	}
	for _, c := range []struct{ role, msg string }{
		{"arn:aws:iam::" + account + ":role/no-mount", "The provided execution role does not have permissions to call ClientMount on EFS"},
		{"arn:aws:iam::" + account + ":role/missing", "The role defined for the function cannot be assumed by Lambda."},
	} {
		_, err := w.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("g"), Runtime: types.RuntimePython312,
			Handler: aws.String("app.handler"), Role: aws.String(c.role), Code: &types.FunctionCode{ZipFile: zipOf(t, appZip)}, FileSystemConfigs: fsc})
		if code(err) != "InvalidParameterValueException" || message(err) != c.msg {
			t.Errorf("create with role %s = %v", c.role, err)
		}
	}
	creating := w.fileSystem("creating", "available")
	_, err = w.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("g"), Runtime: types.RuntimePython312,
		Handler: aws.String("app.handler"), Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zipOf(t, appZip)},
		FileSystemConfigs: []types.FileSystemConfig{{Arn: aws.String(creating), LocalMountPath: aws.String("/mnt/msg")}}})
	if code(err) != "InvalidParameterValueException" || !strings.Contains(message(err), "not in the available life cycle state") {
		t.Errorf("create with a file system still creating = %v", err)
	}
	mtPending := w.fileSystem("available", "creating")
	_, err = w.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("g"), Runtime: types.RuntimePython312,
		Handler: aws.String("app.handler"), Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zipOf(t, appZip)},
		FileSystemConfigs: []types.FileSystemConfig{{Arn: aws.String(mtPending), LocalMountPath: aws.String("/mnt/msg")}}})
	if code(err) != "InvalidParameterValueException" || !strings.Contains(message(err), "but not all are in the available life cycle state yet") {
		t.Errorf("create with a mount target still creating = %v", err)
	}
	short := time.Millisecond
	w.mutate = func(c *lambdaapi.Config) { c.SettleDelay = &short }
	w.restart()
	c := w.waitSettled("f")
	if len(c.FileSystemConfigs) != 1 || aws.ToString(c.FileSystemConfigs[0].LocalMountPath) != "/mnt/msg" {
		t.Errorf("FileSystemConfigs = %+v", c.FileSystemConfigs)
	}
	if _, err := w.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f")}); err != nil {
		t.Errorf("Invoke once Active: %v", err)
	}
	w.runner.mu.Lock()
	fv := w.runner.versions[len(w.runner.versions)-1]
	w.runner.mu.Unlock()
	if len(fv.FileSystems) != 1 || fv.FileSystems[0].AccessPointARN != apArn || fv.FileSystems[0].LocalMountPath != "/mnt/msg" {
		t.Errorf("runner got file systems %+v", fv.FileSystems)
	}
}

var fsSeq int

// fileSystem stores a file system in fsState with an access point and a
// mount target in mtState, and returns the access point's ARN.
func (w *world) fileSystem(fsState, mtState string) string {
	w.t.Helper()
	ctx := context.Background()
	fsSeq++
	id := strings.Repeat("0", 16) + string(rune('a'+fsSeq))
	fsID, apID := "fs-"+id, "fsap-"+id
	if err := w.store.CreateFileSystem(ctx, store.FileSystem{ID: fsID, CreationToken: fsID, PerformanceMode: "generalPurpose",
		ThroughputMode: "bursting", State: store.StateAvailable, Created: time.Now()}, nil); err != nil {
		w.t.Fatal(err)
	}
	if err := w.store.CreateAccessPoint(ctx, store.AccessPoint{ID: apID, FileSystemID: fsID, ClientToken: apID, RootPath: "/",
		State: store.StateAvailable, Created: time.Now()}, nil, 100); err != nil {
		w.t.Fatal(err)
	}
	if err := w.store.CreateMountTarget(ctx, store.MountTarget{ID: "fsmt-" + id, FileSystemID: fsID, SubnetID: "subnet-1",
		IPAddress: "127.0.0.1", AvailabilityZoneName: "us-east-1a", NetworkInterfaceID: "eni-1", State: mtState, Created: time.Now()}); err != nil {
		w.t.Fatal(err)
	}
	if fsState != store.StateAvailable {
		w.store.DB().Exec(`UPDATE file_systems SET state = ? WHERE id = ?`, fsState, fsID)
	}
	return "arn:aws:elasticfilesystem:us-east-1:" + account + ":access-point/" + apID
}

func TestEventInvocationsRetryAndSurviveRestart(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.create("f")
	// The first process never finishes its delivery.
	w.runner.run = func(ctx context.Context, fn lambdaapi.FunctionVersion, req lambdaapi.InvokeRequest) (lambdaapi.InvokeResult, error) {
		<-ctx.Done()
		return lambdaapi.InvokeResult{}, ctx.Err()
	}
	out, err := w.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"n":1}`)})
	if err != nil || out.StatusCode != http.StatusAccepted {
		t.Fatalf("Event Invoke = %+v, %v", out, err)
	}
	<-w.runner.called
	w.close()

	// The next one fails it twice, then succeeds.
	done := make(chan struct{})
	w.runner.run = func(ctx context.Context, fn lambdaapi.FunctionVersion, req lambdaapi.InvokeRequest) (lambdaapi.InvokeResult, error) {
		switch req.Attempt {
		case 0:
			return lambdaapi.InvokeResult{Payload: []byte(`{}`), FunctionError: "Unhandled"}, nil
		case 1:
			return lambdaapi.InvokeResult{}, errors.New("environment crashed")
		}
		close(done)
		return lambdaapi.InvokeResult{Payload: []byte(`{}`)}, nil
	}
	w.open()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("event never delivered after the restart")
	}
	calls, _, _ := w.runner.snapshot()
	if len(calls) != 4 {
		t.Fatalf("deliveries = %d, want 4 (one interrupted, one failed, one errored, one good)", len(calls))
	}
	for i, c := range calls {
		if c.RequestID != calls[0].RequestID || !c.Async || string(c.Payload) != `{"n":1}` {
			t.Errorf("delivery %d = %+v, want the same event", i, c)
		}
	}
	for range 1000 {
		if _, ok, _ := w.store.NextEventAt(ctx); !ok {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.close()
	w.open()
	if evs, _ := w.store.ClaimDueEvents(ctx, time.Now().Add(time.Hour), 10); len(evs) != 0 {
		t.Errorf("delivered event still queued: %+v", evs)
	}
}

func TestEventInvocationsGiveUpAfterTwoRetries(t *testing.T) {
	w := newWorld(t)
	w.create("f")
	if _, err := w.client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("f"),
		InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"fail":true}`)}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		<-w.runner.called
	}
	for range 1000 {
		if _, ok, _ := w.store.NextEventAt(context.Background()); !ok {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, ok, _ := w.store.NextEventAt(context.Background()); ok {
		t.Error("event still queued after three failed attempts")
	}
	select {
	case <-w.runner.called:
		t.Error("a fourth delivery happened")
	case <-time.After(50 * time.Millisecond):
	}
}

func TestFunctionDeletedWhileInvoked(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.create("f")
	started, retired := make(chan struct{}), make(chan struct{})
	w.runner.run = func(ctx context.Context, fn lambdaapi.FunctionVersion, req lambdaapi.InvokeRequest) (lambdaapi.InvokeResult, error) {
		close(started)
		<-retired
		return lambdaapi.InvokeResult{}, errors.New("environment retired")
	}
	errc := make(chan error, 1)
	go func() {
		_, err := w.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f")})
		errc <- err
	}()
	<-started
	if _, err := w.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}
	_, drains, _ := w.runner.snapshot()
	if len(drains) != 1 || drains[0] != "f:" {
		t.Errorf("drains = %v, want every version of f", drains)
	}
	close(retired)
	if err := <-errc; code(err) != "ResourceNotFoundException" {
		t.Errorf("Invoke of a function deleted meanwhile = %v, want ResourceNotFoundException", err)
	}
}
