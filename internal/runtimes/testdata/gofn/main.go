// Command gofn is a function built with aws-lambda-go, run by the tests as a
// provided.al2 bootstrap.
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Name  string `json:"name"`
	Fail  bool   `json:"fail"`
	Panic bool   `json:"panic"`
}

func handle(ctx context.Context, e event) (map[string]any, error) {
	if e.Fail {
		return nil, errors.New("asked to fail")
	}
	if e.Panic {
		panic("asked to panic")
	}
	lc, _ := lambdacontext.FromContext(ctx)
	_, hasDeadline := ctx.Deadline()
	return map[string]any{
		"hello":        e.Name,
		"request_id":   lc.AwsRequestID,
		"arn":          lc.InvokedFunctionArn,
		"function":     lambdacontext.FunctionName,
		"memory":       lambdacontext.MemoryLimitInMB,
		"has_deadline": hasDeadline,
	}, nil
}

func main() { lambda.Start(handle) }
