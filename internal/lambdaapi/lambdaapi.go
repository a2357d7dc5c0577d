// The Lambda API (rest-json, SigV4 service name "lambda") over Tarn's
// control-plane store: functions and their code, versions, aliases,
// concurrency, resource policies, and Invoke, which hands resolved
// invocations to a Runner.

package lambdaapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

// Limits of the Lambda API, as AWS sets them.
const (
	DefaultMaxZipBytes      = 52428800  // 50 MB, direct upload
	DefaultMaxUnzippedBytes = 262144000 // 250 MB
	DefaultConcurrency      = 1000      // account concurrency
	MinUnreserved           = 100       // unreserved concurrency the account keeps
	MaxSyncPayload          = 6291456   // RequestResponse request and response
	MaxAsyncPayload         = 1048576   // Event request
	TotalCodeSize           = 80530636800
	logTailBytes            = 4096
	maxClientContext        = 3583
	maxListItems            = 50
)

// Config configures the API. Zero fields mean the defaults.
type Config struct {
	Store     *store.Store
	AccountID string
	Region    string
	// CodeRoot is where deployment packages are unpacked:
	// <CodeRoot>/<function>/<hex sha256>/.
	CodeRoot string
	// Runner runs invocations; nil answers every Invoke with a
	// ServiceException.
	Runner Runner
	// CheckRole decides whether roleArn may be the execution role of a
	// function mounting the given access points (ARNs): the role exists,
	// trusts lambda.amazonaws.com and allows elasticfilesystem:ClientMount on
	// each. Its error message completes "The provided execution role does
	// not have permissions to call …"-style answers; nil allows every role.
	CheckRole func(ctx context.Context, roleArn string, accessPoints []string) error
	// Logs serves GET …/functions/{name}/tarn-logs; nil answers it with 404.
	Logs Logs
	// Authorize decides whether the caller of ctx may perform action
	// (lambda:<Operation>) on resource (a function ARN); nil allows all.
	Authorize func(ctx context.Context, action, resource string) error

	// SettleDelay is how long a function stays Pending after creation, and an
	// update InProgress (default 1s).
	SettleDelay *time.Duration
	// RetryDelays are the waits before the retries of a failed Event
	// invocation (default 1 min, 2 min: two retries).
	RetryDelays []time.Duration
	// ThrottleDelay is the wait before an Event invocation that was
	// throttled is tried again (default 1s, doubling up to 5 min).
	ThrottleDelay *time.Duration
	// MaxEventAge is how long an event may wait in the queue (default 6 h).
	MaxEventAge *time.Duration

	MaxZipBytes          int64 // default DefaultMaxZipBytes
	MaxUnzippedBytes     int64 // default DefaultMaxUnzippedBytes
	ConcurrentExecutions int   // account limit, default DefaultConcurrency

	Now func() time.Time // default time.Now
	Log *slog.Logger     // default slog.Default()
}

// API is the Lambda control API handler. Close stops its background work.
type API struct {
	cfg         Config
	mux         *http.ServeMux
	settleDelay time.Duration
	throttle    time.Duration
	maxAge      time.Duration

	mu sync.Mutex // serialises changes of function records

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	bgMu   sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup
	wake   chan struct{} // nudges the event worker
}

