package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tarn.dev/tarn/internal/store"
)

// Source supplies the API records the gateway serves; *store.Store is one.
type Source interface {
	APIDefinitions(ctx context.Context) ([]store.APIDefinition, error)
}

// table is an immutable, compiled view of every API.
type table struct {
	apis map[string]*api
	only *api // the API when exactly one exists
}

type api struct {
	id     string
	stages map[string]*store.Stage
	routes []route
}

type route struct {
	key         RouteKey
	integration *store.Integration // nil when the route has no usable target
}

func compile(defs []store.APIDefinition) *table {
	t := &table{apis: make(map[string]*api, len(defs))}
	for n := range defs {
		d := &defs[n]
		a := &api{id: d.API.ID, stages: map[string]*store.Stage{}}
		ints := map[string]*store.Integration{}
		for i := range d.Integrations {
			ints[d.Integrations[i].ID] = &d.Integrations[i]
		}
		for i := range d.Stages {
			a.stages[d.Stages[i].Name] = &d.Stages[i]
		}
		for _, r := range d.Routes {
			k, err := ParseRouteKey(r.RouteKey)
			if err != nil {
				continue // never stored by the management API
			}
			a.routes = append(a.routes, route{key: k, integration: ints[strings.TrimPrefix(r.Target, "integrations/")]})
		}
		t.apis[a.id] = a
		if len(defs) == 1 {
			t.only = a
		}
	}
	return t
}

// resolve finds the most specific route of a for method and segs.
func (a *api) resolve(method string, segs []string) (*route, map[string]string) {
	var best *route
	var bestParams map[string]string
	for n := range a.routes {
		r := &a.routes[n]
		params, ok := r.key.match(method, segs)
		if !ok {
			continue
		}
		if best == nil || moreSpecific(r.key, best.key) {
			best, bestParams = r, params
		}
	}
	return best, bestParams
}

// cache holds the current table, reloading it after Invalidate or once it
// is older than maxAge (which covers changes made by other nodes).
type cache struct {
	src    Source
	maxAge time.Duration
	now    func() time.Time

	gen     atomic.Uint64 // bumped by invalidate
	current atomic.Pointer[cached]
	mu      sync.Mutex // serializes reloads
}

type cached struct {
	t      *table
	gen    uint64
	loaded time.Time
}

func (c *cache) invalidate() { c.gen.Add(1) }

func (c *cache) fresh(e *cached) bool {
	return e != nil && e.gen == c.gen.Load() && c.now().Sub(e.loaded) < c.maxAge
}

func (c *cache) get(ctx context.Context) (*table, error) {
	if e := c.current.Load(); c.fresh(e) {
		return e.t, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.current.Load()
	if c.fresh(e) {
		return e.t, nil
	}
	gen := c.gen.Load()
	defs, err := c.src.APIDefinitions(ctx)
	if err != nil {
		if e != nil {
			return e.t, fmt.Errorf("reload routes (serving the previous ones): %w", err)
		}
		return nil, fmt.Errorf("load routes: %w", err)
	}
	e = &cached{t: compile(defs), gen: gen, loaded: c.now()}
	c.current.Store(e)
	return e.t, nil
}
