package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

func apiCommand() *command {
	return &command{name: "api", usage: "tarn api SUBCOMMAND", summary: "HTTP APIs in front of functions", sub: []*command{
		{name: "create", usage: "tarn api create --function F [--name N] [--route 'ANY /F'] [--stage default]",
			summary: "make an HTTP API for a function and print its URL", run: apiCreate},
		{name: "ls", usage: "tarn api ls", summary: "list HTTP APIs", run: apiList},
		{name: "rm", usage: "tarn api rm API...", summary: "delete HTTP APIs", run: apiRemove},
	}}
}

func (c *clientFlags) apigw() (*apigatewayv2.Client, error) {
	cfg, endpoint, err := c.awsConfig()
	if err != nil {
		return nil, err
	}
	return apigatewayv2.NewFromConfig(cfg, func(o *apigatewayv2.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
}

func (c *clientFlags) lambda() (*lambda.Client, error) {
	cfg, endpoint, err := c.awsConfig()
	if err != nil {
		return nil, err
	}
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
}

// apiCreate does what the Lambda console's "Add trigger → API Gateway →
// HTTP API, Open" does: an API named F-API with an AWS_PROXY integration
// (payload 2.0), the route ANY /F, the stage "default" with auto-deploy,
// and a permission for apigateway.amazonaws.com to invoke F from it.
func apiCreate(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn api create")
	function := fs.String("function", "", "function name or ARN (required)")
	name := fs.String("name", "", "API name (default FUNCTION-API)")
	route := fs.String("route", "", "route key (default 'ANY /FUNCTION')")
	stage := fs.String("stage", "default", "stage name; $default serves at the root of the API")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("tarn api create takes no arguments, got %q", pos)
	}
	if *function == "" {
		return usagef("give --function NAME")
	}
	gw, err := cf.apigw()
	if err != nil {
		return err
	}
	lc, err := cf.lambda()
	if err != nil {
		return err
	}
	arn := *function
	if !strings.HasPrefix(arn, "arn:") {
		f, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: function})
		if err != nil {
			return fmt.Errorf("function %s: %w", *function, err)
		}
		arn = aws.ToString(f.Configuration.FunctionArn)
	}
	parts := strings.Split(arn, ":")
	if len(parts) < 7 {
		return fmt.Errorf("function ARN %q has no function name", arn)
	}
	fnName := parts[6]
	if *name == "" {
		*name = fnName + "-API"
	}
	if *route == "" {
		*route = "ANY /" + fnName
	}
	api, err := gw.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: name, ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		return err
	}
	url, err := finishAPI(ctx, gw, lc, api, arn, *route, *stage)
	if err != nil {
		if _, derr := gw.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: api.ApiId}); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove the half-made API %s: %w", aws.ToString(api.ApiId), derr))
		}
		return err
	}
	if cf.json {
		return printJSON(e.stdout, map[string]string{"ApiId": aws.ToString(api.ApiId), "Name": *name, "Route": *route,
			"Stage": *stage, "FunctionArn": arn, "Url": url})
	}
	fmt.Fprintln(e.stdout, url)
	return nil
}

func finishAPI(ctx context.Context, gw *apigatewayv2.Client, lc *lambda.Client, api *apigatewayv2.CreateApiOutput, arn, route, stage string) (string, error) {
	integ, err := gw.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId,
		IntegrationType: apitypes.IntegrationTypeAwsProxy, IntegrationUri: aws.String(arn), PayloadFormatVersion: aws.String("2.0")})
	if err != nil {
		return "", err
	}
	if _, err := gw.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(route),
		Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}); err != nil {
		return "", err
	}
	if _, err := gw.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String(stage),
		AutoDeploy: aws.Bool(true)}); err != nil {
		return "", err
	}
	parts := strings.Split(arn, ":")
	id := aws.ToString(api.ApiId)
	if _, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String(arn), StatementId: aws.String("tarn-api-" + id), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String(fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/*/*%s", parts[3], parts[4], id, permissionPath(route))),
	}); err != nil {
		return "", fmt.Errorf("allow the API to invoke %s: %w", arn, err)
	}
	return invokeURL(aws.ToString(api.ApiEndpoint), stage, route), nil
}

// permissionPath is the resource part of the source ARN that lets the API
// invoke the function from route: path variables become wildcards.
func permissionPath(route string) string {
	_, path, ok := strings.Cut(route, " ")
	if !ok {
		return "/*" // $default
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "*"
		}
	}
	return strings.Join(segs, "/")
}

// invokeURL is the URL a client calls for route on stage.
func invokeURL(endpoint, stage, route string) string {
	u := endpoint
	if stage != "$default" {
		u += "/" + stage
	}
	if _, path, ok := strings.Cut(route, " "); ok && path != "/" {
		return u + path
	}
	return u + "/"
}

func apiList(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn api ls")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("tarn api ls takes no arguments, got %q", pos)
	}
	gw, err := cf.apigw()
	if err != nil {
		return err
	}
	var all []apitypes.Api
	var token *string
	for {
		out, err := gw.GetApis(ctx, &apigatewayv2.GetApisInput{NextToken: token})
		if err != nil {
			return err
		}
		all = append(all, out.Items...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	if cf.json {
		views := []map[string]any{}
		for _, a := range all {
			views = append(views, map[string]any{"ApiId": deref(a.ApiId), "Name": deref(a.Name), "ProtocolType": a.ProtocolType,
				"ApiEndpoint": deref(a.ApiEndpoint), "CreatedDate": a.CreatedDate})
		}
		return printJSON(e.stdout, views)
	}
	var rows [][]string
	for _, a := range all {
		created := ""
		if a.CreatedDate != nil {
			created = a.CreatedDate.Local().Format("2006-01-02 15:04")
		}
		rows = append(rows, []string{deref(a.ApiId), deref(a.Name), string(a.ProtocolType), deref(a.ApiEndpoint), created})
	}
	return printTable(e.stdout, []string{"ID", "NAME", "PROTOCOL", "ENDPOINT", "CREATED"}, rows)
}

func apiRemove(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn api rm")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("tarn api rm needs an API id")
	}
	gw, err := cf.apigw()
	if err != nil {
		return err
	}
	return deleteEach(e, pos, func(id string) error {
		_, err := gw.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: aws.String(id)})
		return err
	})
}
