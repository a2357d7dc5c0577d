package runtimeapi

import (
	"encoding/base64"
	"net/http"
)

// handleResponse serves POST /runtime/invocation/{id}/response: the body is
// the invocation's result, its Content-Type passed on to the invoker.
func (e *Environment) handleResponse(w http.ResponseWriter, r *http.Request) {
	c, body := e.claimBody(w, r, "InvocationResponse")
	if c == nil {
		return
	}
	// A runtime whose response body failed mid-stream (aws-lambda-go) names
	// the error in trailers, readable once the body is consumed.
	if typ := r.Trailer.Get(headerErrorType); typ != "" {
		errBody, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(headerErrorBody))
		fe := postedError(typ, errBody)
		e.complete(c, Result{Payload: fe.Body, ContentType: contentTypeJSON, Error: fe})
		renderAccepted(w)
		return
	}
	e.complete(c, Result{Payload: body, ContentType: r.Header.Get(contentTypeHeader)})
	renderAccepted(w)
}
