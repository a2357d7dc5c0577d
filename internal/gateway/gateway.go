package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"tarn.dev/tarn/internal/store"
)

// Limits of an HTTP API, as API Gateway sets them.
const (
	MaxBody         = 10 << 20 // request payload
	MaxHeaderBytes  = 10240    // request line and headers
	MaxTimeout      = 30 * time.Second
	DefaultListen   = "127.0.0.1:7751"
	defaultCacheAge = 5 * time.Second
)

// Errors an Invoker returns for failures the gateway answers specially.
var (
	// ErrThrottled: the function is at its concurrency limit.
	ErrThrottled = errors.New("function throttled")
	// ErrTooLarge: the event is larger than the function accepts.
	ErrTooLarge = errors.New("request too large for the function")
)

// Invoker runs a function synchronously. result is the function's response
// payload; functionError is non-empty (e.g. "Unhandled") when the function
// failed, and result then holds the error document. err reports failures
// that kept the function from running; wrap ErrThrottled or ErrTooLarge
// where they apply.
type Invoker interface {
	InvokeFunction(ctx context.Context, functionARN string, payload []byte) (result []byte, functionError string, err error)
}

// Config configures the gateway. The zero value of each optional field means
// its default.
type Config struct {
	Source    Source  // the API records (required)
	Invoker   Invoker // runs functions (required)
	AccountID string
	Region    string
	// Authorize decides whether the API may invoke the function (Lambda's
	// resource policy for apigateway.amazonaws.com and sourceARN); nil
	// allows every invocation. A refusal is answered with 500, as AWS does.
	Authorize func(ctx context.Context, functionARN, sourceARN string) error
	// Timeout caps every integration's timeout; nil means MaxTimeout.
	Timeout *time.Duration
	// ThrottleStatus answers ErrThrottled; 0 means 500, as the spec assumes
	// for HTTP APIs (function URLs answer 429).
	ThrottleStatus int
	// CacheAge bounds how long routes are served from memory without a
	// reload; Invalidate reloads sooner. Nil means 5 s.
	CacheAge *time.Duration
	Log      *slog.Logger     // nil: slog.Default()
	Now      func() time.Time // nil: time.Now
	Rand     io.Reader        // request and trace ids; nil: crypto/rand
}

// Handler is the data plane of HTTP APIs.
type Handler struct {
	cfg   Config
	cache *cache
}

var _ http.Handler = (*Handler)(nil)

// New returns the gateway handler.
func New(cfg Config) *Handler {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.ThrottleStatus == 0 {
		cfg.ThrottleStatus = http.StatusInternalServerError
	}
	age := defaultCacheAge
	if cfg.CacheAge != nil {
		age = *cfg.CacheAge
	}
	return &Handler{cfg: cfg, cache: &cache{src: cfg.Source, maxAge: age, now: cfg.Now}}
}

// Invalidate makes the next request reload the routes; the management API
// calls it after every change.
func (h *Handler) Invalidate() { h.cache.invalidate() }

// gatewayError is an answer the gateway makes itself.
type gatewayError struct {
	status int
	reason string // for the log
}

func (e *gatewayError) Error() string { return e.reason }

func fail(status int, format string, args ...any) *gatewayError {
	return &gatewayError{status: status, reason: fmt.Sprintf(format, args...)}
}

var messages = map[int]string{
	http.StatusBadRequest:                  "Bad Request",
	http.StatusNotFound:                    "Not Found",
	http.StatusRequestEntityTooLarge:       "Request Entity Too Large",
	http.StatusRequestHeaderFieldsTooLarge: "Request Header Fields Too Large",
	http.StatusTooManyRequests:             "Too Many Requests",
	http.StatusInternalServerError:         "Internal Server Error",
	http.StatusServiceUnavailable:          "Service Unavailable",
}

// ServeHTTP serves one data-plane request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	reqID, traceID := h.ids(start)
	w.Header().Set("Apigw-Requestid", reqID)
	written := false
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.cfg.Log.Error("gateway panic", "request_id", reqID, "panic", fmt.Sprint(p))
			if !written {
				h.writeError(w, reqID, http.StatusInternalServerError)
			}
		}
	}()
	resp, err := h.serve(r, reqID, traceID, start)
	written = true
	if err != nil {
		var ge *gatewayError
		if !errors.As(err, &ge) {
			ge = &gatewayError{status: http.StatusInternalServerError, reason: err.Error()}
		}
		if r.Context().Err() != nil && ge.status == http.StatusServiceUnavailable {
			return // the client went away
		}
		level := slog.LevelWarn
		if ge.status >= 500 {
			level = slog.LevelError
		}
		h.cfg.Log.Log(r.Context(), level, "gateway request failed", "request_id", reqID, "method", r.Method,
			"path", r.URL.Path, "status", ge.status, "reason", ge.reason)
		h.writeError(w, reqID, ge.status)
		return
	}
	hdr := w.Header()
	for k, v := range resp.header {
		hdr[k] = v
	}
	if _, ok := resp.header["Content-Type"]; !ok {
		hdr["Content-Type"] = nil // no sniffing: send none, as the function gave none
	}
	w.WriteHeader(resp.status)
	w.Write(resp.body)
}

