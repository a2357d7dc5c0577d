package gateway

import (
	"testing"

	"tarn.dev/tarn/internal/store"
)

func TestParseRouteKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"$default", true},
		{"ANY /MessageWall", true},
		{"GET /items/{id}", true},
		{"ANY /{proxy+}", true},
		{"GET /", true},
		{"POST /a/{b}/c/{d+}", true},
		{"GET", false},
		{"get /x", false},
		{"FETCH /x", false},
		{"GET x", false},
		{"GET /a//b", false},
		{"GET /a/", false},
		{"GET /{proxy+}/x", false},
		{"GET /a{b}", false},
		{"GET /{}", false},
		{"GET /{a}/{a}", false},
		{"GET /{a b}", false},
		{"$DEFAULT", false},
	}
	for _, tt := range tests {
		k, err := ParseRouteKey(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("ParseRouteKey(%q) error = %v, want ok=%v", tt.key, err, tt.ok)
			continue
		}
		if err == nil && k.String() != tt.key {
			t.Errorf("ParseRouteKey(%q).String() = %q", tt.key, k.String())
		}
	}
}

// The route table of AWS's own example, plus ties broken by specificity.
func TestRouteMatchingPrecedence(t *testing.T) {
	keys := []string{
		"GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default",
		"POST /pets/{kind}/{id}", "POST /pets/cat/{id}", "ANY /pets/dog/1", "GET /", "DELETE /{a}/{b}/{c+}",
	}
	a := compile([]store.APIDefinition{apiDef("x", "2.0", keys, store.Stage{Name: "$default"})}).apis["x"]
	tests := []struct {
		method, path string
		want         string
		params       map[string]string
	}{
		{"GET", "/pets/dog/1", "GET /pets/dog/1", nil},
		{"GET", "/pets/dog/2", "GET /pets/dog/{id}", map[string]string{"id": "2"}},
		{"GET", "/pets/cat/1", "GET /pets/{proxy+}", map[string]string{"proxy": "cat/1"}},
		{"POST", "/pets/dog/1", "POST /pets/{kind}/{id}", map[string]string{"kind": "dog", "id": "1"}},
		{"POST", "/pets/cat/7", "POST /pets/cat/{id}", map[string]string{"id": "7"}},
		{"PUT", "/pets/dog/1", "ANY /pets/dog/1", nil},
		{"PUT", "/pets/dog/2", "ANY /{proxy+}", map[string]string{"proxy": "pets/dog/2"}},
		{"GET", "/", "GET /", nil},
		{"POST", "/", "$default", nil},
		{"DELETE", "/a/b/c/d", "DELETE /{a}/{b}/{c+}", map[string]string{"a": "a", "b": "b", "c": "c/d"}},
		{"DELETE", "/a/b", "ANY /{proxy+}", map[string]string{"proxy": "a/b"}},
		{"FOO", "/pets", "ANY /{proxy+}", map[string]string{"proxy": "pets"}},
		{"GET", "/pets", "ANY /{proxy+}", map[string]string{"proxy": "pets"}},
		{"GET", "/pets/", "ANY /{proxy+}", map[string]string{"proxy": "pets/"}}, // a greedy variable takes one character at least
	}
	for _, tt := range tests {
		segs, err := splitPath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		r, params := a.resolve(tt.method, segs)
		if r == nil {
			t.Errorf("%s %s matched nothing, want %q", tt.method, tt.path, tt.want)
			continue
		}
		if got := r.key.String(); got != tt.want {
			t.Errorf("%s %s matched %q, want %q", tt.method, tt.path, got, tt.want)
		}
		if len(params) != len(tt.params) {
			t.Errorf("%s %s params = %v, want %v", tt.method, tt.path, params, tt.params)
		}
		for k, v := range tt.params {
			if params[k] != v {
				t.Errorf("%s %s params = %v, want %v", tt.method, tt.path, params, tt.params)
			}
		}
	}
}

func TestNoRouteWithoutDefault(t *testing.T) {
	a := compile([]store.APIDefinition{apiDef("x", "2.0", []string{"GET /items/{id}", "ANY /MessageWall"})}).apis["x"]
	for _, tc := range []struct{ method, path string }{
		{"POST", "/items/1"}, {"GET", "/items"}, {"GET", "/items/1/2"}, {"GET", "/messagewall"}, {"GET", "/MessageWall/x"},
	} {
		segs, _ := splitPath(tc.path)
		if r, _ := a.resolve(tc.method, segs); r != nil {
			t.Errorf("%s %s matched %q, want no route", tc.method, tc.path, r.key)
		}
	}
}

func TestFunctionARN(t *testing.T) {
	tests := []struct{ uri, want string }{
		{testARN, testARN},
		{testARN + ":prod", testARN + ":prod"},
		{"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + testARN + "/invocations", testARN},
		{"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + testARN, ""},
		{"https://example.com", ""},
		{"arn:aws:lambda:us-east-1:123456789012:layer:x", ""},
		{"arn:aws:lambda:us-east-1:123456789012:function:", ""},
	}
	for _, tt := range tests {
		got, ok := FunctionARN(tt.uri)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("FunctionARN(%q) = %q, %v; want %q", tt.uri, got, ok, tt.want)
		}
	}
}
