package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// File-system and other resource lifecycle states, as EFS names them.
const (
	StateCreating  = "creating"
	StateAvailable = "available"
	StateUpdating  = "updating"
	StateDeleting  = "deleting"
	StateDeleted   = "deleted"
)

// FileSystem is the control-plane record of an elastic file system.
type FileSystem struct {
	ID, CreationToken, Name         string
	PerformanceMode, ThroughputMode string
	ProvisionedThroughputMibps      float64
	Encrypted                       bool
	KMSKeyID, AvailabilityZoneName  string
	State                           string
	Created                         time.Time
	// ThroughputLimitedAt is when the throughput mode was last switched or
	// the provisioned throughput decreased (EFS allows that once per 24 h).
	ThroughputLimitedAt time.Time
	// Derived when read: counts of dependents.
	MountTargets, AccessPoints int
}

const fsColumns = `id, creation_token, name, performance_mode, throughput_mode, provisioned_mibps, encrypted,
	kms_key_id, az_name, state, created_at, throughput_limited_at,
	(SELECT COUNT(*) FROM mount_targets m WHERE m.fs_id = file_systems.id),
	(SELECT COUNT(*) FROM access_points a WHERE a.fs_id = file_systems.id)`

func scanFileSystem(row scanner) (FileSystem, error) {
	var f FileSystem
	var created, limited int64
	err := row.Scan(&f.ID, &f.CreationToken, &f.Name, &f.PerformanceMode, &f.ThroughputMode, &f.ProvisionedThroughputMibps,
		&f.Encrypted, &f.KMSKeyID, &f.AvailabilityZoneName, &f.State, &created, &limited, &f.MountTargets, &f.AccessPoints)
	f.Created = time.Unix(created, 0)
	if limited != 0 {
		f.ThroughputLimitedAt = time.Unix(limited, 0)
	}
	return f, err
}

// CreateFileSystem stores f with its tags. A creation token already in use
// returns an *ExistsError with the id of the file system that holds it.
func (s *Store) CreateFileSystem(ctx context.Context, f FileSystem, tags []Tag) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var existing string
		err := tx.QueryRowContext(ctx, `SELECT id FROM file_systems WHERE creation_token = ?`, f.CreationToken).Scan(&existing)
		if err == nil {
			return &ExistsError{ID: existing}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("create file system: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO file_systems(id, creation_token, name, performance_mode, throughput_mode,
			provisioned_mibps, encrypted, kms_key_id, az_name, state, created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?)`,
			f.ID, f.CreationToken, f.Name, f.PerformanceMode, f.ThroughputMode, f.ProvisionedThroughputMibps,
			f.Encrypted, f.KMSKeyID, f.AvailabilityZoneName, f.State, f.Created.Unix())
		if err != nil {
			return fmt.Errorf("create file system: %w", err)
		}
		return putTags(ctx, tx, f.ID, tags)
	})
}

// FileSystem returns the file system with the given id, or ErrNotFound.
func (s *Store) FileSystem(ctx context.Context, id string) (FileSystem, error) {
	return queryOne(ctx, s.db, scanFileSystem, "file system "+id, `SELECT `+fsColumns+` FROM file_systems WHERE id = ?`, id)
}

// FileSystemByToken returns the file system created with token, or ErrNotFound.
func (s *Store) FileSystemByToken(ctx context.Context, token string) (FileSystem, error) {
	return queryOne(ctx, s.db, scanFileSystem, "file system by token", `SELECT `+fsColumns+` FROM file_systems WHERE creation_token = ?`, token)
}

// FileSystems returns up to limit file systems with ids greater than after,
// in id order.
func (s *Store) FileSystems(ctx context.Context, after string, limit int) ([]FileSystem, error) {
	return queryList(ctx, s.db, scanFileSystem, `SELECT `+fsColumns+` FROM file_systems WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// UpdateFileSystem applies fn to the stored record inside a transaction and
// saves the mutable fields (throughput settings, state, name) it changed.
func (s *Store) UpdateFileSystem(ctx context.Context, id string, fn func(*FileSystem) error) (FileSystem, error) {
	var f FileSystem
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if f, err = queryOne(ctx, tx, scanFileSystem, "file system "+id, `SELECT `+fsColumns+` FROM file_systems WHERE id = ?`, id); err != nil {
			return err
		}
		if err := fn(&f); err != nil {
			return err
		}
		var limited int64
		if !f.ThroughputLimitedAt.IsZero() {
			limited = f.ThroughputLimitedAt.Unix()
		}
		_, err = tx.ExecContext(ctx, `UPDATE file_systems SET name = ?, throughput_mode = ?, provisioned_mibps = ?,
			state = ?, throughput_limited_at = ? WHERE id = ?`,
			f.Name, f.ThroughputMode, f.ProvisionedThroughputMibps, f.State, limited, id)
		return err
	})
	if err != nil {
		return f, fmt.Errorf("update file system %s: %w", id, err)
	}
	return f, nil
}

// DeleteFileSystem removes a file system with its policy and tags. It
// refuses with ErrInUse while mount targets or access points exist.
func (s *Store) DeleteFileSystem(ctx context.Context, id string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		f, err := queryOne(ctx, tx, scanFileSystem, "file system "+id, `SELECT `+fsColumns+` FROM file_systems WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if f.MountTargets > 0 || f.AccessPoints > 0 {
			return fmt.Errorf("%w: %d mount targets, %d access points", ErrInUse, f.MountTargets, f.AccessPoints)
		}
		for _, q := range []string{`DELETE FROM fs_policies WHERE fs_id = ?`, `DELETE FROM tags WHERE resource_id = ?`,
			`DELETE FROM file_systems WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete file system %s: %w", id, err)
	}
	return nil
}

// CountFileSystems returns how many file systems exist.
func (s *Store) CountFileSystems(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM file_systems`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count file systems: %w", err)
	}
	return n, nil
}

// FinishCreating makes every file system, access point and mount target
// still recorded as creating available, calling provision for each such file
// system first, and returns how many records it changed. It runs at start-up
// to complete creations a crash interrupted.
func (s *Store) FinishCreating(ctx context.Context, provision func(fsID string) error) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM file_systems WHERE state = ?`, StateCreating)
	if err != nil {
		return 0, fmt.Errorf("finish creating: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := provision(id); err != nil {
			return 0, fmt.Errorf("finish creating %s: %w", id, err)
		}
	}
	n := 0
	err = s.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"file_systems", "access_points", "mount_targets"} {
			res, err := tx.ExecContext(ctx, `UPDATE `+table+` SET state = ? WHERE state = ?`, StateAvailable, StateCreating)
			if err != nil {
				return err
			}
			c, _ := res.RowsAffected()
			n += int(c)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("finish creating: %w", err)
	}
	return n, nil
}
