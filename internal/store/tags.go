package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Tag is a key-value label on a file system or access point.
type Tag struct{ Key, Value string }

func putTags(ctx context.Context, tx *sql.Tx, resourceID string, tags []Tag) error {
	for _, t := range tags {
		_, err := tx.ExecContext(ctx, `INSERT INTO tags(resource_id, key, value) VALUES(?,?,?)
			ON CONFLICT(resource_id, key) DO UPDATE SET value = excluded.value`, resourceID, t.Key, t.Value)
		if err != nil {
			return fmt.Errorf("tag %s: %w", resourceID, err)
		}
	}
	return nil
}

// resourceExists reports whether id names a stored file system or access point.
func resourceExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM file_systems WHERE id = ?) + (SELECT COUNT(*) FROM access_points WHERE id = ?)`, id, id).Scan(&n)
	return n > 0, err
}

// TagResource adds or replaces tags on a file system or access point. When
// the Name tag of a file system changes, its Name follows.
func (s *Store) TagResource(ctx context.Context, id string, tags []Tag) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ok, err := resourceExists(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		if err := putTags(ctx, tx, id, tags); err != nil {
			return err
		}
		return syncName(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("tag resource %s: %w", id, err)
	}
	return nil
}

// UntagResource removes the tags with the given keys; absent keys are ignored.
func (s *Store) UntagResource(ctx context.Context, id string, keys []string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ok, err := resourceExists(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE resource_id = ? AND key = ?`, id, k); err != nil {
				return err
			}
		}
		return syncName(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("untag resource %s: %w", id, err)
	}
	return nil
}

// syncName keeps the Name column equal to the Name tag.
func syncName(ctx context.Context, tx *sql.Tx, id string) error {
	name := `COALESCE((SELECT value FROM tags WHERE resource_id = ? AND key = 'Name'), '')`
	if _, err := tx.ExecContext(ctx, `UPDATE file_systems SET name = `+name+` WHERE id = ?`, id, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE access_points SET name = `+name+` WHERE id = ?`, id, id)
	return err
}

// Tags returns the tags of a resource in key order, or ErrNotFound when the
// resource does not exist.
func (s *Store) Tags(ctx context.Context, id string) ([]Tag, error) {
	ok, err := resourceExists(ctx, s.db, id)
	if err != nil {
		return nil, fmt.Errorf("tags %s: %w", id, err)
	}
	if !ok {
		return nil, ErrNotFound
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM tags WHERE resource_id = ? ORDER BY key`, id)
	if err != nil {
		return nil, fmt.Errorf("tags %s: %w", id, err)
	}
	defer rows.Close()
	tags := []Tag{}
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	return tags, rows.Err()
}

// TagsOf returns the tags of several resources in one query, in key order.
// Resources without tags map to an empty list.
func (s *Store) TagsOf(ctx context.Context, ids []string) (map[string][]Tag, error) {
	out := make(map[string][]Tag, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
		out[id] = []Tag{}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT resource_id, key, value FROM tags WHERE resource_id IN (?`+
		strings.Repeat(",?", len(ids)-1)+`) ORDER BY resource_id, key`, args...)
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t Tag
		if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
		out[id] = append(out[id], t)
	}
	return out, rows.Err()
}
