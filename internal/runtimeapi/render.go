package runtimeapi

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error types of the Runtime API's own error responses (RIE rendering).
const (
	errInvalidStateTransition = "InvalidStateTransition"
	errInvalidRequestID       = "InvalidRequestID"
	errEntityTooLarge         = "RequestEntityTooLarge"
	errTruncatedRequest       = "TruncatedHTTPRequest"
)

var acceptedBody = []byte(`{"status":"OK"}` + "\n")

var jsonContentType = []string{"application/json"}

// renderAccepted writes 202 {"status":"OK"}.
func renderAccepted(w http.ResponseWriter) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusAccepted)
	w.Write(acceptedBody)
}

// renderError writes a Runtime API error response {"errorMessage","errorType"}.
func renderError(w http.ResponseWriter, status int, typ, msg string) {
	body, _ := json.Marshal(errorBody{ErrorMessage: msg, ErrorType: typ})
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(body)
}

// renderStateError is 403 InvalidStateTransition for a transition the runtime
// state machine does not allow.
func renderStateError(w http.ResponseWriter, from, to string) {
	renderError(w, http.StatusForbidden, errInvalidStateTransition,
		fmt.Sprintf("State transition from %s to %s failed for runtime. Error: State transition is not allowed", from, to))
}

func renderInvalidRequestID(w http.ResponseWriter) {
	renderError(w, http.StatusBadRequest, errInvalidRequestID, "Invalid request ID")
}

func renderTooLarge(w http.ResponseWriter, limit int64) {
	renderError(w, http.StatusRequestEntityTooLarge, errEntityTooLarge,
		fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", limit))
}

func renderTruncated(w http.ResponseWriter) {
	renderError(w, http.StatusBadRequest, errTruncatedRequest, "HTTP request detected as truncated")
}
