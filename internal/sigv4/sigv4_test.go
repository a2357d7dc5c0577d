package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/smithy-go"
)

const (
	testKeyID  = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var t0 = time.Date(2026, 11, 5, 12, 34, 56, 0, time.UTC)

func testVerifier(now time.Time) *Verifier {
	return &Verifier{
		Secret: func(id string) (string, bool) {
			if id == testKeyID {
				return testSecret, true
			}
			return "", false
		},
		Now: func() time.Time { return now },
	}
}

// result is what the test server's handler saw.
type result struct {
	id  Identity
	err error
}

// verifyServer runs v behind a real HTTP server, so requests go through the
// Go client's and server's wire handling, and returns a function that sends a
// request and reports what Verify said about it.
func verifyServer(t *testing.T, v *Verifier, wrap func(http.Handler) http.Handler) (base string, send func(*http.Request) result) {
	t.Helper()
	var mu sync.Mutex
	var last result
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		id, err := v.Verify(r, body)
		mu.Lock()
		last = result{id, err}
		mu.Unlock()
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				w.Header().Set("X-Amzn-Errortype", e.Code)
			}
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, func(req *http.Request) result {
		t.Helper()
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("send %s %s: %v", req.Method, req.URL, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

type sdkCase struct {
	name        string
	service     string
	region      string
	method      string
	target      string // escaped path and query
	body        string
	contentType string
	header      map[string]string
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signSDK builds a request to base+c.target signed by aws-sdk-go-v2's signer.
func signSDK(t testing.TB, base string, c sdkCase, creds aws.Credentials, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(c.method, base+c.target, bytes.NewReader([]byte(c.body)))
	if err != nil {
		t.Fatalf("new request %q: %v", c.target, err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	region := c.region
	if region == "" {
		region = "us-west-2"
	}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex([]byte(c.body)), c.service, region, at)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return req
}

var testCreds = aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}

var sdkCases = []sdkCase{
	{name: "efs describe with query", service: "elasticfilesystem", method: "GET",
		target: "/2015-02-01/file-systems?CreationToken=tok-1&MaxItems=10"},
	{name: "efs create json", service: "elasticfilesystem", method: "POST", target: "/2015-02-01/file-systems",
		body: `{"CreationToken":"tok","PerformanceMode":"generalPurpose"}`, contentType: "application/json"},
	{name: "lambda invoke arn with colons", service: "lambda", method: "POST",
		target: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations?Qualifier=%24LATEST",
		body:   `{"k":"v"}`, header: map[string]string{"X-Amz-Invocation-Type": "RequestResponse"}},
	{name: "lambda raw dollar in path", service: "lambda", method: "GET",
		target: "/2015-03-31/functions/my-fn/versions/$LATEST/policy"},
	{name: "lambda escaped dollar in path", service: "lambda", method: "GET",
		target: "/2015-03-31/functions/my-fn/aliases/%24LATEST"},
	{name: "path with spaces", service: "elasticfilesystem", method: "DELETE",
		target: "/2015-02-01/access-points/name%20with%20spaces"},
	{name: "unicode path", service: "lambda", method: "GET",
		target: "/2015-03-31/functions/caf%C3%A9-%E6%97%A5%E6%9C%AC/configuration"},
	{name: "iam form body", service: "iam", region: "us-east-1", method: "POST", target: "/",
		body:        "Action=CreateUser&UserName=alice&Path=%2Fteam%2F&Version=2010-05-08",
		contentType: "application/x-www-form-urlencoded; charset=utf-8"},
	{name: "apigateway create api", service: "apigateway", method: "POST", target: "/v2/apis",
		body: `{"name":"wall","protocolType":"HTTP"}`, contentType: "application/json"},
	{name: "apigateway route key with spaces and braces", service: "apigateway", method: "GET",
		target: "/v2/apis/a1b2c3/routes?routeKey=GET%20%2Fitems%2F%7Bid%7D"},
	{name: "repeated keys and empty values", service: "elasticfilesystem", method: "GET",
		target: "/2015-02-01/file-systems?b=2&a=2&a=1&empty=&flag&sp=a%20b&plus=a%2Bb&slash=a%2Fb&dash=a-b&star=%2A"},
	{name: "header with runs of spaces", service: "lambda", method: "GET", target: "/2015-03-31/functions",
		header: map[string]string{"X-Tarn-Note": "a   b  c", "X-Amz-Meta": " x "}},
	{name: "tilde and reserved characters", service: "lambda", method: "GET",
		target: "/2015-03-31/functions/~a!b'c(d)e*f,g;h=i@j+k/configuration"},
}

func TestVerifyAcceptsSDKSignedRequests(t *testing.T) {
	base, send := verifyServer(t, testVerifier(t0), nil)
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			res := send(signSDK(t, base, c, testCreds, t0))
			if res.err != nil {
				t.Fatalf("Verify = %v, want success", res.err)
			}
			region := c.region
			if region == "" {
				region = "us-west-2"
			}
			want := Identity{AccessKeyID: testKeyID, Region: region, Service: c.service, SignedAt: t0}
			if res.id != want {
				t.Errorf("Verify identity = %+v, want %+v", res.id, want)
			}
		})
	}
}

func TestVerifyAcceptsSDKSignedRequestInProcess(t *testing.T) {
	// A request that never went over the wire has no RequestURI; the path
	// comes from r.URL as the signer saw it.
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			req := signSDK(t, "http://tarn.example:9000", c, testCreds, t0)
			if _, err := testVerifier(t0).Verify(req, []byte(c.body)); err != nil {
				t.Fatalf("Verify = %v, want success", err)
			}
		})
	}
}

