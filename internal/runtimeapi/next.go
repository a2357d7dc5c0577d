package runtimeapi

import (
	"net/http"
	"strconv"
	"time"
)

// handleNext serves GET /runtime/invocation/next: it long-polls until an
// invocation is queued and delivers it with its Lambda-Runtime-* headers.
// The first call ends init.
func (e *Environment) handleNext(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	switch e.state {
	case stStarted:
		e.initDuration = time.Since(e.start)
		e.state = stReady
		close(e.ready)
	case stReady, stResponseSent:
	default:
		from := e.state.String()
		e.mu.Unlock()
		renderStateError(w, from, "Ready")
		return
	}
	e.mu.Unlock()

	for {
		var c *call
		select {
		case c = <-e.next:
		case <-e.dead:
			e.mu.Lock()
			from := e.state.String()
			e.mu.Unlock()
			renderStateError(w, from, "Ready")
			return
		case <-r.Context().Done():
			return
		}
		if r.Context().Err() != nil {
			// The poller went away as the event arrived: keep the event for
			// the runtime's next /next (the queue holds one, just emptied).
			e.next <- c
			return
		}
		if e.deliver(c) {
			writeEvent(w, &c.inv)
			return
		}
	}
}

// deliver makes c the outstanding invocation unless Invoke gave up on it.
func (e *Environment) deliver(c *call) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.abandoned || (e.state != stReady && e.state != stResponseSent) {
		return false
	}
	c.delivered = time.Now()
	e.current = c
	e.state = stRunning
	return true
}

var emptyEvent = []byte("{}")

// writeEvent renders an invocation as the /next response. Header keys are
// written in canonical form directly to skip canonicalisation.
func writeEvent(w http.ResponseWriter, inv *Invocation) {
	h := w.Header()
	h["Lambda-Runtime-Aws-Request-Id"] = []string{inv.RequestID}
	if !inv.Deadline.IsZero() {
		h["Lambda-Runtime-Deadline-Ms"] = []string{strconv.FormatInt(inv.Deadline.UnixMilli(), 10)}
	} else {
		// aws-lambda-go fails an invocation whose deadline does not parse:
		// no deadline is sent as a far one.
		h["Lambda-Runtime-Deadline-Ms"] = []string{strconv.FormatInt(time.Now().Add(15*time.Minute).UnixMilli(), 10)}
	}
	h["Lambda-Runtime-Invoked-Function-Arn"] = []string{inv.FunctionARN}
	if inv.TraceID != "" {
		h["Lambda-Runtime-Trace-Id"] = []string{inv.TraceID}
	}
	if inv.ClientContext != "" {
		h["Lambda-Runtime-Client-Context"] = []string{inv.ClientContext}
	}
	if inv.Identity != "" {
		h["Lambda-Runtime-Cognito-Identity"] = []string{inv.Identity}
	}
	if inv.TenantID != "" {
		h["Lambda-Runtime-Aws-Tenant-Id"] = []string{inv.TenantID}
	}
	ct := inv.ContentType
	if ct == "" {
		ct = contentTypeJSON
	}
	h[contentTypeHeader] = []string{ct}
	payload := inv.Payload
	if len(payload) == 0 {
		payload = emptyEvent
	}
	h["Content-Length"] = []string{strconv.Itoa(len(payload))}
	w.WriteHeader(http.StatusOK)
	w.Write(payload)
}
