package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// HTTP API records (API Gateway v2): APIs, their integrations, routes and
// stages. Children are removed with their API.
func init() {
	schema = append(schema,
		`CREATE TABLE IF NOT EXISTS gw_apis (id TEXT PRIMARY KEY, name TEXT NOT NULL, protocol_type TEXT NOT NULL,
			description TEXT NOT NULL DEFAULT '', route_selection TEXT NOT NULL, version TEXT NOT NULL DEFAULT '',
			disable_endpoint INTEGER NOT NULL DEFAULT 0, tags TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS gw_integrations (id TEXT PRIMARY KEY,
			api_id TEXT NOT NULL REFERENCES gw_apis(id) ON DELETE CASCADE, type TEXT NOT NULL, uri TEXT NOT NULL,
			method TEXT NOT NULL DEFAULT '', payload_format TEXT NOT NULL, timeout_ms INTEGER NOT NULL,
			description TEXT NOT NULL DEFAULT '', managed INTEGER NOT NULL DEFAULT 0)`,
		`CREATE INDEX IF NOT EXISTS gw_integrations_api ON gw_integrations(api_id, id)`,
		`CREATE TABLE IF NOT EXISTS gw_routes (id TEXT PRIMARY KEY,
			api_id TEXT NOT NULL REFERENCES gw_apis(id) ON DELETE CASCADE, route_key TEXT NOT NULL,
			target TEXT NOT NULL DEFAULT '', authorization_type TEXT NOT NULL DEFAULT 'NONE',
			operation_name TEXT NOT NULL DEFAULT '', managed INTEGER NOT NULL DEFAULT 0, UNIQUE(api_id, route_key))`,
		`CREATE TABLE IF NOT EXISTS gw_stages (api_id TEXT NOT NULL REFERENCES gw_apis(id) ON DELETE CASCADE,
			name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', auto_deploy INTEGER NOT NULL DEFAULT 0,
			variables TEXT NOT NULL DEFAULT '', managed INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
			updated_at INTEGER NOT NULL, PRIMARY KEY(api_id, name))`,
	)
}

// API is the record of an HTTP API.
type API struct {
	ID, Name, ProtocolType, Description string
	RouteSelectionExpression, Version   string
	DisableExecuteAPIEndpoint           bool
	Tags                                map[string]string
	Created                             time.Time
}

// Integration is the record of an API's integration with a backend.
type Integration struct {
	ID, APIID, Type, URI, Method string
	PayloadFormatVersion         string
	TimeoutMillis                int
	Description                  string
	Managed                      bool // created by quick create
}

// Route is the record of an API route ("GET /items/{id}", "$default").
type Route struct {
	ID, APIID, RouteKey, Target, AuthorizationType, OperationName string
	Managed                                                       bool
}

// Stage is the record of an API stage.
type Stage struct {
	APIID, Name, Description string
	AutoDeploy, Managed      bool
	Variables                map[string]string
	Created, Updated         time.Time
}

// APIDefinition is an API with everything that belongs to it.
type APIDefinition struct {
	API          API
	Integrations []Integration
	Routes       []Route
	Stages       []Stage
}

const (
	apiColumns         = `id, name, protocol_type, description, route_selection, version, disable_endpoint, tags, created_at`
	integrationColumns = `id, api_id, type, uri, method, payload_format, timeout_ms, description, managed`
	routeColumns       = `id, api_id, route_key, target, authorization_type, operation_name, managed`
	stageColumns       = `api_id, name, description, auto_deploy, variables, managed, created_at, updated_at`
)

func scanAPI(row scanner) (API, error) {
	var a API
	var tags string
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &a.ProtocolType, &a.Description, &a.RouteSelectionExpression, &a.Version,
		&a.DisableExecuteAPIEndpoint, &tags, &created); err != nil {
		return a, err
	}
	a.Created = time.UnixMilli(created).UTC()
	if err := unmarshalMap(tags, &a.Tags); err != nil {
		return a, fmt.Errorf("api %s tags: %w", a.ID, err)
	}
	return a, nil
}

func scanIntegration(row scanner) (Integration, error) {
	var i Integration
	err := row.Scan(&i.ID, &i.APIID, &i.Type, &i.URI, &i.Method, &i.PayloadFormatVersion, &i.TimeoutMillis, &i.Description, &i.Managed)
	return i, err
}

func scanRoute(row scanner) (Route, error) {
	var r Route
	err := row.Scan(&r.ID, &r.APIID, &r.RouteKey, &r.Target, &r.AuthorizationType, &r.OperationName, &r.Managed)
	return r, err
}

func scanStage(row scanner) (Stage, error) {
	var s Stage
	var vars string
	var created, updated int64
	if err := row.Scan(&s.APIID, &s.Name, &s.Description, &s.AutoDeploy, &vars, &s.Managed, &created, &updated); err != nil {
		return s, err
	}
	s.Created, s.Updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if err := unmarshalMap(vars, &s.Variables); err != nil {
		return s, fmt.Errorf("stage %s/%s variables: %w", s.APIID, s.Name, err)
	}
	return s, nil
}

