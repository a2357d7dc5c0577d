package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestAPIDefinitionLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openIAMTest(t)
	now := time.UnixMilli(1700000000123).UTC()
	def := APIDefinition{
		API: API{ID: "abc1234567", Name: "wall", ProtocolType: "HTTP", RouteSelectionExpression: "$request.method $request.path",
			Tags: map[string]string{"team": "x"}, Created: now},
		Integrations: []Integration{{ID: "int0001", APIID: "abc1234567", Type: "AWS_PROXY", URI: "arn:aws:lambda:us-east-1:123456789012:function:f",
			Method: "POST", PayloadFormatVersion: "2.0", TimeoutMillis: 30000, Managed: true}},
		Routes: []Route{{ID: "rt00001", APIID: "abc1234567", RouteKey: "$default", Target: "integrations/int0001", AuthorizationType: "NONE", Managed: true}},
		Stages: []Stage{{APIID: "abc1234567", Name: "$default", AutoDeploy: true, Managed: true, Variables: map[string]string{"k": "v"}, Created: now, Updated: now}},
	}
	if err := s.CreateAPIDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	var ee *ExistsError
	if err := s.CreateAPIDefinition(ctx, APIDefinition{API: def.API}); !errors.As(err, &ee) {
		t.Errorf("CreateAPIDefinition(same id) = %v, want *ExistsError", err)
	}
	defs, err := s.APIDefinitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 || !reflect.DeepEqual(defs[0], def) {
		t.Errorf("APIDefinitions = %+v, want [%+v]", defs, def)
	}

	// Routes: unique key per API, limit.
	if err := s.CreateRoute(ctx, Route{ID: "rt00002", APIID: "abc1234567", RouteKey: "$default"}, 300); !errors.As(err, &ee) || ee.ID != "rt00001" {
		t.Errorf("CreateRoute(duplicate key) = %v, want *ExistsError naming rt00001", err)
	}
	if err := s.CreateRoute(ctx, Route{ID: "rt00002", APIID: "abc1234567", RouteKey: "GET /x"}, 1); !errors.Is(err, ErrInUse) {
		t.Errorf("CreateRoute(over limit) = %v, want ErrInUse", err)
	}
	if err := s.CreateRoute(ctx, Route{ID: "rt00002", APIID: "nope", RouteKey: "GET /x"}, 300); !errors.Is(err, ErrNotFound) {
		t.Errorf("CreateRoute(missing api) = %v, want ErrNotFound", err)
	}
	if err := s.CreateRoute(ctx, Route{ID: "rt00002", APIID: "abc1234567", RouteKey: "GET /x"}, 300); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Route(ctx, "abc1234567", "rt00002"); err != nil || r.RouteKey != "GET /x" {
		t.Errorf("Route = %+v, %v", r, err)
	}
	if _, err := s.Route(ctx, "other", "rt00002"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Route(other api) = %v, want ErrNotFound", err)
	}

	// An integration in use cannot go.
	if err := s.DeleteIntegration(ctx, "abc1234567", "int0001"); !errors.Is(err, ErrInUse) {
		t.Errorf("DeleteIntegration(in use) = %v, want ErrInUse", err)
	}

	// Stages: unique names, limit.
	if err := s.CreateStage(ctx, Stage{APIID: "abc1234567", Name: "$default", Created: now, Updated: now}, 10); !errors.As(err, &ee) {
		t.Errorf("CreateStage(duplicate) = %v, want *ExistsError", err)
	}
	if err := s.CreateStage(ctx, Stage{APIID: "abc1234567", Name: "dev", Created: now, Updated: now}, 1); !errors.Is(err, ErrInUse) {
		t.Errorf("CreateStage(over limit) = %v, want ErrInUse", err)
	}
	if err := s.CreateStage(ctx, Stage{APIID: "abc1234567", Name: "dev", Created: now, Updated: now}, 10); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stages(ctx, "abc1234567"); err != nil || len(st) != 2 || st[0].Name != "$default" || st[1].Name != "dev" {
		t.Errorf("Stages = %+v, %v", st, err)
	}

	// Deleting the API removes its children.
	if err := s.DeleteAPI(ctx, "abc1234567"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAPI(ctx, "abc1234567"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteAPI(again) = %v, want ErrNotFound", err)
	}
	for name, n := range map[string]func() (int, error){
		"routes":       func() (int, error) { r, err := s.Routes(ctx, "abc1234567"); return len(r), err },
		"integrations": func() (int, error) { r, err := s.Integrations(ctx, "abc1234567"); return len(r), err },
		"stages":       func() (int, error) { r, err := s.Stages(ctx, "abc1234567"); return len(r), err },
	} {
		if got, err := n(); err != nil || got != 0 {
			t.Errorf("%s after DeleteAPI = %d, %v; want 0", name, got, err)
		}
	}
}

func TestAPIsPaging(t *testing.T) {
	ctx := context.Background()
	s := openIAMTest(t)
	for _, id := range []string{"c", "a", "b"} {
		if err := s.CreateAPIDefinition(ctx, APIDefinition{API: API{ID: id, Name: id, ProtocolType: "HTTP"}}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.APIs(ctx, "", 2)
	if err != nil || len(page) != 2 || page[0].ID != "a" || page[1].ID != "b" {
		t.Fatalf("APIs(first page) = %+v, %v", page, err)
	}
	page, err = s.APIs(ctx, "b", 2)
	if err != nil || len(page) != 1 || page[0].ID != "c" {
		t.Errorf("APIs(after b) = %+v, %v", page, err)
	}
}
