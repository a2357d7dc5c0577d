// Package store keeps Tarn's control-plane records — access keys, file
// systems, access points, mount targets, file-system policies and tags — in
// the SQL database of the data directory (SQLite by default).
//
// The store enforces the invariants that need a transaction (idempotency
// tokens, "in use" checks on delete, one mount target per availability zone)
// and reports them with the sentinel errors below; the API packages translate
// those into AWS error codes.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrNotFound: no record with that id.
	ErrNotFound = errors.New("not found")
	// ErrInUse: the record still has dependents.
	ErrInUse = errors.New("in use")
	// ErrConflict: the change conflicts with the current state of the record.
	ErrConflict = errors.New("conflict")
)

// ExistsError reports that an idempotency token is already taken by ID.
type ExistsError struct{ ID string }

func (e *ExistsError) Error() string { return "already exists: " + e.ID }

// Store is the control-plane database.
type Store struct {
	db *sql.DB
}

// Open opens (creating if needed) the SQLite database at path in WAL mode
// and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return s, nil
}

// DB returns the underlying database, shared with the file-system metadata.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

var schema = []string{
	`CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS access_keys (
		id TEXT PRIMARY KEY, secret TEXT NOT NULL, principal TEXT NOT NULL,
		status TEXT NOT NULL DEFAULT 'Active', created_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS file_systems (
		id TEXT PRIMARY KEY, creation_token TEXT NOT NULL UNIQUE, name TEXT NOT NULL DEFAULT '',
		performance_mode TEXT NOT NULL, throughput_mode TEXT NOT NULL, provisioned_mibps REAL NOT NULL DEFAULT 0,
		encrypted INTEGER NOT NULL, kms_key_id TEXT NOT NULL DEFAULT '', az_name TEXT NOT NULL DEFAULT '',
		state TEXT NOT NULL, created_at INTEGER NOT NULL, throughput_limited_at INTEGER NOT NULL DEFAULT 0)`,
	`CREATE TABLE IF NOT EXISTS access_points (
		id TEXT PRIMARY KEY, fs_id TEXT NOT NULL REFERENCES file_systems(id), client_token TEXT NOT NULL UNIQUE,
		name TEXT NOT NULL DEFAULT '', posix_user TEXT NOT NULL DEFAULT '', root_path TEXT NOT NULL,
		creation_info TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, created_at INTEGER NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS access_points_fs ON access_points(fs_id, id)`,
	`CREATE TABLE IF NOT EXISTS mount_targets (
		id TEXT PRIMARY KEY, fs_id TEXT NOT NULL REFERENCES file_systems(id), subnet_id TEXT NOT NULL,
		ip_address TEXT NOT NULL, az_name TEXT NOT NULL, eni_id TEXT NOT NULL, security_groups TEXT NOT NULL DEFAULT '',
		state TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE(fs_id, az_name))`,
	`CREATE INDEX IF NOT EXISTS mount_targets_fs ON mount_targets(fs_id, id)`,
	`CREATE TABLE IF NOT EXISTS fs_policies (fs_id TEXT PRIMARY KEY REFERENCES file_systems(id), policy TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS tags (resource_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
		PRIMARY KEY(resource_id, key))`,
	`CREATE INDEX IF NOT EXISTS access_keys_principal ON access_keys(principal)`,
	`CREATE TABLE IF NOT EXISTS iam_users (name TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
		arn TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS iam_roles (name TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
		arn TEXT NOT NULL UNIQUE, assume_policy TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
		max_session INTEGER NOT NULL, created_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS iam_inline_policies (owner_kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE,
		name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL, PRIMARY KEY(owner_kind, owner, name))`,
	`CREATE TABLE IF NOT EXISTS iam_policies (arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
		id TEXT NOT NULL, path TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', default_version TEXT NOT NULL,
		next_version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS iam_policy_versions (policy_arn TEXT NOT NULL REFERENCES iam_policies(arn) ON DELETE CASCADE,
		version_id TEXT NOT NULL, document TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY(policy_arn, version_id))`,
	`CREATE TABLE IF NOT EXISTS iam_attachments (owner_kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE,
		policy_arn TEXT NOT NULL, PRIMARY KEY(owner_kind, owner, policy_arn))`,
	`CREATE INDEX IF NOT EXISTS iam_attachments_policy ON iam_attachments(policy_arn)`,
}

func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range schema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		}
		return nil
	})
}

// tx runs fn in a write transaction and commits it if fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// isUniqueViolation reports whether err is SQLite's constraint violation for
// a UNIQUE or PRIMARY KEY index.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Setting returns the value of a setting, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return v, nil
}

// InitSetting stores value under key unless key is already set, and returns
// the value in force. It makes first-start initialisation race free.
func (s *Store) InitSetting(ctx context.Context, key, value string) (string, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES(?, ?) ON CONFLICT(key) DO NOTHING`, key, value)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("init setting %s: %w", key, err)
	}
	return s.Setting(ctx, key)
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// querier runs queries: *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryOne runs a query for one record and scans it with scan; no row is
// ErrNotFound. what names the record in errors.
func queryOne[T any](ctx context.Context, q querier, scan func(scanner) (T, error), what, query string, args ...any) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// queryList runs a query and scans every row with scan.
func queryList[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return out, nil
}

// execOne runs a statement that must change exactly one row in its own
// transaction; changing none is ErrNotFound. what names the change in errors.
func (s *Store) execOne(ctx context.Context, what, query string, args ...any) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
