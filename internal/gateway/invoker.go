package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
)

// LambdaHandler is an Invoker over an in-process Lambda API handler: each
// invocation is a RequestResponse Invoke (POST
// /2015-03-31/functions/ARN/invocations) served by Handler without a
// network hop. 429 becomes ErrThrottled, 413 ErrTooLarge, and
// X-Amz-Function-Error the function error.
type LambdaHandler struct {
	Handler http.Handler
}

var _ Invoker = LambdaHandler{}

// InvokeFunction implements Invoker.
func (l LambdaHandler) InvokeFunction(ctx context.Context, functionARN string, payload []byte) ([]byte, string, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"/2015-03-31/functions/"+url.PathEscape(functionARN)+"/invocations", bytes.NewReader(payload))
	if err != nil {
		return nil, "", fmt.Errorf("invoke %s: %w", functionARN, err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	w := httptest.NewRecorder()
	l.Handler.ServeHTTP(w, r)
	body := w.Body.Bytes()
	switch w.Code {
	case http.StatusOK:
		return body, w.Header().Get("X-Amz-Function-Error"), nil
	case http.StatusTooManyRequests:
		return nil, "", fmt.Errorf("invoke %s: %s: %w", functionARN, body, ErrThrottled)
	case http.StatusRequestEntityTooLarge:
		return nil, "", fmt.Errorf("invoke %s: %s: %w", functionARN, body, ErrTooLarge)
	}
	return nil, "", fmt.Errorf("invoke %s: status %d %s: %.512s", functionARN, w.Code, w.Header().Get("X-Amzn-ErrorType"), body)
}
