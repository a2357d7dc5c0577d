// Package awsapi holds the wire conventions shared by Tarn's AWS-compatible
// control APIs: typed API errors with their AWS codes and HTTP statuses,
// request ids, JSON rendering and the Coral-style validation messages that
// AWS services send for constraint violations.
//
// Each API package (efsapi, lambdaapi, …) returns *Error values from its
// domain code and renders them once, at the edge, with WriteError.
package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is an API error with the AWS error code and HTTP status that clients
// expect. Extra holds additional members of the error body (for example
// FileSystemId on FileSystemAlreadyExists).
type Error struct {
	Status  int
	Code    string
	Message string
	Extra   map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e with an extra body member.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Extra = make(map[string]any, len(e.Extra)+1)
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra[key] = value
	return &c
}

// Validation returns the 400 ValidationException AWS services send when a
// member violates a modelled constraint, worded as they word it:
//
//	1 validation error detected: Value 'x' at 'creationToken' failed to satisfy constraint: Member must …
func Validation(value any, field, constraint string) *Error {
	return &Error{
		Status: http.StatusBadRequest,
		Code:   "ValidationException",
		Message: fmt.Sprintf("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s",
			value, field, constraint),
	}
}

// BodyStyle says how a service shapes the JSON body of an error.
type BodyStyle int

const (
	// EFSStyle bodies are {"ErrorCode": code, "Message": msg, …extra}.
	EFSStyle BodyStyle = iota
	// LambdaStyle bodies are {"Type": "User"|"Service", "message": msg, …extra}.
	LambdaStyle
	// LowerStyle bodies are {"message": msg}, as API Gateway sends them.
	LowerStyle
)

// WriteError renders err. Errors that are not *Error become a 500
// InternalFailure-style error whose message does not leak internals; the
// caller logs the original.
func WriteError(w http.ResponseWriter, r *http.Request, style BodyStyle, err error) {
	var ae *Error
	if !errors.As(err, &ae) {
		code := "ServiceException"
		if style == EFSStyle {
			code = "InternalServerError"
		}
		ae = &Error{Status: http.StatusInternalServerError, Code: code, Message: "internal error, request id " + RequestID(r.Context())}
	}
	body := map[string]any{}
	for k, v := range ae.Extra {
		body[k] = v
	}
	switch style {
	case EFSStyle:
		body["ErrorCode"] = ae.Code
		body["Message"] = ae.Message
	case LambdaStyle:
		typ := "User"
		if ae.Status >= 500 {
			typ = "Service"
		}
		body["Type"] = typ
		body["message"] = ae.Message
	default:
		body["message"] = ae.Message
	}
	w.Header().Set("x-amzn-ErrorType", ae.Code)
	WriteJSON(w, ae.Status, body)
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here; a failure is a programming error.
		status, b = http.StatusInternalServerError, []byte(`{"message":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// DecodeJSON decodes a request body into v, rejecting malformed JSON, trailing
// data and members of the wrong type with a SerializationException-style 400
// that names the problem. Unknown members are ignored, as AWS services do.
func DecodeJSON(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Errorf(http.StatusBadRequest, "SerializationException",
				"member %q: expected %s, got JSON %s", te.Field, te.Type.String(), te.Value)
		}
		return Errorf(http.StatusBadRequest, "SerializationException", "malformed JSON request body: %v", err)
	}
	if dec.More() {
		return Errorf(http.StatusBadRequest, "SerializationException", "malformed JSON request body: data after the top-level value")
	}
	return nil
}

type requestIDKey struct{}

// WithRequestID returns a context carrying id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
