package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/google/uuid"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/iamapi"
	"tarn.dev/tarn/internal/sigv4"
	"tarn.dev/tarn/internal/store"
)

// maxRequestBody bounds every control API request body. The largest legal
// one is a Lambda CreateFunction with a 50 MB zip, base64-encoded.
const maxRequestBody = 70 << 20

// controlAPI is the single HTTP handler of all control APIs: it assigns a
// request id, reads the body, verifies the SigV4 signature and hands the
// request to the API named by the signature's service.
type controlAPI struct {
	services map[string]http.Handler // by SigV4 service name
	verifier *sigv4.Verifier
	auth     *iamapi.Authorizer // nil: every valid signature is trusted
	skip     bool
	log      *slog.Logger

	mu   sync.RWMutex
	keys map[string]string // access key id → secret, read through from the store
}

func newControlAPI(cfg Config, st *store.Store, log *slog.Logger) *controlAPI {
	c := &controlAPI{services: map[string]http.Handler{}, skip: cfg.SkipSignatures, log: log, keys: map[string]string{}}
	c.verifier = &sigv4.Verifier{Secret: func(id string) (string, bool) {
		c.mu.RLock()
		secret, ok := c.keys[id]
		c.mu.RUnlock()
		if ok {
			return secret, true
		}
		k, err := st.AccessKey(context.Background(), id)
		if err != nil || k.Status != "Active" {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				log.Error("look up access key", "key", id, "err", err)
			}
			return "", false
		}
		c.mu.Lock()
		c.keys[id] = k.Secret
		c.mu.Unlock()
		return k.Secret, true
	}}
	return c
}

type identityKey struct{}

// Caller returns the verified identity of the request in ctx.
func Caller(ctx context.Context) (sigv4.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(sigv4.Identity)
	return id, ok
}

func (c *controlAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", reqID)
	ctx := awsapi.WithRequestID(r.Context(), reqID)
	r = r.WithContext(ctx)

	if r.URL.Path == "/tarn/health" && r.Method == http.MethodGet {
		awsapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		awsapi.WriteError(w, r, awsapi.LowerStyle, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "reading request body: %v", err))
		return
	}
	if len(body) > maxRequestBody {
		awsapi.WriteError(w, r, awsapi.LowerStyle, awsapi.Errorf(http.StatusRequestEntityTooLarge,
			"RequestEntityTooLargeException", "request body is larger than %d bytes", maxRequestBody))
		return
	}
	var service string
	if c.skip {
		service = serviceForPath(r.URL.Path)
	} else {
		id, err := c.verifier.Verify(r, body)
		if err != nil {
			var se *sigv4.Error
			if errors.As(err, &se) {
				err = &awsapi.Error{Status: http.StatusForbidden, Code: se.Code, Message: se.Message}
			}
			c.writeError(w, r, claimedService(r), err)
			return
		}
		if id.UnsignedPayload && len(body) > 0 {
			c.writeError(w, r, id.Service, &awsapi.Error{Status: http.StatusForbidden, Code: sigv4.CodeInvalidSignature,
				Message: "the signature does not cover the request body: sign the payload (presigned or UNSIGNED-PAYLOAD requests may not carry a body)"})
			return
		}
		// The verifier caches secrets; the authorizer knows whether the
		// key is still active and whose it is.
		if c.auth != nil {
			if _, err := c.auth.Principal(ctx, id.AccessKeyID); err != nil {
				c.writeError(w, r, id.Service, err)
				return
			}
		}
		service = id.Service
		r = r.WithContext(context.WithValue(ctx, identityKey{}, id))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h, ok := c.services[service]
	if !ok {
		awsapi.WriteError(w, r, awsapi.LowerStyle, awsapi.Errorf(http.StatusBadRequest, "UnknownServiceException",
			"this endpoint does not serve %q; it serves %s", service, strings.Join(c.serviceNames(), ", ")))
		return
	}
	h.ServeHTTP(w, r)
}

func (c *controlAPI) serviceNames() []string {
	var names []string
	for n := range c.services {
		names = append(names, n)
	}
	return names
}

// serviceForPath guesses the service from the path, for requests that carry
// no usable signature (their errors must still be shaped right).
func serviceForPath(p string) string {
	switch {
	case strings.HasPrefix(p, "/2015-02-01/"):
		return "elasticfilesystem"
	case strings.HasPrefix(p, "/2015-03-31/"), strings.HasPrefix(p, "/2016-08-19/"),
		strings.HasPrefix(p, "/2017-10-31/"), strings.HasPrefix(p, "/2019-09-30/"):
		return "lambda"
	case strings.HasPrefix(p, "/v2/"):
		return "apigateway"
	}
	return ""
}

// claimedService is the service a request says it is for: the service of
// its credential scope, even when the signature does not verify, else a
// guess from its path.
func claimedService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); a != "" {
		if _, after, ok := strings.Cut(a, "Credential="); ok {
			cred, _, _ = strings.Cut(after, ",")
		}
	}
	if parts := strings.Split(cred, "/"); len(parts) == 5 {
		return parts[3]
	}
	return serviceForPath(r.URL.Path)
}

// writeError renders err in the error format of service.
func (c *controlAPI) writeError(w http.ResponseWriter, r *http.Request, service string, err error) {
	if service == "iam" {
		iamapi.WriteError(w, awsapi.RequestID(r.Context()), err)
		return
	}
	awsapi.WriteError(w, r, styleFor(service), err)
}

func styleFor(service string) awsapi.BodyStyle {
	switch service {
	case "elasticfilesystem":
		return awsapi.EFSStyle
	case "lambda":
		return awsapi.LambdaStyle
	}
	return awsapi.LowerStyle
}
