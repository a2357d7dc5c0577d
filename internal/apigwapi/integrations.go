package apigwapi

import (
	"errors"
	"net/http"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/gateway"
	"tarn.dev/tarn/internal/store"
)

type createIntegrationIn struct {
	IntegrationType      string `json:"integrationType"`
	IntegrationURI       string `json:"integrationUri"`
	IntegrationMethod    string `json:"integrationMethod"`
	PayloadFormatVersion string `json:"payloadFormatVersion"`
	TimeoutInMillis      *int   `json:"timeoutInMillis"`
	Description          string `json:"description"`
	ConnectionType       string `json:"connectionType"`
}

func (a *API) createIntegration(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	var in createIntegrationIn
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	i := store.Integration{ID: newID(7), APIID: api.ID, Type: in.IntegrationType, URI: in.IntegrationURI,
		Method: in.IntegrationMethod, PayloadFormatVersion: in.PayloadFormatVersion, TimeoutMillis: 30000, Description: in.Description}
	switch {
	case in.IntegrationType == "":
		return 0, nil, badRequest("integrationType is required: AWS_PROXY")
	case in.IntegrationType != "AWS_PROXY":
		return 0, nil, badRequest("integrationType %s is not supported by Tarn: use AWS_PROXY with a Lambda function", in.IntegrationType)
	case in.IntegrationURI == "":
		return 0, nil, badRequest("integrationUri is required for AWS_PROXY integrations: a Lambda function ARN")
	case in.ConnectionType != "" && in.ConnectionType != "INTERNET":
		return 0, nil, badRequest("connectionType %s is not supported: only INTERNET", in.ConnectionType)
	case len(in.Description) > 1024:
		return 0, nil, badRequest("description must be at most 1024 characters")
	}
	if _, ok := gateway.FunctionARN(in.IntegrationURI); !ok {
		return 0, nil, badRequest("integrationUri %q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", in.IntegrationURI)
	}
	switch in.PayloadFormatVersion {
	case "":
		i.PayloadFormatVersion = "2.0"
	case "1.0", "2.0":
	default:
		return 0, nil, badRequest("payloadFormatVersion %q must be 1.0 or 2.0", in.PayloadFormatVersion)
	}
	if i.Method == "" {
		i.Method = "POST"
	}
	if in.TimeoutInMillis != nil {
		if t := *in.TimeoutInMillis; t < 50 || t > 30000 {
			return 0, nil, badRequest("timeoutInMillis %d must be between 50 and 30000", t)
		}
		i.TimeoutMillis = *in.TimeoutInMillis
	}
	if err := a.cfg.Store.CreateIntegration(r.Context(), i, MaxIntegrations); err != nil {
		return 0, nil, a.childError(err, api.ID, "integrations")
	}
	return http.StatusCreated, integrationView(i), nil
}

func (a *API) getIntegrations(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	list, err := a.cfg.Store.Integrations(r.Context(), api.ID)
	if err != nil {
		return 0, nil, err
	}
	out := items[integrationOut]{Items: []integrationOut{}}
	for _, i := range list {
		out.Items = append(out.Items, integrationView(i))
	}
	return http.StatusOK, out, nil
}

func (a *API) getIntegration(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	id := r.PathValue("integrationId")
	i, err := a.cfg.Store.Integration(r.Context(), api.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("Invalid Integration identifier specified %s", id)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, integrationView(i), nil
}

func (a *API) deleteIntegration(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	id := r.PathValue("integrationId")
	err = a.cfg.Store.DeleteIntegration(r.Context(), api.ID, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, notFound("Invalid Integration identifier specified %s", id)
	case errors.Is(err, store.ErrInUse):
		return 0, nil, conflict("Integration %s is the target of a route; delete or retarget the route first", id)
	case err != nil:
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// childError translates the store's errors for a new integration, route or
// stage of api.
func (a *API) childError(err error, apiID, what string) error {
	var ee *store.ExistsError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("Invalid API identifier specified %s:%s", a.cfg.AccountID, apiID)
	case errors.Is(err, store.ErrInUse):
		return limitReached(what)
	case errors.As(err, &ee):
		return conflict("%s already exists: %s", what, ee.ID)
	}
	return err
}

func limitReached(what string) error {
	return awsapi.Errorf(http.StatusBadRequest, "BadRequestException", "the API has reached its limit of %s (%d routes, %d stages, %d integrations)", what, MaxRoutes, MaxStages, MaxIntegrations)
}
