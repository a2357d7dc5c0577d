package lambdaapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"

	"github.com/google/uuid"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

// Invocation types.
const (
	invokeSync   = "RequestResponse"
	invokeEvent  = "Event"
	invokeDryRun = "DryRun"
)

func (a *API) invoke(r *http.Request) (int, any, error) {
	t, err := a.target(r)
	if err != nil {
		return 0, nil, err
	}
	typ := r.Header.Get("X-Amz-Invocation-Type")
	if typ == "" {
		typ = invokeSync
	}
	if err := awsapi.CheckEnum(typ, "invocationType", invokeEvent, invokeSync, invokeDryRun); err != nil {
		return 0, nil, err
	}
	logType := r.Header.Get("X-Amz-Log-Type")
	if logType != "" {
		if err := awsapi.CheckEnum(logType, "logType", "None", "Tail"); err != nil {
			return 0, nil, err
		}
	}
	limit := int64(MaxSyncPayload)
	if typ == invokeEvent {
		limit = MaxAsyncPayload
	}
	payload, err := readBody(r, 70<<20)
	if err != nil {
		return 0, nil, err
	}
	if int64(len(payload)) > limit {
		return 0, nil, awsapi.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
			"%d byte payload is too large for the %s invocation type (limit %d bytes)", len(payload), typ, limit)
	}
	if len(strings.TrimSpace(string(payload))) > 0 && !json.Valid(payload) {
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "InvalidRequestContentException",
			"Could not parse request body into json: Could not parse payload into json: %s", jsonProblem(payload))
	}
	var clientContext []byte
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		if len(cc) > maxClientContext {
			return 0, nil, awsapi.Errorf(http.StatusBadRequest, "InvalidRequestContentException",
				"Client context must be at most %d bytes", maxClientContext)
		}
		b, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(b) {
			return 0, nil, awsapi.Errorf(http.StatusBadRequest, "InvalidRequestContentException",
				"Client context must be a valid Base64-encoded JSON object.")
		}
		clientContext = b
	}
	ctx := r.Context()
	res, err := a.resolve(ctx, t)
	if err != nil {
		return 0, nil, err
	}
	if res.config.State != stateActive {
		return 0, nil, conflict("The operation cannot be performed at this time. The function is currently in the following state: %s", res.config.State)
	}
	requestID := awsapi.RequestID(ctx)
	if requestID == "" {
		requestID = uuid.NewString()
	}
	switch typ {
	case invokeDryRun:
		return http.StatusNoContent, nil, nil
	case invokeEvent:
		now := a.now()
		_, err := a.cfg.Store.EnqueueEvent(ctx, store.QueuedEvent{RequestID: requestID, Name: t.name, Qualifier: t.qualifier,
			Payload: payload, NextAt: now, Enqueued: now})
		if err != nil {
			return 0, nil, err
		}
		a.nudge()
		return 0, &rawResponse{status: http.StatusAccepted, header: http.Header{}}, nil
	}
	if res.fn.Reserved != nil && *res.fn.Reserved == 0 {
		return 0, nil, &ThrottleError{Reason: ReasonReservedLimit}
	}
	if res, err = a.route(ctx, t.name, res); err != nil {
		return 0, nil, err
	}
	fv, err := a.functionVersion(ctx, res)
	if err != nil {
		return 0, nil, err
	}
	if a.cfg.Runner == nil {
		return 0, nil, awsapi.Errorf(http.StatusInternalServerError, "ServiceException", "this server runs no functions")
	}
	out, err := a.cfg.Runner.Run(ctx, fv, InvokeRequest{RequestID: requestID, Payload: payload, ClientContext: clientContext})
	if err != nil {
		return 0, nil, a.invokeError(ctx, t, err)
	}
	if out.ExecutedVersion == "" {
		out.ExecutedVersion = fv.Version
	}
	if len(out.Payload) > MaxSyncPayload {
		out.FunctionError = "Unhandled"
		out.Payload, _ = json.Marshal(map[string]string{"errorType": "Function.ResponseSizeTooLarge",
			"errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes)."})
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Amz-Executed-Version", out.ExecutedVersion)
	if out.FunctionError != "" {
		h.Set("X-Amz-Function-Error", out.FunctionError)
	}
	if logType == "Tail" {
		h.Set("X-Amz-Log-Result", logTail(out.Log))
	}
	return 0, &rawResponse{status: http.StatusOK, header: h, body: out.Payload}, nil
}

// invokeError maps a Runner error: a function deleted while its invocation
// waited or ran is not found, whatever the runner saw.
func (a *API) invokeError(ctx context.Context, t target, err error) error {
	if errors.As(err, new(*ThrottleError)) || errors.As(err, new(*awsapi.Error)) {
		return err
	}
	if _, ferr := a.cfg.Store.Function(context.WithoutCancel(ctx), t.name); errors.Is(ferr, store.ErrNotFound) {
		return notFoundFunction(a.functionARN(t.name, t.qualifier))
	}
	return err
}

// route resolves the version an invocation of res runs (see pickVersion).
func (a *API) route(ctx context.Context, name string, res resolved) (resolved, error) {
	if v := pickVersion(res); v != res.version {
		return a.resolve(ctx, target{name: name, qualifier: v})
	}
	return res, nil
}

// pickVersion chooses the version an invocation of res runs: the alias's
// version, or an additional one with its routing weight.
func pickVersion(res resolved) string {
	if res.alias == nil || res.alias.RoutingConfig == nil {
		return res.version
	}
	x := rand.Float64()
	keys := make([]string, 0, len(res.alias.RoutingConfig.AdditionalVersionWeights))
	for k := range res.alias.RoutingConfig.AdditionalVersionWeights {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, v := range keys {
		w := res.alias.RoutingConfig.AdditionalVersionWeights[v]
		if x < w {
			return v
		}
		x -= w
	}
	return res.version
}

// logTail is the X-Amz-Log-Result value: base64 of the last 4 KB of log.
func logTail(log []byte) string {
	if len(log) > logTailBytes {
		log = log[len(log)-logTailBytes:]
	}
	return base64.StdEncoding.EncodeToString(log)
}

// jsonProblem describes why payload is not JSON.
func jsonProblem(payload []byte) string {
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return err.Error()
	}
	return "invalid JSON"
}
