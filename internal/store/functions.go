package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Lambda records. The store keys them and keeps their invariants (unique
// names, version numbering, cascading deletes, the durable Event queue); the
// configuration documents themselves are JSON owned by the Lambda API.
func init() {
	schema = append(schema,
		`CREATE TABLE IF NOT EXISTS lambda_functions (name TEXT PRIMARY KEY, config TEXT NOT NULL,
			next_version INTEGER NOT NULL DEFAULT 1, reserved INTEGER, created_at INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS lambda_versions (name TEXT NOT NULL REFERENCES lambda_functions(name) ON DELETE CASCADE,
			version INTEGER NOT NULL, config TEXT NOT NULL, PRIMARY KEY(name, version))`,
		`CREATE TABLE IF NOT EXISTS lambda_aliases (name TEXT NOT NULL REFERENCES lambda_functions(name) ON DELETE CASCADE,
			alias TEXT NOT NULL, version TEXT NOT NULL, config TEXT NOT NULL, PRIMARY KEY(name, alias))`,
		`CREATE TABLE IF NOT EXISTS lambda_provisioned (name TEXT NOT NULL REFERENCES lambda_functions(name) ON DELETE CASCADE,
			qualifier TEXT NOT NULL, config TEXT NOT NULL, PRIMARY KEY(name, qualifier))`,
		`CREATE TABLE IF NOT EXISTS lambda_permissions (name TEXT NOT NULL REFERENCES lambda_functions(name) ON DELETE CASCADE,
			qualifier TEXT NOT NULL, sid TEXT NOT NULL, statement TEXT NOT NULL, PRIMARY KEY(name, qualifier, sid))`,
		`CREATE TABLE IF NOT EXISTS lambda_events (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL,
			name TEXT NOT NULL, qualifier TEXT NOT NULL, payload BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
			throttles INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, claimed INTEGER NOT NULL DEFAULT 0,
			enqueued_at INTEGER NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS lambda_events_due ON lambda_events(claimed, next_at)`,
	)
}

// Function is the record of a Lambda function: its $LATEST configuration
// document, the number its next published version gets, and its reserved
// concurrency (nil when unreserved).
type Function struct {
	Name        string
	Config      []byte
	NextVersion int
	Reserved    *int
	Created     time.Time
}

// FunctionVersion is an immutable published version of a function.
type FunctionVersion struct {
	Name    string
	Version int
	Config  []byte
}

// Alias is a named pointer to a version of a function.
type Alias struct {
	Name, Alias, Version string
	Config               []byte
}

// Qualified is a document attached to a function and a qualifier
// (provisioned-concurrency configurations).
type Qualified struct {
	Name, Qualifier string
	Config          []byte
}

// Permission is one statement of a function's resource policy.
type Permission struct {
	Name, Qualifier, Sid string
	Statement            []byte
}

func scanFunction(row scanner) (Function, error) {
	var f Function
	var reserved sql.NullInt64
	var created int64
	err := row.Scan(&f.Name, &f.Config, &f.NextVersion, &reserved, &created)
	if reserved.Valid {
		n := int(reserved.Int64)
		f.Reserved = &n
	}
	f.Created = time.Unix(created, 0)
	return f, err
}

const functionColumns = `name, config, next_version, reserved, created_at`

// CreateFunction stores a new function. A name already taken returns an
// *ExistsError.
func (s *Store) CreateFunction(ctx context.Context, f Function) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO lambda_functions(name, config, next_version, created_at) VALUES(?,?,1,?)`,
			f.Name, f.Config, f.Created.Unix())
		if isUniqueViolation(err) {
			return &ExistsError{ID: f.Name}
		}
		if err != nil {
			return fmt.Errorf("create function %s: %w", f.Name, err)
		}
		return nil
	})
}

// Function returns the function called name, or ErrNotFound.
func (s *Store) Function(ctx context.Context, name string) (Function, error) {
	f, err := scanFunction(s.db.QueryRowContext(ctx, `SELECT `+functionColumns+` FROM lambda_functions WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("function %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("function %s: %w", name, err)
	}
	return f, nil
}

