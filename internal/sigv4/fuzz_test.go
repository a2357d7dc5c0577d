package sigv4

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary Authorization headers, request targets (path and
// query) and dates to Verify. It must never panic, and every failure must be
// an *Error with one of the four AWS codes.
func FuzzVerify(f *testing.F) {
	good := signSDK(f, "http://tarn.example", sdkCases[2], testCreds, t0)
	f.Add(good.Header.Get("Authorization"), good.URL.RequestURI(), good.Header.Get("X-Amz-Date"), []byte(sdkCases[2].body))
	presigned, _ := presign(f, "http://tarn.example", "/2015-03-31/functions/f?a=1&a=", "300", t0)
	pu, _ := url.Parse(presigned)
	f.Add("", pu.RequestURI(), "", []byte(nil))
	f.Add("", "/", "", []byte(nil))
	f.Add("Bearer x", "/a//b/../c?x=1&&y", "20261105T123456Z", []byte("{}"))
	f.Add("AWS4-HMAC-SHA256", "*", "", []byte(nil))
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;;, Signature=", "/?X-Amz-Algorithm=", "0", []byte{0})
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261105/r/s/aws4_request,SignedHeaders=host,Signature=00",
		"http://h/%zz?%zz=%", "20261105T123456Z", []byte("x"))

	v := testVerifier(t0)
	f.Fuzz(func(t *testing.T, auth, target, date string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			u = &url.URL{Path: "/"}
		}
		r := &http.Request{
			Method:     "POST",
			URL:        u,
			RequestURI: target,
			Host:       "tarn.example",
			Header:     http.Header{},
			Body:       http.NoBody,
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		r.Header.Set("Content-Type", "application/json")
		id, err := v.Verify(r, body)
		if err == nil {
			// Only an untouched signed seed can pass.
			if id.AccessKeyID != testKeyID {
				t.Fatalf("Verify accepted an unknown key: %+v", id)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Verify error %T %v, want *Error", err, err)
		}
		switch e.Code {
		case CodeMissingAuthenticationToken, CodeIncompleteSignature, CodeUnrecognizedClient, CodeInvalidSignature:
		default:
			t.Fatalf("Verify error code %q is not an AWS SigV4 code", e.Code)
		}
		if e.Message == "" {
			t.Fatalf("Verify error %q has no message", e.Code)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	body := bytes.Repeat([]byte(`{"key":"value"}`), 64) // ~1 KiB
	c := sdkCase{service: "lambda", method: "POST", contentType: "application/json", body: string(body),
		target: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations?Qualifier=%24LATEST"}
	req := signSDK(b, "http://tarn.example:9000", c, testCreds, t0)
	req.RequestURI = req.URL.RequestURI()
	v := testVerifier(t0)
	if _, err := v.Verify(req, body); err != nil {
		b.Fatalf("Verify = %v", err)
	}
	b.Run("header-signed-1KiB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(req, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	bad := req.Clone(req.Context())
	bad.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "Signature=", "Signature=0", 1))
	b.Run("wrong-signature-1KiB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(bad, body); err == nil {
				b.Fatal("Verify accepted a wrong signature")
			}
		}
	})
}