func (h *Handler) writeError(w http.ResponseWriter, reqID string, status int) {
	msg, ok := messages[status]
	if !ok {
		msg = http.StatusText(status)
	}
	b, _ := marshal(map[string]string{"message": msg})
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Apigw-Requestid", reqID)
	w.WriteHeader(status)
	w.Write(b)
}

// ids returns a request id in API Gateway's short form and an X-Ray style
// trace id.
func (h *Handler) ids(at time.Time) (string, string) {
	var b [23]byte
	io.ReadFull(h.cfg.Rand, b[:])
	return base64.URLEncoding.EncodeToString(b[:11]),
		fmt.Sprintf("Root=1-%08x-%s", at.Unix(), hex.EncodeToString(b[11:]))
}

func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len(r.Host) + 8
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// splitPath splits an escaped path into decoded segments (after the
// leading slash); %2F stays inside its segment.
func splitPath(escaped string) ([]string, error) {
	if escaped == "" || escaped == "/" {
		return nil, nil
	}
	parts := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for n, p := range parts {
		d, err := url.PathUnescape(p)
		if err != nil {
			return nil, err
		}
		parts[n] = d
	}
	return parts, nil
}

func (h *Handler) serve(r *http.Request, reqID, traceID string, at time.Time) (*response, error) {
	if headerBytes(r) > MaxHeaderBytes {
		return nil, fail(http.StatusRequestHeaderFieldsTooLarge, "request line and headers exceed %d bytes", MaxHeaderBytes)
	}
	// The request target as the client wrote it, when there is one: the
	// path's escapes as sent, not as url.URL would re-encode them.
	escaped := r.URL.EscapedPath()
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		escaped, _, _ = strings.Cut(u, "?")
	}
	if r.URL.Opaque != "" || !strings.HasPrefix(escaped, "/") {
		return nil, fail(http.StatusBadRequest, "malformed request path %q", r.RequestURI)
	}
	segs, err := splitPath(escaped)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "malformed request path %q: %v", escaped, err)
	}
	if r.ContentLength > MaxBody {
		return nil, fail(http.StatusRequestEntityTooLarge, "request body of %d bytes exceeds %d", r.ContentLength, MaxBody)
	}
	t, err := h.cache.get(r.Context())
	if t == nil {
		return nil, err
	}
	if err != nil {
		h.cfg.Log.Warn("gateway routes", "request_id", reqID, "err", err)
	}

	// The API: by host name (<apiId>.anything), else by a leading /<apiId>
	// segment, else the only API there is.
	host := r.Host
	a := t.apis[domainPrefix(hostName(host))]
	if a == nil && len(segs) > 0 {
		if a = t.apis[segs[0]]; a != nil {
			segs = segs[1:]
			escaped = escaped[1+len(escapedFirst(escaped)):]
			if escaped == "" {
				escaped = "/"
			}
		}
	}
	if a == nil {
		a = t.only
	}
	if a == nil {
		return nil, fail(http.StatusNotFound, "no API for host %q and path %q", host, r.URL.Path)
	}

	// The stage: a leading segment naming one, else $default.
	rawPath := escaped
	stage, routeSegs := a.stages["$default"], segs
	if len(segs) > 0 {
		if st := a.stages[segs[0]]; st != nil && segs[0] != "$default" {
			stage, routeSegs = st, segs[1:]
		}
	}
	if stage == nil {
		return nil, fail(http.StatusNotFound, "api %s has no stage for path %q", a.id, r.URL.Path)
	}
	rt, params := a.resolve(r.Method, routeSegs)
	if rt == nil {
		return nil, fail(http.StatusNotFound, "api %s stage %s: no route for %s %s", a.id, stage.Name, r.Method, r.URL.Path)
	}
	in := rt.integration
	if in == nil {
		return nil, fail(http.StatusNotFound, "api %s route %q has no integration", a.id, rt.key)
	}
	fn, ok := FunctionARN(in.URI)
	if in.Type != "AWS_PROXY" || !ok {
		return nil, fail(http.StatusInternalServerError, "api %s integration %s: unsupported %s %q", a.id, in.ID, in.Type, in.URI)
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fail(http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", mbe.Limit)
		}
		return nil, fail(http.StatusBadRequest, "reading request body: %v", err)
	}
	if len(body) > MaxBody {
		return nil, fail(http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", MaxBody)
	}

	req := &inbound{
		method: r.Method, protocol: r.Proto, rawPath: rawPath, path: decodedPath(segs), rawQuery: r.URL.RawQuery,
		header: r.Header, host: host, sourceIP: remoteIP(r.RemoteAddr), forwardedPort: localPort(r),
		body: body, requestID: reqID, traceID: traceID, at: at,
	}
	m := &matched{accountID: h.cfg.AccountID, apiID: a.id, stage: stage.Name, stageVariables: stage.Variables,
		routeKey: rt.key, pathParameters: params}
	var payload []byte
	v1 := in.PayloadFormatVersion == "1.0"
	if v1 {
		payload, err = marshal(eventV1For(req, m))
	} else {
		payload, err = marshal(eventV2For(req, m))
	}
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}

	if h.cfg.Authorize != nil {
		src := fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s%s", h.cfg.Region, h.cfg.AccountID, a.id, stage.Name, r.Method, req.path)
		if err := h.cfg.Authorize(r.Context(), fn, src); err != nil {
			return nil, fail(http.StatusInternalServerError, "api %s may not invoke %s: %v", a.id, fn, err)
		}
	}
	result, fnErr, err := h.invoke(r.Context(), fn, payload, h.timeout(in))
	if err != nil {
		return nil, err
	}
	if fnErr != "" {
		return nil, fail(http.StatusInternalServerError, "function %s failed (%s): %.512s", fn, fnErr, result)
	}
	var resp *response
	if v1 {
		resp, err = mapResultV1(result)
	} else {
		resp, err = mapResultV2(result)
	}
	if err != nil {
		return nil, fail(http.StatusInternalServerError, "function %s: %v", fn, err)
	}
	return resp, nil
}