// New returns the Lambda API handler and starts its background work: the
// Event queue worker (which first takes back events a previous process had
// claimed) and the settling of functions left Pending or InProgress.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.RetryDelays == nil {
		cfg.RetryDelays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	if cfg.MaxZipBytes == 0 {
		cfg.MaxZipBytes = DefaultMaxZipBytes
	}
	if cfg.MaxUnzippedBytes == 0 {
		cfg.MaxUnzippedBytes = DefaultMaxUnzippedBytes
	}
	if cfg.ConcurrentExecutions == 0 {
		cfg.ConcurrentExecutions = DefaultConcurrency
	}
	a := &API{cfg: cfg, mux: http.NewServeMux(), wake: make(chan struct{}, 1),
		settleDelay: durationOr(cfg.SettleDelay, time.Second),
		throttle:    durationOr(cfg.ThrottleDelay, time.Second),
		maxAge:      durationOr(cfg.MaxEventAge, 6*time.Hour)}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	type route struct {
		action string
		h      func(*http.Request) (int, any, error)
	}
	const fn = "/2015-03-31/functions/{FunctionName}"
	routes := map[string]route{
		"POST /2015-03-31/functions":                                          {"CreateFunction", a.createFunction},
		"POST /2015-03-31/functions/":                                         {"CreateFunction", a.createFunction},
		"GET /2015-03-31/functions":                                           {"ListFunctions", a.listFunctions},
		"GET /2015-03-31/functions/":                                          {"ListFunctions", a.listFunctions},
		"GET " + fn:                                                           {"GetFunction", a.getFunction},
		"DELETE " + fn:                                                        {"DeleteFunction", a.deleteFunction},
		"GET " + fn + "/configuration":                                        {"GetFunctionConfiguration", a.getFunctionConfiguration},
		"PUT " + fn + "/configuration":                                        {"UpdateFunctionConfiguration", a.updateFunctionConfiguration},
		"PUT " + fn + "/code":                                                 {"UpdateFunctionCode", a.updateFunctionCode},
		"POST " + fn + "/invocations":                                         {"InvokeFunction", a.invoke},
		"POST " + fn + "/versions":                                            {"PublishVersion", a.publishVersion},
		"GET " + fn + "/versions":                                             {"ListVersionsByFunction", a.listVersions},
		"POST " + fn + "/aliases":                                             {"CreateAlias", a.createAlias},
		"GET " + fn + "/aliases":                                              {"ListAliases", a.listAliases},
		"GET " + fn + "/aliases/{Name}":                                       {"GetAlias", a.getAlias},
		"PUT " + fn + "/aliases/{Name}":                                       {"UpdateAlias", a.updateAlias},
		"DELETE " + fn + "/aliases/{Name}":                                    {"DeleteAlias", a.deleteAlias},
		"POST " + fn + "/policy":                                              {"AddPermission", a.addPermission},
		"GET " + fn + "/policy":                                               {"GetPolicy", a.getPolicy},
		"DELETE " + fn + "/policy/{StatementId}":                              {"RemovePermission", a.removePermission},
		"GET " + fn + "/tarn-logs":                                            {"GetFunction", a.functionLogs},
		"PUT /2017-10-31/functions/{FunctionName}/concurrency":                {"PutFunctionConcurrency", a.putConcurrency},
		"DELETE /2017-10-31/functions/{FunctionName}/concurrency":             {"DeleteFunctionConcurrency", a.deleteConcurrency},
		"GET /2019-09-30/functions/{FunctionName}/concurrency":                {"GetFunctionConcurrency", a.getConcurrency},
		"PUT /2019-09-30/functions/{FunctionName}/provisioned-concurrency":    {"PutProvisionedConcurrencyConfig", a.putProvisioned},
		"GET /2019-09-30/functions/{FunctionName}/provisioned-concurrency":    {"GetProvisionedConcurrencyConfig", a.getProvisioned},
		"DELETE /2019-09-30/functions/{FunctionName}/provisioned-concurrency": {"DeleteProvisionedConcurrencyConfig", a.deleteProvisioned},
		"GET /2016-08-19/account-settings":                                    {"GetAccountSettings", a.accountSettings},
		"GET /2016-08-19/account-settings/":                                   {"GetAccountSettings", a.accountSettings},
	}
	for pattern, rt := range routes {
		a.mux.Handle(pattern, a.endpoint(a.authorized("lambda:"+rt.action, rt.h)))
	}
	a.mux.Handle("/", a.endpoint(func(r *http.Request) (int, any, error) {
		return 0, nil, awsapi.Errorf(http.StatusNotFound, "UnknownOperationException",
			"no Lambda operation is %s %s", r.Method, r.URL.Path)
	}))
	a.background(func() { a.runEvents(a.ctx) })
	a.background(func() { a.settleAll(a.ctx) })
	return a
}

