package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PutFileSystemPolicy stores the resource policy of a file system.
func (s *Store) PutFileSystemPolicy(ctx context.Context, fsID, policy string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM file_systems WHERE id = ?`, fsID).Scan(&n); err != nil {
			return fmt.Errorf("put policy: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("file system %s: %w", fsID, ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO fs_policies(fs_id, policy) VALUES(?, ?)
			ON CONFLICT(fs_id) DO UPDATE SET policy = excluded.policy`, fsID, policy)
		if err != nil {
			return fmt.Errorf("put policy: %w", err)
		}
		return nil
	})
}

// FileSystemPolicy returns the stored policy of a file system; ok is false
// when none is set (the default policy applies).
func (s *Store) FileSystemPolicy(ctx context.Context, fsID string) (policy string, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT policy FROM fs_policies WHERE fs_id = ?`, fsID).Scan(&policy)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("policy of %s: %w", fsID, err)
	}
	return policy, true, nil
}

// DeleteFileSystemPolicy removes the policy of a file system; the default
// policy applies again. Deleting when none is set is not an error.
func (s *Store) DeleteFileSystemPolicy(ctx context.Context, fsID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM fs_policies WHERE fs_id = ?`, fsID)
		if err != nil {
			return fmt.Errorf("delete policy of %s: %w", fsID, err)
		}
		return nil
	})
}