// escapedFirst returns the first segment of an escaped path.
func escapedFirst(escaped string) string {
	s := strings.TrimPrefix(escaped, "/")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}

func decodedPath(segs []string) string {
	return "/" + strings.Join(segs, "/")
}

func (h *Handler) timeout(in *store.Integration) time.Duration {
	limit := MaxTimeout
	if h.cfg.Timeout != nil {
		limit = *h.cfg.Timeout
	}
	if in.TimeoutMillis > 0 {
		if d := time.Duration(in.TimeoutMillis) * time.Millisecond; d < limit {
			return d
		}
	}
	return limit
}

type invocation struct {
	result []byte
	fnErr  string
	err    error
}

// invoke runs the function, giving up after timeout. The invocation itself
// is not cancelled by the timeout or by the client leaving: as in AWS, the
// function runs to its own end.
func (h *Handler) invoke(ctx context.Context, fn string, payload []byte, timeout time.Duration) ([]byte, string, error) {
	done := make(chan invocation, 1)
	go func() {
		var out invocation
		defer func() {
			if p := recover(); p != nil {
				out.err = fmt.Errorf("invoker panic: %v", p)
			}
			done <- out
		}()
		out.result, out.fnErr, out.err = h.cfg.Invoker.InvokeFunction(context.WithoutCancel(ctx), fn, payload)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case out := <-done:
		switch {
		case out.err == nil:
			return out.result, out.fnErr, nil
		case errors.Is(out.err, ErrThrottled):
			return nil, "", fail(h.cfg.ThrottleStatus, "function %s: %v", fn, out.err)
		case errors.Is(out.err, ErrTooLarge):
			return nil, "", fail(http.StatusRequestEntityTooLarge, "function %s: %v", fn, out.err)
		}
		return nil, "", fail(http.StatusInternalServerError, "invoke %s: %v", fn, out.err)
	case <-timer.C:
		return nil, "", fail(http.StatusServiceUnavailable, "function %s gave no answer within the integration timeout of %v", fn, timeout)
	case <-ctx.Done():
		return nil, "", fail(http.StatusServiceUnavailable, "client went away: %v", ctx.Err())
	}
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(a.String()); err == nil {
			return port
		}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		return port
	}
	return "80"
}

// FunctionARN returns the Lambda function ARN an AWS_PROXY integration URI
// names: a function ARN itself, or the API Gateway form
// arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations.
func FunctionARN(uri string) (string, bool) {
	if rest, ok := strings.CutPrefix(uri, "arn:"); ok && strings.Contains(rest, ":apigateway:") {
		_, after, ok := strings.Cut(uri, ":lambda:path/2015-03-31/functions/")
		if !ok {
			return "", false
		}
		uri, ok = strings.CutSuffix(after, "/invocations")
		if !ok {
			return "", false
		}
	}
	parts := strings.Split(uri, ":")
	if len(parts) < 7 || len(parts) > 8 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" || parts[6] == "" {
		return "", false
	}
	return uri, true
}