// Functions returns up to limit functions named after after, in name order.
func (s *Store) Functions(ctx context.Context, after string, limit int) ([]Function, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+functionColumns+` FROM lambda_functions WHERE name > ? ORDER BY name LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	defer rows.Close()
	var out []Function
	for rows.Next() {
		f, err := scanFunction(rows)
		if err != nil {
			return nil, fmt.Errorf("list functions: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// PutFunctionConfig replaces the $LATEST configuration of a function.
func (s *Store) PutFunctionConfig(ctx context.Context, name string, config []byte) error {
	return s.exec1(ctx, "put function config "+name, `UPDATE lambda_functions SET config = ? WHERE name = ?`, config, name)
}

// SetReservedConcurrency sets (or, with nil, removes) a function's reserved
// concurrency.
func (s *Store) SetReservedConcurrency(ctx context.Context, name string, n *int) error {
	var v any
	if n != nil {
		v = *n
	}
	return s.exec1(ctx, "reserved concurrency of "+name, `UPDATE lambda_functions SET reserved = ? WHERE name = ?`, v, name)
}

// ReservedTotal returns the sum of the reserved concurrency of every
// function but except.
func (s *Store) ReservedTotal(ctx context.Context, except string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(reserved), 0) FROM lambda_functions WHERE name <> ?`, except).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("reserved concurrency total: %w", err)
	}
	return n, nil
}

// DeleteFunction removes a function with its versions, aliases,
// provisioned-concurrency configurations and permissions. Queued events
// stay; their delivery finds the function gone.
func (s *Store) DeleteFunction(ctx context.Context, name string) error {
	return s.exec1(ctx, "delete function "+name, `DELETE FROM lambda_functions WHERE name = ?`, name)
}