func marshalMap(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func unmarshalMap(s string, m *map[string]string) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), m)
}

// CreateAPIDefinition stores an API together with its integrations, routes
// and stages in one transaction (quick create makes all of them at once).
// An API id already taken returns an *ExistsError.
func (s *Store) CreateAPIDefinition(ctx context.Context, d APIDefinition) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		a := d.API
		_, err := tx.ExecContext(ctx, `INSERT INTO gw_apis(`+apiColumns+`) VALUES(?,?,?,?,?,?,?,?,?)`,
			a.ID, a.Name, a.ProtocolType, a.Description, a.RouteSelectionExpression, a.Version,
			a.DisableExecuteAPIEndpoint, marshalMap(a.Tags), a.Created.UnixMilli())
		if isUniqueViolation(err) {
			return &ExistsError{ID: a.ID}
		}
		if err != nil {
			return err
		}
		for _, i := range d.Integrations {
			if err := insertIntegration(ctx, tx, i); err != nil {
				return err
			}
		}
		for _, r := range d.Routes {
			if err := insertRoute(ctx, tx, r); err != nil {
				return err
			}
		}
		for _, st := range d.Stages {
			if err := insertStage(ctx, tx, st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create api %s: %w", d.API.ID, err)
	}
	return nil
}

func insertIntegration(ctx context.Context, tx *sql.Tx, i Integration) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO gw_integrations(`+integrationColumns+`) VALUES(?,?,?,?,?,?,?,?,?)`,
		i.ID, i.APIID, i.Type, i.URI, i.Method, i.PayloadFormatVersion, i.TimeoutMillis, i.Description, i.Managed)
	if isUniqueViolation(err) {
		return &ExistsError{ID: i.ID}
	}
	return err
}

func insertRoute(ctx context.Context, tx *sql.Tx, r Route) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO gw_routes(`+routeColumns+`) VALUES(?,?,?,?,?,?,?)`,
		r.ID, r.APIID, r.RouteKey, r.Target, r.AuthorizationType, r.OperationName, r.Managed)
	if isUniqueViolation(err) {
		var id string
		if tx.QueryRowContext(ctx, `SELECT id FROM gw_routes WHERE api_id = ? AND route_key = ?`, r.APIID, r.RouteKey).Scan(&id) == nil {
			return &ExistsError{ID: id}
		}
		return &ExistsError{ID: r.ID}
	}
	return err
}

func insertStage(ctx context.Context, tx *sql.Tx, st Stage) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO gw_stages(`+stageColumns+`) VALUES(?,?,?,?,?,?,?,?)`,
		st.APIID, st.Name, st.Description, st.AutoDeploy, marshalMap(st.Variables), st.Managed,
		st.Created.UnixMilli(), st.Updated.UnixMilli())
	if isUniqueViolation(err) {
		return &ExistsError{ID: st.Name}
	}
	return err
}

// apiChildren returns ErrNotFound unless the API exists, and the number of
// rows of table that belong to it.
func apiChildren(ctx context.Context, tx *sql.Tx, apiID, table string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM `+table+` WHERE api_id = ?) FROM gw_apis WHERE id = ?`, apiID, apiID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("api %s: %w", apiID, ErrNotFound)
	}
	return n, err
}

// API returns the API with the given id, or ErrNotFound.
func (s *Store) API(ctx context.Context, id string) (API, error) {
	return queryOne(ctx, s.db, scanAPI, "api "+id, `SELECT `+apiColumns+` FROM gw_apis WHERE id = ?`, id)
}

// APIs returns up to limit APIs with ids greater than after, in id order.
func (s *Store) APIs(ctx context.Context, after string, limit int) ([]API, error) {
	return queryList(ctx, s.db, scanAPI, `SELECT `+apiColumns+` FROM gw_apis WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// DeleteAPI removes an API and everything that belongs to it.
func (s *Store) DeleteAPI(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete api "+id, `DELETE FROM gw_apis WHERE id = ?`, id)
}

// CreateIntegration stores an integration of an existing API (ErrNotFound
// otherwise); an API with limit integrations already returns ErrInUse.
func (s *Store) CreateIntegration(ctx context.Context, i Integration, limit int) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n, err := apiChildren(ctx, tx, i.APIID, "gw_integrations")
		if err != nil {
			return err
		}
		if n >= limit {
			return fmt.Errorf("api %s has %d integrations: %w", i.APIID, n, ErrInUse)
		}
		return insertIntegration(ctx, tx, i)
	})
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	return nil
}

// Integration returns one integration of an API, or ErrNotFound.
func (s *Store) Integration(ctx context.Context, apiID, id string) (Integration, error) {
	return queryOne(ctx, s.db, scanIntegration, "integration "+id, `SELECT `+integrationColumns+` FROM gw_integrations
		WHERE api_id = ? AND id = ?`, apiID, id)
}

// Integrations returns the integrations of an API in id order.
func (s *Store) Integrations(ctx context.Context, apiID string) ([]Integration, error) {
	return queryList(ctx, s.db, scanIntegration, `SELECT `+integrationColumns+` FROM gw_integrations WHERE api_id = ? ORDER BY id`, apiID)
}

// DeleteIntegration removes an integration; one that a route still targets
// returns ErrInUse.
func (s *Store) DeleteIntegration(ctx context.Context, apiID, id string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM gw_routes WHERE api_id = ? AND target = ?`,
			apiID, "integrations/"+id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d routes target it: %w", n, ErrInUse)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM gw_integrations WHERE api_id = ? AND id = ?`, apiID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete integration %s: %w", id, err)
	}
	return nil
}

