package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tarn.dev/tarn/internal/apigwapi"
	"tarn.dev/tarn/internal/gateway"
	"tarn.dev/tarn/internal/store"
)

// fakeLambda answers GetFunction and AddPermission and records the
// permission it was given.
type fakeLambda struct {
	mu         sync.Mutex
	permission map[string]string
}

func (f *fakeLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:MessageWall"
	switch {
	case r.Method == "GET" && r.URL.Path == "/2015-03-31/functions/MessageWall":
		json.NewEncoder(w).Encode(map[string]any{"Configuration": map[string]string{"FunctionName": "MessageWall", "FunctionArn": arn}})
	case r.Method == "POST" && r.URL.Path == "/2015-03-31/functions/"+arn+"/policy":
		f.mu.Lock()
		json.NewDecoder(r.Body).Decode(&f.permission)
		f.mu.Unlock()
		w.WriteHeader(201)
		w.Write([]byte(`{"Statement":"{}"}`))
	default:
		w.Header().Set("x-amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(404)
		w.Write([]byte(`{"Type":"User","Message":"Function not found: ` + r.URL.Path + `"}`))
	}
}

func TestAPICreateListRemove(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "tarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var events [][]byte
	var mu sync.Mutex
	gw := gateway.New(gateway.Config{Source: st, Log: quiet, Invoker: invoker(func(payload []byte) []byte {
		mu.Lock()
		events = append(events, payload)
		mu.Unlock()
		return []byte(`"Hello from EFS!"`)
	})})
	gwSrv := httptest.NewServer(gw)
	defer gwSrv.Close()
	lam := &fakeLambda{}
	api := apigwapi.New(apigwapi.Config{Store: st, AccountID: "123456789012", Region: "us-east-1", Endpoint: func() string { return gwSrv.URL },
		Changed: gw.Invalidate, Log: quiet})
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), "/apigateway/aws4_request") {
			api.ServeHTTP(w, r)
			return
		}
		lam.ServeHTTP(w, r)
	}))
	defer control.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Run(ctx, append(args, "--endpoint", control.URL, "--region", "us-east-1"), &out, &errb)
		return out.String(), errb.String(), code
	}

	out, errs, code := run("api", "create", "--function", "MessageWall")
	if code != 0 {
		t.Fatalf("tarn api create: exit %d: %s", code, errs)
	}
	url := strings.TrimSpace(out)
	if !strings.HasPrefix(url, gwSrv.URL+"/") || !strings.HasSuffix(url, "/default/MessageWall") {
		t.Fatalf("tarn api create printed %q, want %s/<apiId>/default/MessageWall", url, gwSrv.URL)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(url, gwSrv.URL+"/"), "/default/MessageWall")
	lam.mu.Lock()
	perm := lam.permission
	lam.mu.Unlock()
	if perm["Principal"] != "apigateway.amazonaws.com" || perm["Action"] != "lambda:InvokeFunction" ||
		perm["SourceArn"] != "arn:aws:execute-api:us-east-1:123456789012:"+id+"/*/*/MessageWall" {
		t.Errorf("AddPermission = %v", perm)
	}

	resp, err := http.Post(url, "text/plain", strings.NewReader("Hello from EFS!"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "Hello from EFS!" {
		t.Errorf("POST %s = %d %q", url, resp.StatusCode, body)
	}
	mu.Lock()
	if len(events) != 1 || !bytes.Contains(events[0], []byte(`"routeKey":"ANY /MessageWall"`)) ||
		!bytes.Contains(events[0], []byte(`"rawPath":"/default/MessageWall"`)) {
		t.Errorf("events = %s", events)
	}
	mu.Unlock()

	if out, errs, code = run("api", "ls"); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "MessageWall-API") {
		t.Errorf("tarn api ls = %d %q %s", code, out, errs)
	}
	if out, errs, code = run("api", "rm", id); code != 0 || strings.TrimSpace(out) != id {
		t.Errorf("tarn api rm = %d %q %s", code, out, errs)
	}
	if _, errs, code = run("api", "rm", id); code != 1 || !strings.Contains(errs, "NotFoundException") {
		t.Errorf("tarn api rm (again) = %d %s, want NotFoundException", code, errs)
	}
	if _, errs, code = run("api", "create", "--function", "Nope"); code != 1 || !strings.Contains(errs, "ResourceNotFoundException") {
		t.Errorf("tarn api create --function Nope = %d %s", code, errs)
	}
	if _, _, code = run("api", "create"); code != 2 {
		t.Errorf("tarn api create without --function: exit %d, want 2", code)
	}
}

type invoker func(payload []byte) []byte

func (f invoker) InvokeFunction(_ context.Context, _ string, payload []byte) ([]byte, string, error) {
	return f(payload), "", nil
}

func TestInvokeURLAndPermissionPath(t *testing.T) {
	tests := []struct{ stage, route, url, perm string }{
		{"default", "ANY /MessageWall", "E/default/MessageWall", "/MessageWall"},
		{"$default", "ANY /MessageWall", "E/MessageWall", "/MessageWall"},
		{"prod", "GET /items/{id}", "E/prod/items/{id}", "/items/*"},
		{"$default", "$default", "E/", "/*"},
		{"dev", "GET /", "E/dev/", "/"},
	}
	for _, tt := range tests {
		if got := invokeURL("E", tt.stage, tt.route); got != tt.url {
			t.Errorf("invokeURL(%q, %q) = %q, want %q", tt.stage, tt.route, got, tt.url)
		}
		if got := permissionPath(tt.route); got != tt.perm {
			t.Errorf("permissionPath(%q) = %q, want %q", tt.route, got, tt.perm)
		}
	}
}
