// Package apigwapi serves the API Gateway v2 management API for HTTP APIs
// (rest-json, camelCase members, SigV4 service name "apigateway") over
// Tarn's control-plane store: APIs (with quick create), integrations,
// routes and stages. The gateway package serves what it stores.
//
// Tarn deviations, each reported as a BadRequestException where a request
// asks for them: protocol HTTP only (no WebSocket APIs), AWS_PROXY
// integrations to Lambda only, authorization type NONE only. apiEndpoint is
// http://HOST:PORT/<apiId> on the gateway's listener, where AWS gives each
// API its own host name; every stage serves the current routes at once (no
// deployments).
package apigwapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

// ServiceName is the SigV4 service name API Gateway clients sign with.
const ServiceName = "apigateway"

// Limits of HTTP APIs, as API Gateway sets them.
const (
	MaxRoutes       = 300
	MaxStages       = 10
	MaxIntegrations = 300
	maxBody         = 1 << 20
)

// Config configures the API.
type Config struct {
	Store     *store.Store
	AccountID string
	Region    string
	// Endpoint returns the gateway's base URL (http://HOST:PORT), known once
	// its listener is bound; apiEndpoint is Endpoint()/<apiId>.
	Endpoint func() string
	// Changed is called after every successful change, so the gateway
	// reloads its routes; nil does nothing.
	Changed func()
	// Authorize decides whether the caller of ctx may perform action
	// (apigateway:GET|POST|DELETE) on resource (an API Gateway ARN); nil
	// allows everything.
	Authorize func(ctx context.Context, action, resource string) error
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger     // nil: slog.Default()
}

// API is the API Gateway v2 management API handler.
type API struct {
	cfg Config
	mux *http.ServeMux
}

var _ http.Handler = (*API)(nil)

type handler func(*http.Request) (int, any, error)

// New returns the management API handler.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Changed == nil {
		cfg.Changed = func() {}
	}
	a := &API{cfg: cfg, mux: http.NewServeMux()}
	routes := map[string]handler{
		"POST /v2/apis":                                        a.createAPI,
		"GET /v2/apis":                                         a.getAPIs,
		"GET /v2/apis/{apiId}":                                 a.getAPI,
		"DELETE /v2/apis/{apiId}":                              a.deleteAPI,
		"POST /v2/apis/{apiId}/integrations":                   a.createIntegration,
		"GET /v2/apis/{apiId}/integrations":                    a.getIntegrations,
		"GET /v2/apis/{apiId}/integrations/{integrationId}":    a.getIntegration,
		"DELETE /v2/apis/{apiId}/integrations/{integrationId}": a.deleteIntegration,
		"POST /v2/apis/{apiId}/routes":                         a.createRoute,
		"GET /v2/apis/{apiId}/routes":                          a.getRoutes,
		"GET /v2/apis/{apiId}/routes/{routeId}":                a.getRoute,
		"DELETE /v2/apis/{apiId}/routes/{routeId}":             a.deleteRoute,
		"POST /v2/apis/{apiId}/stages":                         a.createStage,
		"GET /v2/apis/{apiId}/stages":                          a.getStages,
		"GET /v2/apis/{apiId}/stages/{stageName}":              a.getStage,
		"DELETE /v2/apis/{apiId}/stages/{stageName}":           a.deleteStage,
	}
	for pattern, h := range routes {
		method, _, _ := strings.Cut(pattern, " ")
		a.mux.Handle(pattern, a.endpoint(a.authorized("apigateway:"+method, h)))
	}
	a.mux.Handle("/", a.endpoint(func(r *http.Request) (int, any, error) {
		return 0, nil, awsapi.Errorf(http.StatusNotFound, "NotFoundException", "no API Gateway operation is %s %s", r.Method, r.URL.Path)
	}))
	return a
}

// ServeHTTP serves one management API request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *API) endpoint(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body, err := h(r)
		if err != nil {
			var ae *awsapi.Error
			if !errors.As(err, &ae) {
				a.cfg.Log.Error("apigateway api", "op", r.Method+" "+r.URL.Path, "request_id", awsapi.RequestID(r.Context()), "err", err)
			}
			awsapi.WriteError(w, r, awsapi.LowerStyle, err)
			return
		}
		if r.Method != http.MethodGet {
			a.cfg.Changed()
		}
		if body == nil {
			w.WriteHeader(status)
			return
		}
		awsapi.WriteJSON(w, status, body)
	})
}

func (a *API) authorized(action string, h handler) handler {
	return func(r *http.Request) (int, any, error) {
		if a.cfg.Authorize != nil {
			res := fmt.Sprintf("arn:aws:apigateway:%s::%s", a.cfg.Region, strings.TrimPrefix(r.URL.Path, "/v2"))
			if err := a.cfg.Authorize(r.Context(), action, res); err != nil {
				return 0, nil, err
			}
		}
		return h(r)
	}
}

func badRequest(format string, args ...any) error {
	return awsapi.Errorf(http.StatusBadRequest, "BadRequestException", format, args...)
}

func conflict(format string, args ...any) error {
	return awsapi.Errorf(http.StatusConflict, "ConflictException", format, args...)
}

func notFound(format string, args ...any) error {
	return awsapi.Errorf(http.StatusNotFound, "NotFoundException", format, args...)
}

// decode reads and decodes the JSON body of r into v.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badRequest("reading request body: %v", err)
	}
	if len(body) > maxBody {
		return awsapi.Errorf(http.StatusRequestEntityTooLarge, "BadRequestException", "request body is larger than %d bytes", maxBody)
	}
	if err := awsapi.DecodeJSON(body, v); err != nil {
		var ae *awsapi.Error
		if errors.As(err, &ae) {
			return badRequest("%s", ae.Message)
		}
		return err
	}
	return nil
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID returns n random lower-case letters and digits, the form of API
// Gateway ids (10 for APIs, 7 for routes and integrations).
func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

// apiOf loads the API named by the request path, or NotFoundException.
func (a *API) apiOf(r *http.Request) (store.API, error) {
	id := r.PathValue("apiId")
	api, err := a.cfg.Store.API(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return api, notFound("Invalid API identifier specified %s:%s", a.cfg.AccountID, id)
	}
	return api, err
}
