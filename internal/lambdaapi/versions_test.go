package lambdaapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"tarn.dev/tarn/internal/lambdaapi"
)

func TestVersionsAliasesConcurrencyAndPolicySurviveRestart(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	fn := aws.String("f")
	w.create("f")
	v1, err := w.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn, Description: aws.String("first")})
	if err != nil || aws.ToString(v1.Version) != "1" || !strings.HasSuffix(aws.ToString(v1.FunctionArn), ":function:f:1") {
		t.Fatalf("PublishVersion = %+v, %v", v1, err)
	}
	again, err := w.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn})
	if err != nil || aws.ToString(again.Version) != "1" {
		t.Errorf("PublishVersion without changes = %v, %v; want version 1 again", aws.ToString(again.Version), err)
	}
	if _, err := w.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn, CodeSha256: aws.String("nope")}); code(err) != "PreconditionFailedException" {
		t.Errorf("PublishVersion with another CodeSha256 = %v", err)
	}
	w.client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: fn, MemorySize: aws.Int32(256)})
	w.waitSettled("f")
	v2, err := w.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn})
	if err != nil || aws.ToString(v2.Version) != "2" || aws.ToInt32(v2.MemorySize) != 256 {
		t.Fatalf("PublishVersion after a change = %+v, %v", v2, err)
	}
	vs, err := w.client.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: fn})
	if err != nil || len(vs.Versions) != 3 || aws.ToString(vs.Versions[0].Version) != "$LATEST" {
		t.Fatalf("ListVersionsByFunction = %+v, %v", vs, err)
	}
	all, _ := w.client.ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll})
	if len(all.Functions) != 3 {
		t.Errorf("ListFunctions(ALL) = %d items, want 3", len(all.Functions))
	}

	// Aliases.
	al, err := w.client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.25}}})
	if err != nil || aws.ToString(al.AliasArn) != "arn:aws:lambda:us-east-1:"+account+":function:f:live" || al.RoutingConfig.AdditionalVersionWeights["2"] != 0.25 {
		t.Fatalf("CreateAlias = %+v, %v", al, err)
	}
	aliasErrs := []struct {
		name string
		in   *lambda.CreateAliasInput
		code string
	}{
		{"exists", &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("1")}, "ResourceConflictException"},
		{"digits", &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("123"), FunctionVersion: aws.String("1")}, "ValidationException"},
		{"missing version", &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("x"), FunctionVersion: aws.String("9")}, "ResourceNotFoundException"},
		{"bad weight", &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("x"), FunctionVersion: aws.String("1"),
			RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 1.5}}}, "ValidationException"},
		{"missing function", &lambda.CreateAliasInput{FunctionName: aws.String("nope"), Name: aws.String("x"), FunctionVersion: aws.String("1")}, "ResourceNotFoundException"},
	}
	for _, c := range aliasErrs {
		if _, err := w.client.CreateAlias(ctx, c.in); code(err) != c.code {
			t.Errorf("CreateAlias(%s) = %v, want %s", c.name, err, c.code)
		}
	}
	if _, err := w.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn, Qualifier: aws.String("2")}); code(err) != "ResourceConflictException" ||
		!strings.Contains(message(err), "[live]") {
		t.Errorf("DeleteFunction(version routed to by an alias) = %v", err)
	}
	if _, err := w.client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn, Qualifier: aws.String("$LATEST")}); code(err) != "InvalidParameterValueException" {
		t.Errorf("DeleteFunction($LATEST) = %v", err)
	}
	up, err := w.client.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("2"),
		RoutingConfig: &types.AliasRoutingConfiguration{}})
	if err != nil || aws.ToString(up.FunctionVersion) != "2" || up.RoutingConfig != nil {
		t.Errorf("UpdateAlias = %+v, %v", up, err)
	}
	if _, err := w.client.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: fn, Name: aws.String("nope")}); code(err) != "ResourceNotFoundException" ||
		!strings.HasPrefix(message(err), "Alias not found: ") {
		t.Errorf("GetAlias(missing) = %v", err)
	}
	w.client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("old"), FunctionVersion: aws.String("1")})
	if _, err := w.client.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: fn, Name: aws.String("old")}); err != nil {
		t.Errorf("DeleteAlias: %v", err)
	}

	// Reserved concurrency.
	if _, err := w.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: fn, ReservedConcurrentExecutions: aws.Int32(901)}); code(err) != "InvalidParameterValueException" ||
		!strings.Contains(message(err), "below its minimum value of [100]") {
		t.Errorf("PutFunctionConcurrency(901) = %v", err)
	}
	if out, err := w.client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: fn, ReservedConcurrentExecutions: aws.Int32(10)}); err != nil ||
		aws.ToInt32(out.ReservedConcurrentExecutions) != 10 {
		t.Fatalf("PutFunctionConcurrency(10) = %+v, %v", out, err)
	}
	if _, _, configures := w.runner.snapshot(); len(configures) != 1 || configures[0].Reserved == nil || *configures[0].Reserved != 10 {
		t.Errorf("runner configured with %+v", configures)
	}

	// Provisioned concurrency.
	if _, err := w.client.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: fn, Qualifier: aws.String("$LATEST"),
		ProvisionedConcurrentExecutions: aws.Int32(1)}); code(err) != "InvalidParameterValueException" ||
		message(err) != "Provisioned Concurrency Configs cannot be applied to unpublished function versions." {
		t.Errorf("provisioned on $LATEST = %v", err)
	}
	if _, err := w.client.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: fn, Qualifier: aws.String("live"),
		ProvisionedConcurrentExecutions: aws.Int32(11)}); code(err) != "InvalidParameterValueException" {
		t.Errorf("provisioned above reserved = %v", err)
	}
	pc, err := w.client.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: fn, Qualifier: aws.String("live"),
		ProvisionedConcurrentExecutions: aws.Int32(2)})
	if err != nil || pc.Status != types.ProvisionedConcurrencyStatusEnumInProgress {
		t.Fatalf("PutProvisionedConcurrencyConfig = %+v, %v", pc, err)
	}
	var ready *lambda.GetProvisionedConcurrencyConfigOutput
	for range 1000 {
		ready, err = w.client.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: fn, Qualifier: aws.String("live")})
		if err != nil || ready.Status == types.ProvisionedConcurrencyStatusEnumReady {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil || ready.Status != types.ProvisionedConcurrencyStatusEnumReady || aws.ToInt32(ready.AvailableProvisionedConcurrentExecutions) != 2 {
		t.Fatalf("GetProvisionedConcurrencyConfig = %+v, %v", ready, err)
	}
	if _, _, configures := w.runner.snapshot(); configures[len(configures)-1].Provisioned != 2 || configures[len(configures)-1].Version != "2" {
		t.Errorf("runner configured with %+v, want version 2 with 2 provisioned", configures[len(configures)-1])
	}
	if _, err := w.client.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: fn, Qualifier: aws.String("1")}); code(err) != "ProvisionedConcurrencyConfigNotFoundException" {
		t.Errorf("GetProvisionedConcurrencyConfig(unconfigured) = %v", err)
	}

	// Permissions.
	stmt, err := w.client.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: fn, StatementId: aws.String("apigw"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String("arn:aws:execute-api:us-east-1:" + account + ":abc/*/*/f")})
	if err != nil || !strings.Contains(aws.ToString(stmt.Statement), `"Service":"apigateway.amazonaws.com"`) {
		t.Fatalf("AddPermission = %+v, %v", stmt, err)
	}
	if _, err := w.client.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: fn, StatementId: aws.String("apigw"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")}); code(err) != "ResourceConflictException" {
		t.Errorf("AddPermission(same sid) = %v", err)
	}
	w.client.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: fn, StatementId: aws.String("acct"),
		Action: aws.String("lambda:*"), Principal: aws.String("210987654321")})

	// Everything survives a restart.
	w.restart()
	pol, err := w.client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Sid       string
			Principal json.RawMessage
			Resource  string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc); err != nil || doc.Version != "2012-10-17" || len(doc.Statement) != 2 ||
		doc.Statement[0].Condition["ArnLike"]["AWS:SourceArn"] == "" || string(doc.Statement[1].Principal) != `{"AWS":"arn:aws:iam::210987654321:root"}` ||
		doc.Statement[0].Resource != "arn:aws:lambda:us-east-1:"+account+":function:f" {
		t.Errorf("GetPolicy = %s, %v", aws.ToString(pol.Policy), err)
	}
	if _, err := w.client.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: fn, StatementId: aws.String("apigw")}); err != nil {
		t.Error(err)
	}
	if _, err := w.client.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: fn, StatementId: aws.String("apigw")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("RemovePermission twice = %v", err)
	}
	if c, err := w.client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: fn}); err != nil || aws.ToInt32(c.ReservedConcurrentExecutions) != 10 {
		t.Errorf("reserved concurrency after restart = %+v, %v", c, err)
	}
	if a, err := w.client.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: fn, Name: aws.String("live")}); err != nil || aws.ToString(a.FunctionVersion) != "2" {
		t.Errorf("alias after restart = %+v, %v", a, err)
	}
	list, err := w.client.ListProvisionedConcurrencyConfigs(ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: fn})
	if err != nil || len(list.ProvisionedConcurrencyConfigs) != 1 || !strings.HasSuffix(aws.ToString(list.ProvisionedConcurrencyConfigs[0].FunctionArn), ":live") {
		t.Errorf("ListProvisionedConcurrencyConfigs = %+v, %v", list, err)
	}
	if v, err := w.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn, Qualifier: aws.String("1")}); err != nil ||
		aws.ToInt32(v.MemorySize) != 128 || aws.ToString(v.Description) != "first" {
		t.Errorf("version 1 after restart = %+v, %v", v, err)
	}
	settings, err := w.client.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || settings.AccountUsage.FunctionCount != 1 || aws.ToInt32(settings.AccountLimit.UnreservedConcurrentExecutions) != 990 ||
		settings.AccountUsage.TotalCodeSize == 0 || settings.AccountLimit.CodeSizeZipped != lambdaapi.DefaultMaxZipBytes {
		t.Errorf("GetAccountSettings = %+v %+v, %v", settings.AccountLimit, settings.AccountUsage, err)
	}
	if _, err := w.client.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: fn, Qualifier: aws.String("live")}); err != nil {
		t.Error(err)
	}
	if _, err := w.client.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: fn}); err != nil {
		t.Error(err)
	}
	if c, _ := w.client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: fn}); c.ReservedConcurrentExecutions != nil {
		t.Errorf("reserved concurrency after delete = %d", *c.ReservedConcurrentExecutions)
	}
}

