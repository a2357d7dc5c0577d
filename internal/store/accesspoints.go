package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// PosixUser is the identity an access point forces on every request.
type PosixUser struct {
	UID, GID      uint32
	SecondaryGIDs []uint32
}

// CreationInfo says how to create an access point's root directory.
type CreationInfo struct {
	OwnerUID, OwnerGID uint32
	Permissions        string // octal, e.g. "750"
}

// AccessPoint is the control-plane record of an access point.
type AccessPoint struct {
	ID, FileSystemID, ClientToken, Name string
	PosixUser                           *PosixUser
	RootPath                            string
	CreationInfo                        *CreationInfo
	State                               string
	Created                             time.Time
}

const apColumns = `id, fs_id, client_token, name, posix_user, root_path, creation_info, state, created_at`

func scanAccessPoint(row scanner) (AccessPoint, error) {
	var a AccessPoint
	var pu, ci string
	var created int64
	if err := row.Scan(&a.ID, &a.FileSystemID, &a.ClientToken, &a.Name, &pu, &a.RootPath, &ci, &a.State, &created); err != nil {
		return a, err
	}
	a.Created = time.Unix(created, 0)
	if pu != "" {
		a.PosixUser = new(PosixUser)
		if err := json.Unmarshal([]byte(pu), a.PosixUser); err != nil {
			return a, fmt.Errorf("access point %s posix user: %w", a.ID, err)
		}
	}
	if ci != "" {
		a.CreationInfo = new(CreationInfo)
		if err := json.Unmarshal([]byte(ci), a.CreationInfo); err != nil {
			return a, fmt.Errorf("access point %s creation info: %w", a.ID, err)
		}
	}
	return a, nil
}

func jsonOrEmpty(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// CreateAccessPoint stores a with its tags. A client token already in use
// returns an *ExistsError; a missing file system returns ErrNotFound; more
// than limit access points on one file system returns ErrConflict.
func (s *Store) CreateAccessPoint(ctx context.Context, a AccessPoint, tags []Tag, limit int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var existing string
		err := tx.QueryRowContext(ctx, `SELECT id FROM access_points WHERE client_token = ?`, a.ClientToken).Scan(&existing)
		if err == nil {
			return &ExistsError{ID: existing}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("create access point: %w", err)
		}
		var state string
		var count int
		err = tx.QueryRowContext(ctx, `SELECT state, (SELECT COUNT(*) FROM access_points WHERE fs_id = ?) FROM file_systems WHERE id = ?`,
			a.FileSystemID, a.FileSystemID).Scan(&state, &count)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("file system %s: %w", a.FileSystemID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("create access point: %w", err)
		}
		if state != StateAvailable {
			return fmt.Errorf("file system %s is %s: %w", a.FileSystemID, state, ErrConflict)
		}
		if count >= limit {
			return fmt.Errorf("file system %s has %d access points: %w", a.FileSystemID, count, ErrInUse)
		}
		var pu, ci string
		if a.PosixUser != nil {
			pu = jsonOrEmpty(a.PosixUser)
		}
		if a.CreationInfo != nil {
			ci = jsonOrEmpty(a.CreationInfo)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO access_points(`+apColumns+`) VALUES(?,?,?,?,?,?,?,?,?)`,
			a.ID, a.FileSystemID, a.ClientToken, a.Name, pu, a.RootPath, ci, a.State, a.Created.Unix())
		if err != nil {
			return fmt.Errorf("create access point: %w", err)
		}
		return putTags(ctx, tx, a.ID, tags)
	})
}

// AccessPoint returns the access point with the given id, or ErrNotFound.
func (s *Store) AccessPoint(ctx context.Context, id string) (AccessPoint, error) {
	return queryOne(ctx, s.db, scanAccessPoint, "access point "+id, `SELECT `+apColumns+` FROM access_points WHERE id = ?`, id)
}

// AccessPoints returns up to limit access points (of one file system when
// fsID is not empty) with ids greater than after, in id order.
func (s *Store) AccessPoints(ctx context.Context, fsID, after string, limit int) ([]AccessPoint, error) {
	return queryList(ctx, s.db, scanAccessPoint, `SELECT `+apColumns+` FROM access_points
		WHERE (? = '' OR fs_id = ?) AND id > ? ORDER BY id LIMIT ?`, fsID, fsID, after, limit)
}

// DeleteAccessPoint removes an access point and its tags.
func (s *Store) DeleteAccessPoint(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM access_points WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete access point %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM tags WHERE resource_id = ?`, id)
		return err
	})
}

// SetAccessPointState changes the lifecycle state of an access point.
func (s *Store) SetAccessPointState(ctx context.Context, id, state string) (AccessPoint, error) {
	if err := s.execOne(ctx, "access point "+id+" state", `UPDATE access_points SET state = ? WHERE id = ?`, state, id); err != nil {
		return AccessPoint{}, err
	}
	return s.AccessPoint(ctx, id)
}
