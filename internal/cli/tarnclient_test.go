package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSignedCallsReachTheServer(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	type seen struct{ method, path, auth, contentType, body string }
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
		switch r.URL.Path {
		case "/tarn/v1/ok":
			w.Write([]byte(`{"Answer":42}`))
		case "/logs":
			w.Write([]byte(`{}`))
		default:
			w.Header().Set("x-amzn-ErrorType", "Conflict")
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"message":"lower"}`))
		}
	}))
	defer srv.Close()
	cf := &clientFlags{endpoint: srv.URL, region: "eu-west-1"}
	ctx := context.Background()

	var out struct{ Answer int }
	if err := cf.callTarn(ctx, "POST", "/tarn/v1/ok", map[string]bool{"Repair": true}, &out); err != nil || out.Answer != 42 {
		t.Fatalf("callTarn = %+v, %v; want Answer 42", out, err)
	}
	err := cf.callTarn(ctx, "GET", "/tarn/v1/busy", nil, nil)
	var te *tarnAPIError
	if !errors.As(err, &te) || *te != (tarnAPIError{Status: 409, Code: "Conflict", Message: "lower"}) {
		t.Errorf("callTarn of an error answer = %v, want Conflict: lower", err)
	}
	resp, err := cf.signedGet(ctx, "lambda", "/logs?tail=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := cf.signedGet(ctx, "lambda", "/busy"); !errors.As(err, &te) || te.Message != "lower" {
		t.Errorf("signedGet of an error answer = %v, want Conflict: lower", err)
	}

	want := []struct{ method, path, scope, contentType, body string }{
		{"POST", "/tarn/v1/ok", "/eu-west-1/tarn/aws4_request", "application/json", `{"Repair":true}`},
		{"GET", "/tarn/v1/busy", "/eu-west-1/tarn/aws4_request", "application/json", ""},
		{"GET", "/logs?tail=1", "/eu-west-1/lambda/aws4_request", "", ""},
		{"GET", "/busy", "/eu-west-1/lambda/aws4_request", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("server saw %d requests, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.method != w.method || g.path != w.path || !strings.Contains(g.auth, "Credential=AKIDEXAMPLE/") ||
			!strings.Contains(g.auth, w.scope) || g.contentType != w.contentType || g.body != w.body {
			t.Errorf("request %d = %+v, want %s %s signed for %s, Content-Type %q, body %q", i, g, w.method, w.path, w.scope, w.contentType, w.body)
		}
	}
}
