package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MountTarget is a network endpoint of Tarn's file service for one file
// system in one availability zone.
type MountTarget struct {
	ID, FileSystemID, SubnetID, IPAddress    string
	AvailabilityZoneName, NetworkInterfaceID string
	SecurityGroups                           []string
	State                                    string
	Created                                  time.Time
}

const mtColumns = `id, fs_id, subnet_id, ip_address, az_name, eni_id, security_groups, state, created_at`

func scanMountTarget(row scanner) (MountTarget, error) {
	var m MountTarget
	var sg string
	var created int64
	err := row.Scan(&m.ID, &m.FileSystemID, &m.SubnetID, &m.IPAddress, &m.AvailabilityZoneName, &m.NetworkInterfaceID, &sg, &m.State, &created)
	if sg != "" {
		m.SecurityGroups = strings.Split(sg, ",")
	}
	m.Created = time.Unix(created, 0)
	return m, err
}

// CreateMountTarget stores m. A file system that does not exist returns
// ErrNotFound, one that is not available ErrConflict, and a second mount
// target in the same availability zone an *ExistsError.
func (s *Store) CreateMountTarget(ctx context.Context, m MountTarget) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM file_systems WHERE id = ?`, m.FileSystemID).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("file system %s: %w", m.FileSystemID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("create mount target: %w", err)
		}
		if state != StateAvailable {
			return fmt.Errorf("file system %s is %s: %w", m.FileSystemID, state, ErrConflict)
		}
		var existing string
		err = tx.QueryRowContext(ctx, `SELECT id FROM mount_targets WHERE fs_id = ? AND az_name = ?`, m.FileSystemID, m.AvailabilityZoneName).Scan(&existing)
		if err == nil {
			return &ExistsError{ID: existing}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("create mount target: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mount_targets(`+mtColumns+`) VALUES(?,?,?,?,?,?,?,?,?)`,
			m.ID, m.FileSystemID, m.SubnetID, m.IPAddress, m.AvailabilityZoneName, m.NetworkInterfaceID,
			strings.Join(m.SecurityGroups, ","), m.State, m.Created.Unix())
		if err != nil {
			return fmt.Errorf("create mount target: %w", err)
		}
		return nil
	})
}

// MountTarget returns the mount target with the given id, or ErrNotFound.
func (s *Store) MountTarget(ctx context.Context, id string) (MountTarget, error) {
	return queryOne(ctx, s.db, scanMountTarget, "mount target "+id, `SELECT `+mtColumns+` FROM mount_targets WHERE id = ?`, id)
}

// MountTargets returns up to limit mount targets of a file system with ids
// greater than after, in id order.
func (s *Store) MountTargets(ctx context.Context, fsID, after string, limit int) ([]MountTarget, error) {
	return queryList(ctx, s.db, scanMountTarget, `SELECT `+mtColumns+` FROM mount_targets WHERE fs_id = ? AND id > ? ORDER BY id LIMIT ?`,
		fsID, after, limit)
}

// DeleteMountTarget removes a mount target.
func (s *Store) DeleteMountTarget(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete mount target "+id, `DELETE FROM mount_targets WHERE id = ?`, id)
}

// SetMountTargetState changes the lifecycle state of a mount target.
func (s *Store) SetMountTargetState(ctx context.Context, id, state string) error {
	return s.execOne(ctx, "mount target "+id+" state", `UPDATE mount_targets SET state = ? WHERE id = ?`, state, id)
}