func TestVerifyUsesPathAsSentUnderStripPrefix(t *testing.T) {
	base, send := verifyServer(t, testVerifier(t0), func(h http.Handler) http.Handler {
		return http.StripPrefix("/lambda", h)
	})
	c := sdkCase{service: "lambda", method: "GET", target: "/lambda/2015-03-31/functions/a%3Ab"}
	if res := send(signSDK(t, base, c, testCreds, t0)); res.err != nil {
		t.Fatalf("Verify = %v, want success", res.err)
	}
}

func TestVerifyAcceptsSignedSessionToken(t *testing.T) {
	base, send := verifyServer(t, testVerifier(t0), nil)
	creds := testCreds
	creds.SessionToken = "FwoGZXIvYXdzEXAMPLETOKEN"
	c := sdkCase{service: "lambda", method: "GET", target: "/2015-03-31/functions"}
	if res := send(signSDK(t, base, c, creds, t0)); res.err != nil {
		t.Fatalf("Verify = %v, want success", res.err)
	}
}

func TestVerifyAcceptsDatesWithinSkew(t *testing.T) {
	base, send := verifyServer(t, testVerifier(t0), nil)
	for _, d := range []time.Duration{-15 * time.Minute, -14 * time.Minute, 14 * time.Minute, 15 * time.Minute} {
		c := sdkCase{service: "lambda", method: "GET", target: "/2015-03-31/functions"}
		if res := send(signSDK(t, base, c, testCreds, t0.Add(d))); res.err != nil {
			t.Errorf("signed at now%+v: Verify = %v, want success", d, res.err)
		}
	}
}

func TestVerifyAcceptsUnsignedPayloadWhenAllowed(t *testing.T) {
	v := testVerifier(t0)
	req, _ := http.NewRequest("PUT", "http://tarn.example/2015-02-01/x", strings.NewReader("data"))
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, req, "UNSIGNED-PAYLOAD", "elasticfilesystem", "us-west-2", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(req, []byte("other data")); codeOf(err) != CodeInvalidSignature {
		t.Fatalf("Verify without AllowUnsignedPayload = %v, want %s", err, CodeInvalidSignature)
	}
	v.AllowUnsignedPayload = true
	id, err := v.Verify(req, []byte("other data"))
	if err != nil || !id.UnsignedPayload {
		t.Fatalf("Verify with AllowUnsignedPayload = %+v, %v; want success with UnsignedPayload", id, err)
	}
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) {
		return "not an *Error: " + err.Error()
	}
	return e.Code
}