// PublishVersion numbers and stores a new version of a function; build
// returns its configuration document given its number.
func (s *Store) PublishVersion(ctx context.Context, name string, build func(version int) ([]byte, error)) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT next_version FROM lambda_functions WHERE name = ?`, name).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		config, err := build(n)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO lambda_versions(name, version, config) VALUES(?,?,?)`, name, n, config); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE lambda_functions SET next_version = ? WHERE name = ?`, n+1, name)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("publish version of %s: %w", name, err)
	}
	return n, nil
}

// Version returns one published version, or ErrNotFound.
func (s *Store) Version(ctx context.Context, name string, version int) (FunctionVersion, error) {
	v := FunctionVersion{Name: name, Version: version}
	err := s.db.QueryRowContext(ctx, `SELECT config FROM lambda_versions WHERE name = ? AND version = ?`, name, version).Scan(&v.Config)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("version %s:%d: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("version %s:%d: %w", name, version, err)
	}
	return v, nil
}

// Versions returns the published versions of a function in number order.
func (s *Store) Versions(ctx context.Context, name string) ([]FunctionVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, config FROM lambda_versions WHERE name = ? ORDER BY version`, name)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", name, err)
	}
	defer rows.Close()
	var out []FunctionVersion
	for rows.Next() {
		v := FunctionVersion{Name: name}
		if err := rows.Scan(&v.Version, &v.Config); err != nil {
			return nil, fmt.Errorf("versions of %s: %w", name, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeleteVersion removes a published version. A version that an alias points
// to (or routes to) returns a *DependentsError naming the aliases.
func (s *Store) DeleteVersion(ctx context.Context, name string, version int, referencedBy func([]Alias) []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		aliases, err := aliasesTx(ctx, tx, name)
		if err != nil {
			return err
		}
		if refs := referencedBy(aliases); len(refs) > 0 {
			return &DependentsError{Dependents: strings.Join(refs, ", ")}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM lambda_versions WHERE name = ? AND version = ?`, name, version)
		if err != nil {
			return fmt.Errorf("delete version %s:%d: %w", name, version, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("version %s:%d: %w", name, version, ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM lambda_provisioned WHERE name = ? AND qualifier = ?`, name, fmt.Sprint(version))
		return err
	})
}

// PutAlias creates (create true: an existing alias returns *ExistsError) or
// replaces (create false: a missing one returns ErrNotFound) an alias.
func (s *Store) PutAlias(ctx context.Context, a Alias, create bool) error {
	if create {
		return s.tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO lambda_aliases(name, alias, version, config) VALUES(?,?,?,?)`,
				a.Name, a.Alias, a.Version, a.Config)
			if isUniqueViolation(err) {
				return &ExistsError{ID: a.Name + ":" + a.Alias}
			}
			if err != nil {
				return fmt.Errorf("create alias %s:%s: %w", a.Name, a.Alias, err)
			}
			return nil
		})
	}
	return s.exec1(ctx, "update alias "+a.Name+":"+a.Alias, `UPDATE lambda_aliases SET version = ?, config = ? WHERE name = ? AND alias = ?`,
		a.Version, a.Config, a.Name, a.Alias)
}

// Alias returns one alias, or ErrNotFound.
func (s *Store) Alias(ctx context.Context, name, alias string) (Alias, error) {
	a := Alias{Name: name, Alias: alias}
	err := s.db.QueryRowContext(ctx, `SELECT version, config FROM lambda_aliases WHERE name = ? AND alias = ?`, name, alias).Scan(&a.Version, &a.Config)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("alias %s:%s: %w", name, alias, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("alias %s:%s: %w", name, alias, err)
	}
	return a, nil
}

// Aliases returns the aliases of a function in name order.
func (s *Store) Aliases(ctx context.Context, name string) ([]Alias, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("aliases of %s: %w", name, err)
	}
	defer tx.Rollback()
	return aliasesTx(ctx, tx, name)
}

func aliasesTx(ctx context.Context, tx *sql.Tx, name string) ([]Alias, error) {
	rows, err := tx.QueryContext(ctx, `SELECT alias, version, config FROM lambda_aliases WHERE name = ? ORDER BY alias`, name)
	if err != nil {
		return nil, fmt.Errorf("aliases of %s: %w", name, err)
	}
	defer rows.Close()
	var out []Alias
	for rows.Next() {
		a := Alias{Name: name}
		if err := rows.Scan(&a.Alias, &a.Version, &a.Config); err != nil {
			return nil, fmt.Errorf("aliases of %s: %w", name, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeleteAlias removes an alias and its provisioned-concurrency configuration.
func (s *Store) DeleteAlias(ctx context.Context, name, alias string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM lambda_aliases WHERE name = ? AND alias = ?`, name, alias)
		if err != nil {
			return fmt.Errorf("delete alias %s:%s: %w", name, alias, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("alias %s:%s: %w", name, alias, ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM lambda_provisioned WHERE name = ? AND qualifier = ?`, name, alias)
		return err
	})
}

// PutProvisioned stores the provisioned-concurrency configuration of a
// function qualifier, replacing any.
func (s *Store) PutProvisioned(ctx context.Context, p Qualified) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO lambda_provisioned(name, qualifier, config) VALUES(?,?,?)
			ON CONFLICT(name, qualifier) DO UPDATE SET config = excluded.config`, p.Name, p.Qualifier, p.Config)
		if err != nil {
			return fmt.Errorf("put provisioned concurrency %s:%s: %w", p.Name, p.Qualifier, err)
		}
		return nil
	})
}

// Provisioned returns the provisioned-concurrency configurations of a
// function (of one qualifier when qualifier is not empty), in qualifier order.
func (s *Store) Provisioned(ctx context.Context, name, qualifier string) ([]Qualified, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT qualifier, config FROM lambda_provisioned
		WHERE name = ? AND (? = '' OR qualifier = ?) ORDER BY qualifier`, name, qualifier, qualifier)
	if err != nil {
		return nil, fmt.Errorf("provisioned concurrency of %s: %w", name, err)
	}
	defer rows.Close()
	var out []Qualified
	for rows.Next() {
		p := Qualified{Name: name}
		if err := rows.Scan(&p.Qualifier, &p.Config); err != nil {
			return nil, fmt.Errorf("provisioned concurrency of %s: %w", name, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeleteProvisioned removes the provisioned-concurrency configuration of a
// function qualifier, or returns ErrNotFound.
func (s *Store) DeleteProvisioned(ctx context.Context, name, qualifier string) error {
	return s.exec1(ctx, "delete provisioned concurrency "+name+":"+qualifier,
		`DELETE FROM lambda_provisioned WHERE name = ? AND qualifier = ?`, name, qualifier)
}

// AddPermission adds a statement to the resource policy of a function
// qualifier ("" for the unqualified function). A statement id already used
// returns an *ExistsError.
func (s *Store) AddPermission(ctx context.Context, p Permission) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO lambda_permissions(name, qualifier, sid, statement) VALUES(?,?,?,?)`,
			p.Name, p.Qualifier, p.Sid, p.Statement)
		if isUniqueViolation(err) {
			return &ExistsError{ID: p.Sid}
		}
		if err != nil {
			return fmt.Errorf("add permission %s to %s: %w", p.Sid, p.Name, err)
		}
		return nil
	})
}

