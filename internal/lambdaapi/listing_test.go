package lambdaapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestListingsShareMaxItemsMarkerAndPaging checks that every listing reads
// MaxItems and Marker alike and pages under its own member name.
func TestListingsShareMaxItemsMarkerAndPaging(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.create("f")
	w.create("g")
	fn := aws.String("f")
	if _, err := w.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a1", "a2"} {
		if _, err := w.client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String(name), FunctionVersion: aws.String("1")}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) (int, map[string]json.RawMessage, string) {
		t.Helper()
		resp, err := http.Get(w.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var out map[string]json.RawMessage
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, body)
		}
		return resp.StatusCode, out, resp.Header.Get("X-Amzn-Errortype")
	}
	listings := []struct{ path, member string }{
		{"/2015-03-31/functions?FunctionVersion=ALL", "Functions"}, // f, f:1, g
		{"/2015-03-31/functions/f/versions?", "Versions"},          // $LATEST, 1
		{"/2015-03-31/functions/f/aliases?", "Aliases"},            // a1, a2
	}
	for _, l := range listings {
		for _, bad := range []struct{ query, code string }{
			{"&MaxItems=x", "ValidationException"},
			{"&MaxItems=0", "ValidationException"},
			{"&MaxItems=10001", "ValidationException"},
			{"&Marker=@@", "InvalidParameterValueException"},
		} {
			if status, _, code := get(l.path + bad.query); status != http.StatusBadRequest || code != bad.code {
				t.Errorf("GET %s%s = %d %s, want 400 %s", l.path, bad.query, status, code, bad.code)
			}
		}
		status, page1, _ := get(l.path + "&MaxItems=1")
		var items []json.RawMessage
		json.Unmarshal(page1[l.member], &items)
		var next string
		json.Unmarshal(page1["NextMarker"], &next)
		if status != http.StatusOK || len(items) != 1 || next == "" {
			t.Fatalf("GET %s&MaxItems=1 = %d, %d %s, NextMarker %q", l.path, status, len(items), l.member, next)
		}
		status, rest, _ := get(l.path + "&Marker=" + next)
		json.Unmarshal(rest[l.member], &items)
		if _, ok := rest["NextMarker"]; status != http.StatusOK || len(items) == 0 || ok {
			t.Errorf("GET %s from the marker = %d, %d %s, NextMarker present %v", l.path, status, len(items), l.member, ok)
		}
		status, past, _ := get(l.path + "&Marker=OTk") // offset 99
		if string(past[l.member]) != "[]" || status != http.StatusOK {
			t.Errorf("GET %s past the end = %d, %s = %s, want []", l.path, status, l.member, past[l.member])
		}
	}
}
