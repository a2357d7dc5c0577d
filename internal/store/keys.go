package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AccessKey is a SigV4 credential and the principal it authenticates.
type AccessKey struct {
	ID, Secret, Principal, Status string
	Created                       time.Time
}

// PutAccessKey stores a new access key.
func (s *Store) PutAccessKey(ctx context.Context, k AccessKey) error {
	if k.Status == "" {
		k.Status = "Active"
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO access_keys(id, secret, principal, status, created_at) VALUES(?,?,?,?,?)`,
			k.ID, k.Secret, k.Principal, k.Status, k.Created.Unix())
		if isUniqueViolation(err) {
			return &ExistsError{ID: k.ID}
		}
		if err != nil {
			return fmt.Errorf("put access key: %w", err)
		}
		return nil
	})
}

// AccessKey returns the access key with the given id, or ErrNotFound.
func (s *Store) AccessKey(ctx context.Context, id string) (AccessKey, error) {
	var k AccessKey
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, secret, principal, status, created_at FROM access_keys WHERE id = ?`, id).
		Scan(&k.ID, &k.Secret, &k.Principal, &k.Status, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("access key: %w", err)
	}
	k.Created = time.Unix(created, 0)
	return k, nil
}
