package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestEscapePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"/2015-03-31/functions", "/2015-03-31/functions"},
		{"/a%3Ab", "/a%253Ab"},
		{"/a%20b", "/a%2520b"},
		{"/v/$LATEST", "/v/%24LATEST"},
		{"/~a_b-c.d", "/~a_b-c.d"},
		{"/caf\xc3\xa9", "/caf%C3%A9"},
		{"/a+b=c;d@e", "/a%2Bb%3Dc%3Bd%40e"},
	}
	for _, tt := range tests {
		if got := escapePath(tt.in); got != tt.want {
			t.Errorf("escapePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a/b", "/a/b"},
		{"/a//b", "/a/b"},
		{"/a/./b/", "/a/b/"},
		{"/a/x/../b", "/a/b"},
		{"/../a", "/a"},
		{"//", "/"},
		{"/a/.hidden", "/a/.hidden"},
	}
	for _, tt := range tests {
		if got := normalizePath(tt.in); got != tt.want {
			t.Errorf("normalizePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalQueries(t *testing.T) {
	tests := []struct {
		raw       string
		presigned bool
		want      []string
	}{
		{"", false, []string{""}},
		{"b=2&a=2&a=1", false, []string{"a=1&a=2&b=2"}},
		{"flag&empty=", false, []string{"empty=&flag="}},
		{"sp=a%20b&slash=a%2Fb&dash=a-b", false, []string{"dash=a-b&slash=a%2Fb&sp=a%20b"}},
		// botocore signs a query already in its URL as written.
		{"c=x+y", false, []string{"c=x%20y", "c=x+y"}},
		{"u=%e2%82%ac", false, []string{"u=%E2%82%AC", "u=%e2%82%ac"}},
		{"X-Amz-Signature=abc&X-Amz-Date=1", true, []string{"X-Amz-Date=1"}},
		{"X-Amz-Signature=abc&X-Amz-Date=1", false, []string{"X-Amz-Date=1&X-Amz-Signature=abc"}},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.raw)
		if got := canonicalQueries(tt.raw, q, tt.presigned); !slices.Equal(got, tt.want) {
			t.Errorf("canonicalQueries(%q, presigned=%v) = %q, want %q", tt.raw, tt.presigned, got, tt.want)
		}
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := &http.Request{
		Host:          "tarn.example:9000",
		URL:           &url.URL{Path: "/"},
		ContentLength: 12,
		Header: http.Header{
			"X-Amz-Date": {"20261105T123456Z"},
			"X-Multi":    {" a ", "b   c"},
			"x-lower":    {"set without canonical key"},
		},
	}
	got := canonicalHeaders(r, "content-length;host;x-amz-date;x-lower;x-missing;x-multi")
	want := "content-length:12\nhost:tarn.example:9000\nx-amz-date:20261105T123456Z\n" +
		"x-lower:set without canonical key\nx-missing:\nx-multi:a,b c\n"
	if got != want {
		t.Errorf("canonicalHeaders = %q, want %q", got, want)
	}
}

func TestRawPath(t *testing.T) {
	tests := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"origin form", &http.Request{RequestURI: "/a%3Ab/c?x=1", URL: &url.URL{Path: "/other"}}, "/a%3Ab/c"},
		{"absolute form", &http.Request{RequestURI: "http://h:1/a%20b?x", URL: &url.URL{}}, "/a%20b"},
		{"absolute form without path", &http.Request{RequestURI: "http://h:1", URL: &url.URL{}}, "/"},
		{"in process", &http.Request{URL: &url.URL{Path: "/a:b c"}}, "/a:b%20c"},
		{"in process raw path", &http.Request{URL: &url.URL{Path: "/a:b", RawPath: "/a%3Ab"}}, "/a%3Ab"},
		{"in process opaque", &http.Request{URL: &url.URL{Opaque: "//h/a%3Ab?q"}}, "/a%3Ab"},
		{"empty", &http.Request{URL: &url.URL{}}, "/"},
	}
	for _, tt := range tests {
		if got := rawPath(tt.r); got != tt.want {
			t.Errorf("%s: rawPath = %q, want %q", tt.name, got, tt.want)
		}
	}
}
