package iamapi_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestAuthorizerNeverServesStalePolicies toggles a user's permission
// through the IAM API while other goroutines keep the authorizer's caches
// busy; after each IAM call returns, a decision must reflect it.
func TestAuthorizerNeverServesStalePolicies(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.root()
	c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	bobKey := aws.ToString(key.AccessKey.AccessKeyId)
	const action = "elasticfilesystem:ClientWrite"
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					w.auth.Authorize(ctx, bobKey, action, "*", nil)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for i := range 20 {
		attached := i%2 == 0
		if attached {
			_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(rwARN)})
		} else {
			_, err = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(rwARN)})
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := w.auth.Authorize(ctx, bobKey, action, "*", nil) == nil; got != attached {
			t.Fatalf("round %d: allowed %v, want %v", i, got, attached)
		}
	}
}