// Permissions returns the statements of a function qualifier's resource
// policy in the order they were added.
func (s *Store) Permissions(ctx context.Context, name, qualifier string) ([]Permission, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sid, statement FROM lambda_permissions WHERE name = ? AND qualifier = ? ORDER BY rowid`,
		name, qualifier)
	if err != nil {
		return nil, fmt.Errorf("permissions of %s: %w", name, err)
	}
	defer rows.Close()
	var out []Permission
	for rows.Next() {
		p := Permission{Name: name, Qualifier: qualifier}
		if err := rows.Scan(&p.Sid, &p.Statement); err != nil {
			return nil, fmt.Errorf("permissions of %s: %w", name, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RemovePermission removes one statement, or returns ErrNotFound.
func (s *Store) RemovePermission(ctx context.Context, name, qualifier, sid string) error {
	return s.exec1(ctx, "remove permission "+sid+" from "+name,
		`DELETE FROM lambda_permissions WHERE name = ? AND qualifier = ? AND sid = ?`, name, qualifier, sid)
}

// QueuedEvent is an asynchronous invocation waiting for delivery.
type QueuedEvent struct {
	ID                         int64
	RequestID, Name, Qualifier string
	Payload                    []byte
	// Attempts counts failed deliveries; Throttles counts deliveries refused
	// for lack of concurrency, which Lambda retries without counting.
	Attempts, Throttles int
	NextAt, Enqueued    time.Time
}

// EnqueueEvent stores an event for delivery at e.NextAt and returns its id.
func (s *Store) EnqueueEvent(ctx context.Context, e QueuedEvent) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO lambda_events(request_id, name, qualifier, payload, next_at, enqueued_at)
			VALUES(?,?,?,?,?,?)`, e.RequestID, e.Name, e.Qualifier, e.Payload, e.NextAt.UnixMilli(), e.Enqueued.UnixMilli())
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("enqueue event for %s: %w", e.Name, err)
	}
	return id, nil
}

// ClaimDueEvents marks up to limit unclaimed events due at now as claimed
// and returns them, oldest due first.
func (s *Store) ClaimDueEvents(ctx context.Context, now time.Time, limit int) ([]QueuedEvent, error) {
	var out []QueuedEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, request_id, name, qualifier, payload, attempts, throttles, next_at, enqueued_at
			FROM lambda_events WHERE claimed = 0 AND next_at <= ? ORDER BY next_at, id LIMIT ?`, now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e QueuedEvent
			var next, enq int64
			if err := rows.Scan(&e.ID, &e.RequestID, &e.Name, &e.Qualifier, &e.Payload, &e.Attempts, &e.Throttles, &next, &enq); err != nil {
				rows.Close()
				return err
			}
			e.NextAt, e.Enqueued = time.UnixMilli(next), time.UnixMilli(enq)
			out = append(out, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE lambda_events SET claimed = 1 WHERE id = ?`, e.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim due events: %w", err)
	}
	return out, nil
}

// ReleaseEvent returns a claimed event to the queue for another delivery at
// e.NextAt, with its counters as given.
func (s *Store) ReleaseEvent(ctx context.Context, e QueuedEvent) error {
	return s.exec1(ctx, fmt.Sprintf("release event %d", e.ID),
		`UPDATE lambda_events SET claimed = 0, attempts = ?, throttles = ?, next_at = ? WHERE id = ?`,
		e.Attempts, e.Throttles, e.NextAt.UnixMilli(), e.ID)
}

// DeleteEvent removes a delivered (or abandoned) event.
func (s *Store) DeleteEvent(ctx context.Context, id int64) error {
	return s.exec1(ctx, fmt.Sprintf("delete event %d", id), `DELETE FROM lambda_events WHERE id = ?`, id)
}

// ResetEventClaims releases every claim. A server calls it when it starts:
// claims of a previous process were never completed, so those events are
// delivered again (at-least-once delivery).
func (s *Store) ResetEventClaims(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE lambda_events SET claimed = 0 WHERE claimed <> 0`)
		if err != nil {
			return fmt.Errorf("reset event claims: %w", err)
		}
		return nil
	})
}

// NextEventAt returns when the earliest unclaimed event is due; ok is false
// when none is queued.
func (s *Store) NextEventAt(ctx context.Context) (at time.Time, ok bool, err error) {
	var ms sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_at) FROM lambda_events WHERE claimed = 0`).Scan(&ms); err != nil {
		return time.Time{}, false, fmt.Errorf("next event: %w", err)
	}
	if !ms.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms.Int64), true, nil
}

// exec1 runs a statement that must change exactly one row; none changed
// returns ErrNotFound.
func (s *Store) exec1(ctx context.Context, op, query string, args ...any) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s: %w", op, ErrNotFound)
		}
		return nil
	})
}