func TestVerifyRejects(t *testing.T) {
	post := sdkCase{service: "lambda", method: "POST", contentType: "application/json",
		target: "/2015-03-31/functions/my-fn/invocations?Qualifier=1", body: `{"a":"b"}`}
	tests := []struct {
		name     string
		creds    aws.Credentials
		at       time.Time
		tamper   func(r *http.Request)
		wantCode string
		wantMsg  string // when set, the exact message
	}{
		{name: "wrong secret", creds: aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: "not-the-secret"},
			wantCode: CodeInvalidSignature, wantMsg: msgBadSignature},
		{name: "unknown access key", creds: aws.Credentials{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: testSecret},
			wantCode: CodeUnrecognizedClient, wantMsg: "The security token included in the request is invalid."},
		{name: "tampered body", tamper: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"a":"c"}`))
		}, wantCode: CodeInvalidSignature},
		{name: "tampered signed header", tamper: func(r *http.Request) {
			r.Header.Set("Content-Type", "text/plain")
		}, wantCode: CodeInvalidSignature},
		{name: "tampered path", tamper: func(r *http.Request) {
			r.URL.Path = "/2015-03-31/functions/other-fn/invocations"
		}, wantCode: CodeInvalidSignature},
		{name: "tampered query", tamper: func(r *http.Request) {
			r.URL.RawQuery = "Qualifier=2"
		}, wantCode: CodeInvalidSignature},
		{name: "extra query parameter", tamper: func(r *http.Request) {
			r.URL.RawQuery += "&x=1"
		}, wantCode: CodeInvalidSignature},
		{name: "tampered method", tamper: func(r *http.Request) {
			r.Method = "PUT"
		}, wantCode: CodeInvalidSignature},
		{name: "other host", tamper: func(r *http.Request) {
			r.Host = "evil.example"
		}, wantCode: CodeInvalidSignature},
		{name: "expired", at: time.Date(2026, 11, 5, 12, 18, 55, 0, time.UTC),
			wantCode: CodeInvalidSignature,
			wantMsg:  "Signature expired: 20261105T121855Z is now earlier than 20261105T121956Z (20261105T123456Z - 15 min.)"},
		{name: "future", at: time.Date(2026, 11, 5, 12, 50, 0, 0, time.UTC),
			wantCode: CodeInvalidSignature,
			wantMsg:  "Signature not yet current: 20261105T125000Z is still later than 20261105T124956Z (20261105T123456Z + 15 min.)"},
		{name: "missing authorization", tamper: func(r *http.Request) {
			r.Header.Del("Authorization")
		}, wantCode: CodeMissingAuthenticationToken, wantMsg: "Missing Authentication Token"},
		{name: "missing date", tamper: func(r *http.Request) {
			r.Header.Del("X-Amz-Date")
		}, wantCode: CodeIncompleteSignature},
		{name: "date from another day than the scope", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", "20261106T123456Z")
		}, wantCode: CodeInvalidSignature},
		{name: "malformed date", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", "2026-11-05T12:34:56Z")
		}, wantCode: CodeIncompleteSignature},
		{name: "missing signature part", tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
		}, wantCode: CodeIncompleteSignature},
		{name: "bad scope terminator", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "aws4_request", "aws5_request", 1))
		}, wantCode: CodeIncompleteSignature},
		{name: "short credential", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-west-2", "", 1))
		}, wantCode: CodeIncompleteSignature},
		{name: "unsupported algorithm", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1))
		}, wantCode: CodeIncompleteSignature},
		{name: "bearer token", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer abc.def")
		}, wantCode: CodeIncompleteSignature,
			wantMsg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer abc.def"},
		{name: "host not signed", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
		}, wantCode: CodeIncompleteSignature},
		{name: "unsigned security token", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Security-Token", "injected")
		}, wantCode: CodeIncompleteSignature},
		{name: "content hash header not matching body", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte("something else")))
		}, wantCode: CodeInvalidSignature, wantMsg: msgPayloadHash},
		{name: "signature in upper case", tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}, wantCode: CodeInvalidSignature},
	}
	base, send := verifyServer(t, testVerifier(t0), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, at := tt.creds, tt.at
			if creds.AccessKeyID == "" {
				creds = testCreds
			}
			if at.IsZero() {
				at = t0
			}
			req := signSDK(t, base, post, creds, at)
			if tt.tamper != nil {
				tt.tamper(req)
			}
			res := send(req)
			if got := codeOf(res.err); got != tt.wantCode {
				t.Fatalf("Verify = %v, want code %s", res.err, tt.wantCode)
			}
			if tt.wantMsg != "" && res.err.(*Error).Message != tt.wantMsg {
				t.Errorf("Verify message = %q, want %q", res.err.(*Error).Message, tt.wantMsg)
			}
		})
	}
}

func TestVerifyRejectsEverythingWithoutSecrets(t *testing.T) {
	req := signSDK(t, "http://tarn.example", sdkCases[0], testCreds, t0)
	v := &Verifier{Now: func() time.Time { return t0 }}
	if _, err := v.Verify(req, nil); codeOf(err) != CodeUnrecognizedClient {
		t.Fatalf("Verify with nil Secret = %v, want %s", err, CodeUnrecognizedClient)
	}
}

func TestVerifyCustomSkew(t *testing.T) {
	v := testVerifier(t0)
	v.MaxSkew = 5 * time.Minute
	req := signSDK(t, "http://tarn.example", sdkCases[0], testCreds, t0.Add(-6*time.Minute))
	_, err := v.Verify(req, nil)
	want := "Signature expired: 20261105T122856Z is now earlier than 20261105T122956Z (20261105T123456Z - 5 min.)"
	if codeOf(err) != CodeInvalidSignature || err.(*Error).Message != want {
		t.Fatalf("Verify = %v, want %s %q", err, CodeInvalidSignature, want)
	}
}

func presign(t testing.TB, base, target string, expires string, at time.Time) (string, http.Header) {
	t.Helper()
	if expires != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "X-Amz-Expires=" + expires
	}
	req, err := http.NewRequest("GET", base+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, h, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, req, "UNSIGNED-PAYLOAD", "lambda", "eu-west-1", at)
	if err != nil {
		t.Fatalf("presign: %v", err)
	}
	return u, h
}

func TestVerifyPresignedURL(t *testing.T) {
	const target = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Af?Qualifier=%24LATEST&a=&a=x"
	tests := []struct {
		name     string
		expires  string
		now      time.Time
		tamper   func(u string) string
		auth     bool
		wantCode string
		wantMsg  string
	}{
		{name: "valid", expires: "300", now: t0.Add(299 * time.Second)},
		{name: "valid without expires", now: t0.Add(10 * time.Minute)},
		{name: "expired", expires: "300", now: t0.Add(301 * time.Second), wantCode: CodeInvalidSignature,
			wantMsg: "Signature expired: 20261105T123956Z is now earlier than 20261105T123957Z (20261105T123456Z + 300 sec.)"},
		{name: "not yet current", expires: "300", now: t0.Add(-16 * time.Minute), wantCode: CodeInvalidSignature},
		{name: "expires too long", expires: "604801", wantCode: CodeIncompleteSignature},
		{name: "expires not a number", expires: "soon", wantCode: CodeIncompleteSignature},
		{name: "tampered query", tamper: func(u string) string {
			return strings.Replace(u, "Qualifier=%24LATEST", "Qualifier=1", 1)
		}, wantCode: CodeInvalidSignature},
		{name: "tampered expires", expires: "300", tamper: func(u string) string {
			return strings.Replace(u, "X-Amz-Expires=300", "X-Amz-Expires=3000", 1)
		}, wantCode: CodeInvalidSignature},
		{name: "missing signature", tamper: func(u string) string {
			i := strings.Index(u, "&X-Amz-Signature=")
			return u[:i]
		}, wantCode: CodeIncompleteSignature},
		{name: "with authorization header too", auth: true, wantCode: CodeIncompleteSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			base, send := verifyServer(t, testVerifier(now), nil)
			u, h := presign(t, base, target, tt.expires, t0)
			if tt.tamper != nil {
				u = tt.tamper(u)
			}
			req, err := http.NewRequest("GET", u, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range h {
				if k != "Host" {
					req.Header[k] = vs
				}
			}
			if tt.auth {
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			}
			res := send(req)
			if got := codeOf(res.err); got != tt.wantCode {
				t.Fatalf("Verify = %v, want code %q", res.err, tt.wantCode)
			}
			if tt.wantMsg != "" && res.err.(*Error).Message != tt.wantMsg {
				t.Errorf("Verify message = %q, want %q", res.err.(*Error).Message, tt.wantMsg)
			}
			if tt.wantCode == "" {
				want := Identity{AccessKeyID: testKeyID, Region: "eu-west-1", Service: "lambda", SignedAt: t0,
					Presigned: true, UnsignedPayload: true}
				if res.id != want {
					t.Errorf("Verify identity = %+v, want %+v", res.id, want)
				}
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	err := error(&Error{Code: CodeInvalidSignature, Message: "m"})
	if got, want := err.Error(), "sigv4: InvalidSignatureException: m"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestVerifyEFSClient sends requests from the real EFS client of the Go SDK,
// with all its middleware (amz-sdk-* headers, content-length, user agent).
func TestVerifyEFSClient(t *testing.T) {
	v := testVerifier(t0)
	v.Now = time.Now // the SDK signs with its own clock
	base, _ := verifyServer(t, v, nil)
	newClient := func(secret string) *efs.Client {
		cfg := aws.Config{
			Region:           "us-west-2",
			Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, secret, ""),
			RetryMaxAttempts: 1,
		}
		return efs.NewFromConfig(cfg, func(o *efs.Options) { o.BaseEndpoint = aws.String(base) })
	}
	ctx := context.Background()
	c := newClient(testSecret)
	if _, err := c.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{CreationToken: aws.String("tok with space/ü")}); err != nil {
		t.Errorf("DescribeFileSystems = %v, want success", err)
	}
	_, err := c.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{
		ClientToken:  aws.String("ct-1"),
		FileSystemId: aws.String("fs-12345678"),
		Tags:         []efstypes.Tag{{Key: aws.String("Name"), Value: aws.String("data  dir")}},
	})
	if err != nil {
		t.Errorf("CreateAccessPoint = %v, want success", err)
	}
	if _, err := c.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{AccessPointId: aws.String("fsap-0123 4567:x")}); err != nil {
		t.Errorf("DescribeAccessPoints = %v, want success", err)
	}

	_, err = newClient("wrong").DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != CodeInvalidSignature {
		t.Errorf("DescribeFileSystems with a wrong secret = %v, want %s", err, CodeInvalidSignature)
	}
}
