package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
)

func TestLambdaHandlerMapsInvokeAnswers(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		fnErr     string
		wantErr   error
		wantFnErr string
	}{
		{"ok", 200, "", nil, ""},
		{"function error", 200, "Unhandled", nil, "Unhandled"},
		{"throttled", 429, "", ErrThrottled, ""},
		{"too large", 413, "", ErrTooLarge, ""},
		{"not found", 404, "", errors.New("any"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotPath string
			var gotBody []byte
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotPath = r.URL.EscapedPath()
				gotBody, _ = io.ReadAll(r.Body)
				if tt.fnErr != "" {
					w.Header().Set("X-Amz-Function-Error", tt.fnErr)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(`"result"`))
			})
			res, fnErr, err := LambdaHandler{Handler: h}.InvokeFunction(context.Background(), testARN, []byte(`{"a":1}`))
			if want := "/2015-03-31/functions/" + "arn:aws:lambda:us-east-1:123456789012:function:MessageWall" + "/invocations"; gotPath != want || string(gotBody) != `{"a":1}` {
				t.Errorf("request %s %s, want %s", gotPath, gotBody, want)
			}
			switch {
			case tt.wantErr == nil && (err != nil || string(res) != `"result"` || fnErr != tt.wantFnErr):
				t.Errorf("= %s, %q, %v", res, fnErr, err)
			case tt.wantErr != nil && err == nil:
				t.Errorf("err = nil, want %v", tt.wantErr)
			case tt.wantErr == ErrThrottled || tt.wantErr == ErrTooLarge:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			}
		})
	}
}
