package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/smithy-go"

	"tarn.dev/tarn/internal/server"
)

func open(t *testing.T, dir string) *server.Server {
	t.Helper()
	s, err := server.Open(context.Background(), server.Config{DataDir: dir, Out: io.Discard,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func client(url, id, secret string) *efs.Client {
	return efs.New(efs.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestFirstStartCreatesKeysThatSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	creds, account := s.RootCredentials(), s.AccountID()
	if len(creds.AccessKeyID) != 20 || !strings.HasPrefix(creds.AccessKeyID, "AKIA") || len(creds.SecretAccessKey) != 40 {
		t.Errorf("root key %q/%d chars, want AKIA… (20) and a 40-character secret", creds.AccessKeyID, len(creds.SecretAccessKey))
	}
	if len(account) != 12 {
		t.Errorf("account id %q, want 12 digits", account)
	}
	if _, err := server.Open(context.Background(), server.Config{DataDir: dir, Out: io.Discard}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Open on the same data directory: %v, want an in-use error", err)
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if s.RootCredentials() != creds || s.AccountID() != account {
		t.Errorf("after restart: key %s account %s, want %s %s", s.RootCredentials().AccessKeyID, s.AccountID(), creds.AccessKeyID, account)
	}
}

func TestControlAPIVerifiesSignatures(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	creds := s.RootCredentials()
	ctx := context.Background()

	good := client(srv.URL, creds.AccessKeyID, creds.SecretAccessKey)
	if _, err := good.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("x")}); err != nil {
		t.Fatalf("signed request: %v", err)
	}
	_, err := client(srv.URL, creds.AccessKeyID, "wrong"+creds.SecretAccessKey[5:]).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
	if code(err) != "InvalidSignatureException" {
		t.Errorf("wrong secret: %v, want InvalidSignatureException", err)
	}
	_, err = client(srv.URL, "AKIAUNKNOWNUNKNOWN00", creds.SecretAccessKey).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
	if code(err) != "UnrecognizedClientException" {
		t.Errorf("unknown key: %v, want UnrecognizedClientException", err)
	}

	resp, err := http.Get(srv.URL + "/2015-02-01/file-systems")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("unsigned: %d %q, want 403 MissingAuthenticationTokenException with a request id", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}

	sign := func(method, path, service string, body []byte) *http.Request {
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		h := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey},
			req, hex.EncodeToString(h[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
	do := func(req *http.Request) (int, string) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType")
	}
	if st, c := do(sign("GET", "/", "s3", nil)); st != 400 || c != "UnknownServiceException" {
		t.Errorf("request signed for s3: %d %s, want 400 UnknownServiceException", st, c)
	}
	// A presigned URL does not cover the body, so it may not carry one.
	req, _ := http.NewRequest("POST", srv.URL+"/2015-02-01/file-systems", nil)
	url, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey},
		req, "UNSIGNED-PAYLOAD", "elasticfilesystem", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("POST", url, strings.NewReader(`{"CreationToken":"sneaky"}`))
	if st, c := do(req); st != 403 || c != "InvalidSignatureException" {
		t.Errorf("presigned request with a body: %d %s, want 403 InvalidSignatureException", st, c)
	}
	out, err := good.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
	if err != nil || len(out.FileSystems) != 1 {
		t.Errorf("after rejected requests: %d file systems, %v; want only the signed one", len(out.FileSystems), err)
	}
	resp, err = http.Get(srv.URL + "/tarn/health")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("health: %v %v", resp, err)
	}
}
