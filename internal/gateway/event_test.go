package gateway

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tarn.dev/tarn/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestEventGolden(t *testing.T) {
	wallStage := store.Stage{Name: "default", AutoDeploy: true, Variables: map[string]string{"k": "v"}}
	dflt := store.Stage{Name: "$default", AutoDeploy: true}
	wall := []string{"ANY /MessageWall"}
	tests := []struct {
		name     string
		defs     []store.APIDefinition
		method   string
		target   string
		body     string
		header   [][2]string
		wantPath string // rawPath the event must carry
	}{
		{name: "messagewall_post_v2", defs: []store.APIDefinition{apiDef("abc1234567", "2.0", wall, wallStage)},
			method: "POST", target: "/default/MessageWall?a=1&a=2", body: "Hello from EFS!",
			header:   [][2]string{{"Content-Type", "text/plain"}, {"User-Agent", "curl/7.58.0"}, {"Cookie", "c1=v1; c2=v2"}},
			wantPath: "/default/MessageWall"},
		{name: "messagewall_post_v1", defs: []store.APIDefinition{apiDef("abc1234567", "1.0", wall, wallStage)},
			method: "POST", target: "/default/MessageWall?a=1&a=2", body: "Hello from EFS!",
			header: [][2]string{{"Content-Type", "text/plain"}, {"User-Agent", "curl/7.58.0"}, {"Cookie", "c1=v1"}}},
		{name: "get_no_body_path_parameter", defs: []store.APIDefinition{apiDef("abc1234567", "2.0", []string{"GET /items/{id}"}, dflt)},
			method: "GET", target: "/items/42", wantPath: "/items/42"},
		{name: "greedy_proxy_decodes_each_segment", defs: []store.APIDefinition{apiDef("abc1234567", "2.0", []string{"ANY /files/{proxy+}"}, dflt)},
			method: "PUT", target: "/files/a/b%2Fc.txt", body: `{"x":1}`, header: [][2]string{{"Content-Type", "application/json; charset=utf-8"}},
			wantPath: "/files/a/b%2Fc.txt"},
		{name: "form_body_is_base64", defs: []store.APIDefinition{apiDef("abc1234567", "2.0", wall, wallStage)},
			method: "POST", target: "/default/MessageWall", body: "msg=hi+there",
			header: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}},
		{name: "binary_without_content_type_is_base64", defs: []store.APIDefinition{apiDef("abc1234567", "2.0", wall, wallStage)},
			method: "POST", target: "/default/MessageWall", body: "\xff\x00\x01binary"},
		{name: "non_utf8_text_is_base64", defs: []store.APIDefinition{apiDef("abc1234567", "2.0", wall, wallStage)},
			method: "POST", target: "/default/MessageWall", body: "caf\xe9", header: [][2]string{{"Content-Type", "text/plain; charset=latin1"}}},
		{name: "duplicate_headers_and_malformed_query", defs: []store.APIDefinition{apiDef("abc1234567", "2.0", []string{"$default"}, dflt)},
			method: "GET", target: "/any/where?q=%zz&x=%41%42&flag&x=c",
			header: [][2]string{{"X-Multi", "a"}, {"X-Multi", "b"}, {"X-Forwarded-For", "9.9.9.9"}, {"X-Amzn-Trace-Id", "Root=client"}}},
		{name: "api_id_prefix_with_two_apis", defs: []store.APIDefinition{apiDef("abc1234567", "2.0", wall, wallStage),
			apiDef("zzz9999999", "2.0", wall, wallStage)},
			method: "GET", target: "/abc1234567/default/MessageWall", wantPath: "/default/MessageWall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &returning{result: `{"statusCode": 200}`}
			h, _ := newHandler(t, inv, tt.defs...)
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			r.Host = "abc1234567.localhost:7751"
			if strings.HasPrefix(tt.target, "/abc1234567/") {
				r.Host = "127.0.0.1:7751"
			}
			for _, kv := range tt.header {
				r.Header.Add(kv[0], kv[1])
			}
			if tt.body != "" {
				r.Header.Set("Content-Length", itoa(len(tt.body)))
			}
			w := serve(h, r)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, body %s", w.Code, w.Body)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, inv.last(), "", "  "); err != nil {
				t.Fatalf("event is not JSON: %v\n%s", err, inv.last())
			}
			got.WriteByte('\n')
			if tt.wantPath != "" && !strings.Contains(got.String(), `"rawPath": "`+tt.wantPath+`"`) {
				t.Errorf("event rawPath is not %q:\n%s", tt.wantPath, got.String())
			}
			file := filepath.Join("testdata", tt.name+".json")
			if *update {
				if err := os.WriteFile(file, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("event differs from %s:\ngot:\n%s\nwant:\n%s", file, got.Bytes(), want)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
