package runtimeapi

import "net/http"

// handleInvocationError serves POST /runtime/invocation/{id}/error: the
// function failed; the body (usually {"errorMessage","errorType","stackTrace"})
// goes to the invoker with X-Amz-Function-Error.
func (e *Environment) handleInvocationError(w http.ResponseWriter, r *http.Request) {
	c := e.claim(w, r.PathValue("id"), "InvocationErrorResponse")
	if c == nil {
		return
	}
	body, err := readBody(r, e.maxResponse)
	if size, ok := asTooLarge(err); ok {
		fe := responseTooLargeError(size, e.maxResponse)
		e.complete(c, Result{Payload: fe.Body, ContentType: contentTypeJSON, Error: fe})
		renderTooLarge(w, e.maxResponse)
		return
	}
	if err != nil {
		e.release(c)
		renderTruncated(w)
		return
	}
	fe := postedError(r.Header.Get(headerErrorType), body)
	e.complete(c, Result{Payload: fe.Body, ContentType: contentTypeJSON, Error: fe})
	renderAccepted(w)
}
