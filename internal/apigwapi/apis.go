package apigwapi

import (
	"errors"
	"net/http"
	"strconv"

	"tarn.dev/tarn/internal/gateway"
	"tarn.dev/tarn/internal/store"
)

const routeSelection = "$request.method $request.path"

type createAPIIn struct {
	Name                      string            `json:"name"`
	ProtocolType              string            `json:"protocolType"`
	Description               string            `json:"description"`
	Target                    string            `json:"target"`
	RouteKey                  string            `json:"routeKey"`
	RouteSelectionExpression  string            `json:"routeSelectionExpression"`
	Version                   string            `json:"version"`
	DisableExecuteAPIEndpoint bool              `json:"disableExecuteApiEndpoint"`
	Tags                      map[string]string `json:"tags"`
	CredentialsArn            string            `json:"credentialsArn"`
	CorsConfiguration         any               `json:"corsConfiguration"`
}

// createAPI is CreateApi, including quick create: with a target (a Lambda
// function ARN) it also makes an AWS_PROXY integration (payload 2.0), the
// route (routeKey, default $default) and the $default stage with
// autoDeploy, all marked apiGatewayManaged.
func (a *API) createAPI(r *http.Request) (int, any, error) {
	var in createAPIIn
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	switch {
	case in.Name == "":
		return 0, nil, badRequest("name is required")
	case len(in.Name) > 128:
		return 0, nil, badRequest("name must be at most 128 characters")
	case in.ProtocolType == "":
		return 0, nil, badRequest("protocolType is required: HTTP")
	case in.ProtocolType == "WEBSOCKET":
		return 0, nil, badRequest("Tarn serves HTTP APIs only: protocolType WEBSOCKET is not supported")
	case in.ProtocolType != "HTTP":
		return 0, nil, badRequest("Invalid protocolType %q: must be HTTP", in.ProtocolType)
	case len(in.Description) > 1024:
		return 0, nil, badRequest("description must be at most 1024 characters")
	case in.RouteSelectionExpression != "" && in.RouteSelectionExpression != routeSelection:
		return 0, nil, badRequest("routeSelectionExpression of an HTTP API must be %s", routeSelection)
	case in.RouteKey != "" && in.Target == "":
		return 0, nil, badRequest("routeKey is only allowed with target (quick create)")
	case in.CredentialsArn != "" && in.Target == "":
		return 0, nil, badRequest("credentialsArn is only allowed with target (quick create)")
	case in.CorsConfiguration != nil:
		return 0, nil, badRequest("corsConfiguration is not supported by Tarn")
	}
	if err := validTags(in.Tags); err != nil {
		return 0, nil, err
	}
	now := a.cfg.Now()
	api := store.API{ID: newID(10), Name: in.Name, ProtocolType: in.ProtocolType, Description: in.Description,
		RouteSelectionExpression: routeSelection, Version: in.Version, DisableExecuteAPIEndpoint: in.DisableExecuteAPIEndpoint,
		Tags: in.Tags, Created: now}
	def := store.APIDefinition{API: api}
	if in.Target != "" {
		if _, ok := gateway.FunctionARN(in.Target); !ok {
			return 0, nil, badRequest("target %q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME); Tarn quick-creates Lambda proxy APIs only", in.Target)
		}
		key := in.RouteKey
		if key == "" {
			key = gateway.DefaultRouteKey
		}
		if _, err := gateway.ParseRouteKey(key); err != nil {
			return 0, nil, badRequest("%v", err)
		}
		integ := store.Integration{ID: newID(7), APIID: api.ID, Type: "AWS_PROXY", URI: in.Target, Method: "POST",
			PayloadFormatVersion: "2.0", TimeoutMillis: 30000, Managed: true}
		def.Integrations = []store.Integration{integ}
		def.Routes = []store.Route{{ID: newID(7), APIID: api.ID, RouteKey: key, Target: "integrations/" + integ.ID,
			AuthorizationType: "NONE", Managed: true}}
		def.Stages = []store.Stage{{APIID: api.ID, Name: "$default", AutoDeploy: true, Managed: true, Created: now, Updated: now}}
	}
	if err := a.cfg.Store.CreateAPIDefinition(r.Context(), def); err != nil {
		return 0, nil, err
	}
	out := a.apiView(api)
	if in.Target != "" {
		out.APIGatewayManaged = false // the API itself is the caller's; its children are managed
	}
	return http.StatusCreated, out, nil
}

func validTags(tags map[string]string) error {
	if len(tags) > 50 {
		return badRequest("at most 50 tags")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return badRequest("tag %q: keys are 1 to 128 characters, values at most 256", k)
		}
	}
	return nil
}

func (a *API) getAPIs(r *http.Request) (int, any, error) {
	limit := 100
	if s := r.URL.Query().Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return 0, nil, badRequest("maxResults %q must be a number from 1 to 500", s)
		}
		limit = n
	}
	apis, err := a.cfg.Store.APIs(r.Context(), r.URL.Query().Get("nextToken"), limit+1)
	if err != nil {
		return 0, nil, err
	}
	out := items[apiOut]{Items: []apiOut{}}
	for n, api := range apis {
		if n == limit {
			out.NextToken = apis[n-1].ID
			break
		}
		out.Items = append(out.Items, a.apiView(api))
	}
	return http.StatusOK, out, nil
}

func (a *API) getAPI(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.apiView(api), nil
}

func (a *API) deleteAPI(r *http.Request) (int, any, error) {
	id := r.PathValue("apiId")
	if err := a.cfg.Store.DeleteAPI(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, notFound("Invalid API identifier specified %s:%s", a.cfg.AccountID, id)
		}
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