// memLogs is an in-memory Logs whose cursors are indexes.
type memLogs struct {
	lines []lambdaapi.LogEvent
	more  chan lambdaapi.LogEvent
}

func (m *memLogs) Tail(ctx context.Context, fn string, n int) ([]lambdaapi.LogEvent, string, error) {
	start := max(0, len(m.lines)-n)
	return m.lines[start:], itoa(len(m.lines)), nil
}

func (m *memLogs) Read(ctx context.Context, fn, cursor string, limit int) ([]lambdaapi.LogEvent, string, error) {
	i := atoi(cursor)
	end := min(len(m.lines), i+limit)
	return m.lines[i:end], itoa(end), nil
}

func (m *memLogs) Wait(ctx context.Context, fn, cursor string) error {
	select {
	case ev := <-m.more:
		m.lines = append(m.lines, ev)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
func atoi(s string) int { var n int; json.Unmarshal([]byte(s), &n); return n }

func TestLogsExtension(t *testing.T) {
	logs := &memLogs{more: make(chan lambdaapi.LogEvent)}
	for _, l := range []string{"START RequestId: 1 Version: $LATEST", "hello", "END RequestId: 1"} {
		logs.lines = append(logs.lines, lambdaapi.LogEvent{Time: time.UnixMilli(1), Stream: "s", Message: l})
	}
	w := newWorld(t, func(c *lambdaapi.Config) { c.Logs = logs })
	w.create("f")
	resp, err := http.Get(w.url + "/2015-03-31/functions/f/tarn-logs?tail=2")
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Events     []struct{ Message string }
		NextCursor string
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if len(out.Events) != 2 || out.Events[1].Message != "END RequestId: 1" || out.NextCursor != "3" {
		t.Errorf("tail=2 = %+v", out)
	}
	if resp, _ := http.Get(w.url + "/2015-03-31/functions/nope/tarn-logs"); resp.StatusCode != 404 || resp.Header.Get("x-amzn-ErrorType") != "ResourceNotFoundException" {
		t.Errorf("logs of a missing function: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", w.url+"/2015-03-31/functions/f/tarn-logs?tail=1&follow=1", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var ev struct{ Message string }
	if dec.Decode(&ev); ev.Message != "END RequestId: 1" {
		t.Errorf("first followed event = %q", ev.Message)
	}
	logs.more <- lambdaapi.LogEvent{Time: time.UnixMilli(2), Stream: "s", Message: "REPORT RequestId: 1"}
	if dec.Decode(&ev); ev.Message != "REPORT RequestId: 1" {
		t.Errorf("next followed event = %q", ev.Message)
	}
}