// CreateRoute stores a route of an existing API. A route key already used
// by the API returns an *ExistsError with the existing route's id; an API
// with limit routes already returns ErrInUse.
func (s *Store) CreateRoute(ctx context.Context, r Route, limit int) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n, err := apiChildren(ctx, tx, r.APIID, "gw_routes")
		if err != nil {
			return err
		}
		if n >= limit {
			return fmt.Errorf("api %s has %d routes: %w", r.APIID, n, ErrInUse)
		}
		return insertRoute(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("create route %q: %w", r.RouteKey, err)
	}
	return nil
}

// Route returns one route of an API, or ErrNotFound.
func (s *Store) Route(ctx context.Context, apiID, id string) (Route, error) {
	return queryOne(ctx, s.db, scanRoute, "route "+id, `SELECT `+routeColumns+` FROM gw_routes WHERE api_id = ? AND id = ?`, apiID, id)
}

// Routes returns the routes of an API in id order.
func (s *Store) Routes(ctx context.Context, apiID string) ([]Route, error) {
	return queryList(ctx, s.db, scanRoute, `SELECT `+routeColumns+` FROM gw_routes WHERE api_id = ? ORDER BY id`, apiID)
}

// DeleteRoute removes a route.
func (s *Store) DeleteRoute(ctx context.Context, apiID, id string) error {
	return s.execOne(ctx, "delete route "+id, `DELETE FROM gw_routes WHERE api_id = ? AND id = ?`, apiID, id)
}

// CreateStage stores a stage of an existing API. A stage name already used
// by the API returns an *ExistsError; an API with limit stages already
// returns ErrInUse.
func (s *Store) CreateStage(ctx context.Context, st Stage, limit int) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n, err := apiChildren(ctx, tx, st.APIID, "gw_stages")
		if err != nil {
			return err
		}
		if n >= limit {
			return fmt.Errorf("api %s has %d stages: %w", st.APIID, n, ErrInUse)
		}
		return insertStage(ctx, tx, st)
	})
	if err != nil {
		return fmt.Errorf("create stage %q: %w", st.Name, err)
	}
	return nil
}

// Stage returns one stage of an API, or ErrNotFound.
func (s *Store) Stage(ctx context.Context, apiID, name string) (Stage, error) {
	return queryOne(ctx, s.db, scanStage, "stage "+name, `SELECT `+stageColumns+` FROM gw_stages WHERE api_id = ? AND name = ?`, apiID, name)
}

// Stages returns the stages of an API in name order.
func (s *Store) Stages(ctx context.Context, apiID string) ([]Stage, error) {
	return queryList(ctx, s.db, scanStage, `SELECT `+stageColumns+` FROM gw_stages WHERE api_id = ? ORDER BY name`, apiID)
}

// DeleteStage removes a stage.
func (s *Store) DeleteStage(ctx context.Context, apiID, name string) error {
	return s.execOne(ctx, "delete stage "+name, `DELETE FROM gw_stages WHERE api_id = ? AND name = ?`, apiID, name)
}

// APIDefinitions returns every API with its integrations, routes and
// stages: what the gateway serves.
func (s *Store) APIDefinitions(ctx context.Context) ([]APIDefinition, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("api definitions: %w", err)
	}
	defer tx.Rollback()
	apis, err := queryList(ctx, tx, scanAPI, `SELECT `+apiColumns+` FROM gw_apis ORDER BY id`)
	if err != nil {
		return nil, err
	}
	out := make([]APIDefinition, len(apis))
	index := make(map[string]*APIDefinition, len(apis))
	for n, a := range apis {
		out[n].API = a
		index[a.ID] = &out[n]
	}
	ints, err := queryList(ctx, tx, scanIntegration, `SELECT `+integrationColumns+` FROM gw_integrations ORDER BY api_id, id`)
	if err != nil {
		return nil, err
	}
	for _, i := range ints {
		if d := index[i.APIID]; d != nil {
			d.Integrations = append(d.Integrations, i)
		}
	}
	routes, err := queryList(ctx, tx, scanRoute, `SELECT `+routeColumns+` FROM gw_routes ORDER BY api_id, id`)
	if err != nil {
		return nil, err
	}
	for _, r := range routes {
		if d := index[r.APIID]; d != nil {
			d.Routes = append(d.Routes, r)
		}
	}
	stages, err := queryList(ctx, tx, scanStage, `SELECT `+stageColumns+` FROM gw_stages ORDER BY api_id, name`)
	if err != nil {
		return nil, err
	}
	for _, st := range stages {
		if d := index[st.APIID]; d != nil {
			d.Stages = append(d.Stages, st)
		}
	}
	return out, nil
}
