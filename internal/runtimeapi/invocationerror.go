package runtimeapi

import "net/http"

// handleInvocationError serves POST /runtime/invocation/{id}/error: the
// function failed; the body (usually {"errorMessage","errorType","stackTrace"})
// goes to the invoker with X-Amz-Function-Error.
func (e *Environment) handleInvocationError(w http.ResponseWriter, r *http.Request) {
	c, body := e.claimBody(w, r, "InvocationErrorResponse")
	if c == nil {
		return
	}
	fe := postedError(r.Header.Get(headerErrorType), body)
	e.complete(c, Result{Payload: fe.Body, ContentType: contentTypeJSON, Error: fe})
	renderAccepted(w)
}
