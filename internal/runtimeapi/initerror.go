package runtimeapi

import "net/http"

// handleInitError serves POST /runtime/init/error: init failed before the
// first /next. The error is what every invocation of this environment
// returns; the runtime is expected to exit.
func (e *Environment) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, e.maxResponse)
	if _, ok := asTooLarge(err); ok {
		renderTooLarge(w, e.maxResponse)
		return
	}
	if err != nil {
		renderTruncated(w)
		return
	}
	fe := postedError(r.Header.Get(headerErrorType), body)
	e.mu.Lock()
	if e.state != stStarted {
		from := e.state.String()
		e.mu.Unlock()
		renderStateError(w, from, "InitError")
		return
	}
	e.state = stInitError
	e.initErr = fe
	e.kill()
	e.mu.Unlock()
	renderAccepted(w)
}
