package apigwapi

import (
	"errors"
	"net/http"
	"strings"

	"tarn.dev/tarn/internal/gateway"
	"tarn.dev/tarn/internal/store"
)

type createRouteIn struct {
	RouteKey          string `json:"routeKey"`
	Target            string `json:"target"`
	AuthorizationType string `json:"authorizationType"`
	OperationName     string `json:"operationName"`
	APIKeyRequired    bool   `json:"apiKeyRequired"`
	AuthorizerID      string `json:"authorizerId"`
}

func (a *API) createRoute(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	var in createRouteIn
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.RouteKey == "" {
		return 0, nil, badRequest("routeKey is required, e.g. 'GET /items/{id}' or $default")
	}
	if _, err := gateway.ParseRouteKey(in.RouteKey); err != nil {
		return 0, nil, badRequest("%v", err)
	}
	switch {
	case in.AuthorizationType != "" && in.AuthorizationType != "NONE":
		return 0, nil, badRequest("authorizationType %s is not supported by Tarn: only NONE", in.AuthorizationType)
	case in.APIKeyRequired:
		return 0, nil, badRequest("apiKeyRequired is not supported for HTTP APIs")
	case in.AuthorizerID != "":
		return 0, nil, badRequest("authorizers are not supported by Tarn")
	}
	if in.Target != "" {
		id, ok := strings.CutPrefix(in.Target, "integrations/")
		if !ok {
			return 0, nil, badRequest("target %q must be integrations/<integrationId>", in.Target)
		}
		if _, err := a.cfg.Store.Integration(r.Context(), api.ID, id); errors.Is(err, store.ErrNotFound) {
			return 0, nil, badRequest("target %q: the API has no integration %s", in.Target, id)
		} else if err != nil {
			return 0, nil, err
		}
	}
	rt := store.Route{ID: newID(7), APIID: api.ID, RouteKey: in.RouteKey, Target: in.Target, AuthorizationType: "NONE",
		OperationName: in.OperationName}
	if err := a.cfg.Store.CreateRoute(r.Context(), rt, MaxRoutes); err != nil {
		var ee *store.ExistsError
		if errors.As(err, &ee) {
			return 0, nil, conflict("Route with key %s already exists for this API (routeId %s)", in.RouteKey, ee.ID)
		}
		return 0, nil, a.childError(err, api.ID, "routes")
	}
	return http.StatusCreated, routeView(rt), nil
}

func (a *API) getRoutes(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	list, err := a.cfg.Store.Routes(r.Context(), api.ID)
	if err != nil {
		return 0, nil, err
	}
	out := items[routeOut]{Items: []routeOut{}}
	for _, rt := range list {
		out.Items = append(out.Items, routeView(rt))
	}
	return http.StatusOK, out, nil
}

func (a *API) getRoute(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	id := r.PathValue("routeId")
	rt, err := a.cfg.Store.Route(r.Context(), api.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("Invalid Route identifier specified %s", id)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, routeView(rt), nil
}

func (a *API) deleteRoute(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	id := r.PathValue("routeId")
	if err := a.cfg.Store.DeleteRoute(r.Context(), api.ID, id); errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("Invalid Route identifier specified %s", id)
	} else if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
