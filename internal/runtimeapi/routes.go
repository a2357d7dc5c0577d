package runtimeapi

import (
	"errors"
	"io"
	"net/http"
)

// Runtime API paths, version 2018-06-01.
const (
	pathNext          = "/2018-06-01/runtime/invocation/next"
	pathResponse      = "/2018-06-01/runtime/invocation/{id}/response"
	pathError         = "/2018-06-01/runtime/invocation/{id}/error"
	pathInitError     = "/2018-06-01/runtime/init/error"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
	headerErrorBody   = "Lambda-Runtime-Function-Error-Body"
	contentTypeJSON   = "application/json"
	contentTypeHeader = "Content-Type"
)

func (e *Environment) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathNext, e.handleNext)
	mux.HandleFunc("POST "+pathResponse, e.handleResponse)
	mux.HandleFunc("POST "+pathError, e.handleInvocationError)
	mux.HandleFunc("POST "+pathInitError, e.handleInitError)
	return mux
}

// errTooLarge reports a body over the limit with its full size when known.
type errTooLarge struct{ size int64 }

func (errTooLarge) Error() string { return "request body too large" }

// drainLimit bounds how much of an oversized body is read to report its size.
const drainLimit = 64 << 20

// readBody reads a request body of at most limit bytes. An oversized body
// fails with errTooLarge carrying its size; any other error means the
// request was truncated.
// claimBody claims the invocation a result post names (see claim) and reads
// its body. A body over the response limit completes the invocation with
// Lambda's too-large error; a body cut short leaves it to be posted again.
// Either way, and when the claim fails, the reply is written and the call
// is nil.
func (e *Environment) claimBody(w http.ResponseWriter, r *http.Request, to string) (*call, []byte) {
	c := e.claim(w, r.PathValue("id"), to)
	if c == nil {
		return nil, nil
	}
	body, err := readBody(r, e.maxResponse)
	if size, ok := asTooLarge(err); ok {
		fe := responseTooLargeError(size, e.maxResponse)
		e.complete(c, Result{Payload: fe.Body, ContentType: contentTypeJSON, Error: fe})
		renderTooLarge(w, e.maxResponse)
		return nil, nil
	}
	if err != nil {
		e.release(c)
		renderTruncated(w)
		return nil, nil
	}
	return c, body
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errTooLarge{size: r.ContentLength}
	}
	if r.ContentLength >= 0 {
		buf := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) > limit {
		n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, drainLimit))
		return nil, errTooLarge{size: int64(len(buf)) + n}
	}
	return buf, nil
}

// asTooLarge reports whether err is errTooLarge and its size.
func asTooLarge(err error) (int64, bool) {
	var tl errTooLarge
	if errors.As(err, &tl) {
		return tl.size, true
	}
	return 0, false
}
