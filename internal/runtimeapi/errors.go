package runtimeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Error types reported to the invoker when the function fails outside of its
// own code. The names are Lambda's.
const (
	ErrorTypeTimedOut             = "Sandbox.Timedout"
	ErrorTypeExit                 = "Runtime.ExitError"
	ErrorTypeResponseSizeTooLarge = "Function.ResponseSizeTooLarge"
	ErrorTypeUnhandled            = "Unhandled"
)

// Errors returned by Invoke and WaitReady. Any of them except ErrBusy means the
// environment must be reset.
var (
	ErrBusy          = errors.New("an invocation is already in progress")
	ErrTimedOut      = errors.New("invocation timed out")
	ErrRuntimeExited = errors.New("runtime exited")
	ErrInitFailed    = errors.New("runtime init failed")
)

// FunctionError is a failed invocation as Lambda reports it: Type is the
// error type (what the runtime posted, or one of the ErrorType constants),
// Message the human-readable text, Body the JSON payload returned to the
// invoker with X-Amz-Function-Error: Unhandled.
type FunctionError struct {
	Type    string
	Message string
	Body    []byte
}

func (e *FunctionError) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// errorBody is the JSON shape of Lambda error payloads.
type errorBody struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// newFunctionError renders a platform-generated error with its JSON body.
func newFunctionError(typ, msg string) *FunctionError {
	body, _ := json.Marshal(errorBody{ErrorMessage: msg, ErrorType: typ})
	return &FunctionError{Type: typ, Message: msg, Body: body}
}

// postedError builds the FunctionError for an /error or /init/error post:
// the type comes from the header, else the body's errorType, else Unhandled.
// A non-empty body is passed through as posted.
func postedError(headerType string, body []byte) *FunctionError {
	var parsed errorBody
	if len(body) > 0 {
		_ = json.Unmarshal(body, &parsed) // a body that is not an error object keeps its bytes, only loses the fields
	}
	typ := headerType
	if typ == "" {
		typ = parsed.ErrorType
	}
	if typ == "" {
		typ = ErrorTypeUnhandled
	}
	if len(body) == 0 {
		return newFunctionError(typ, "")
	}
	return &FunctionError{Type: typ, Message: parsed.ErrorMessage, Body: body}
}

// TimeoutError is the Sandbox.Timedout error for request id after timeout, as
// Lambda returns it: "RequestId: <id> Error: Task timed out after 3.00 seconds".
func TimeoutError(requestID string, timeout time.Duration) *FunctionError {
	return newFunctionError(ErrorTypeTimedOut,
		fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", requestID, timeout.Seconds()))
}

// ExitError is the Runtime.ExitError for a runtime that exited with err
// (nil: exited with status 0) while serving request id. A *FunctionError err
// (e.g. Runtime.OutOfMemory from the sandbox) is returned as it is.
func ExitError(requestID string, err error) *FunctionError {
	var fe *FunctionError
	if errors.As(err, &fe) {
		return fe
	}
	reason := "Runtime exited without providing a reason"
	if err != nil {
		reason = "Runtime exited with error: " + err.Error()
	}
	if requestID != "" {
		return newFunctionError(ErrorTypeExit, "RequestId: "+requestID+" Error: "+reason)
	}
	return newFunctionError(ErrorTypeExit, "Error: "+reason)
}

// responseTooLargeError is Function.ResponseSizeTooLarge for a response of
// size bytes over limit.
func responseTooLargeError(size, limit int64) *FunctionError {
	return newFunctionError(ErrorTypeResponseSizeTooLarge,
		fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", size, limit))
}