// Close stops the event worker and pending state changes and waits for
// deliveries in progress to end. Events not yet delivered stay queued.
func (a *API) Close() error {
	a.bgMu.Lock()
	a.closed = true
	a.bgMu.Unlock()
	a.cancel()
	a.wg.Wait()
	return nil
}

func durationOr(d *time.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return *d
}

// ServeHTTP serves one Lambda API request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	if clean != p {
		awsapi.WriteError(w, r, awsapi.LambdaStyle, awsapi.Errorf(http.StatusNotFound, "UnknownOperationException",
			"no Lambda operation is %s %s", r.Method, p))
		return
	}
	a.mux.ServeHTTP(w, r)
}

// rawResponse is a handler result written as it is (Invoke, log streams).
type rawResponse struct {
	status  int
	header  http.Header
	body    []byte
	writeTo func(w http.ResponseWriter) // streams instead of body when set
}

// endpoint adapts a handler that returns (status, body, error) to
// http.Handler, rendering errors once.
func (a *API) endpoint(h func(*http.Request) (int, any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body, err := h(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		switch b := body.(type) {
		case nil:
			w.WriteHeader(status)
		case *rawResponse:
			for k, v := range b.header {
				w.Header()[k] = v
			}
			if b.writeTo != nil {
				b.writeTo(w)
				return
			}
			w.WriteHeader(b.status)
			w.Write(b.body)
		default:
			awsapi.WriteJSON(w, status, body)
		}
	})
}

// writeError renders err as a Lambda error: throttles with their Reason and
// Retry-After, API errors as they are, anything else as a logged 500.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var te *ThrottleError
	if errors.As(err, &te) {
		if te.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(te.RetryAfter.Seconds()))))
		}
		err = awsapi.Errorf(http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.").With("Reason", te.Reason)
	}
	var ae *awsapi.Error
	if !errors.As(err, &ae) {
		a.cfg.Log.Error("lambda api", "op", r.Method+" "+r.URL.Path, "request_id", awsapi.RequestID(r.Context()), "err", err)
	}
	awsapi.WriteError(w, r, awsapi.LambdaStyle, err)
}

// authorized checks the caller's permission for action on the function the
// request names before running h.
func (a *API) authorized(action string, h func(*http.Request) (int, any, error)) func(*http.Request) (int, any, error) {
	return func(r *http.Request) (int, any, error) {
		if a.cfg.Authorize != nil {
			resource := "*"
			if n := r.PathValue("FunctionName"); n != "" {
				if t, err := a.parseName(n); err == nil {
					resource = a.functionARN(t.name, "")
				}
			}
			if err := a.cfg.Authorize(r.Context(), action, resource); err != nil {
				return 0, nil, err
			}
		}
		return h(r)
	}
}

// readBody reads the request body, bounded by limit.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidRequestContentException", "reading request body: %v", err)
	}
	return body, nil
}

// decode reads and decodes the JSON body of r into v, answering malformed
// JSON as Lambda does.
func decode(r *http.Request, v any) error {
	body, err := readBody(r, 70<<20)
	if err != nil {
		return err
	}
	if err := awsapi.DecodeJSON(body, v); err != nil {
		var ae *awsapi.Error
		if errors.As(err, &ae) {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: %s", ae.Message)
		}
		return err
	}
	return nil
}

func (a *API) functionARN(name, qualifier string) string {
	arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", a.cfg.Region, a.cfg.AccountID, name)
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}

func (a *API) now() time.Time { return a.cfg.Now() }

// timestamp renders t as Lambda does: 2020-04-10T19:06:32.563+0000.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

func notFoundFunction(arn string) *awsapi.Error {
	return &awsapi.Error{Status: http.StatusNotFound, Code: "ResourceNotFoundException", Message: "Function not found: " + arn}
}

func invalid(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidParameterValueException", format, args...)
}

func conflict(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusConflict, "ResourceConflictException", format, args...)
}

func resourceNotFound(msg string) *awsapi.Error {
	return &awsapi.Error{Status: http.StatusNotFound, Code: "ResourceNotFoundException", Message: msg}
}

func precondition() *awsapi.Error {
	return awsapi.Errorf(http.StatusPreconditionFailed, "PreconditionFailedException", msgPrecondition)
}
