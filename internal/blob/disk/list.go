package disk

import (
	"tarn.dev/tarn/internal/blob"

	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// List walks the tree in key order, reading only the directories that can
// hold keys with the prefix. Each directory is read whole before fn is
// called for its keys, so fn may Put and Delete.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	if err := blob.CheckPrefix("list", prefix); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	return s.walk(ctx, s.root, "", prefix, fn)
}

// listEntry is an object or a level directory, with the key (for an object)
// or key prefix ending in "/" (for a level) it stands for.
type listEntry struct {
	key   string
	path  string
	level bool
}

func (s *Store) walk(ctx context.Context, dir, keyPrefix, prefix string, fn func(string, int64) error) error {
	entries, err := s.readLevel(nil, dir, keyPrefix, prefix)
	if err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	// A level's key ends in "/" and all keys below it start with it, while
	// no other entry starts with it, so sorting by these keys puts the
	// subtrees in key order too.
	slices.SortFunc(entries, func(a, b listEntry) int { return strings.Compare(a.key, b.key) })
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", prefix, err)
		}
		if e.level {
			if err := s.walk(ctx, e.path, e.key, prefix, fn); err != nil {
				return err
			}
			continue
		}
		info, err := os.Lstat(e.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since the directory was read
		}
		if err != nil {
			return fmt.Errorf("list %q: %w", prefix, err)
		}
		if err := fn(e.key, info.Size()); err != nil {
			return err
		}
	}
	return nil
}

// readLevel appends to entries the objects and levels in dir that may hold
// keys with prefix. Continuation directories of long segments are read
// through, as their contents belong to the same level of keys.
func (s *Store) readLevel(entries []listEntry, dir, keyPrefix, prefix string) ([]listEntry, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return entries, nil // removed by a Delete since its parent was read
	}
	if err != nil {
		return nil, err
	}
	for _, de := range des {
		kind, text := classify(de.Name(), de.IsDir(), de.Type().IsRegular())
		key := keyPrefix + text
		p := filepath.Join(dir, de.Name())
		switch kind {
		case kindObject:
			if strings.HasPrefix(key, prefix) {
				entries = append(entries, listEntry{key: key, path: p})
			}
		case kindLevel:
			if overlaps(key, prefix) {
				entries = append(entries, listEntry{key: key, path: p, level: true})
			}
		case kindCont:
			if overlaps(key, prefix) {
				if entries, err = s.readLevel(entries, p, key, prefix); err != nil {
					return nil, err
				}
			}
		}
	}
	return entries, nil
}

// overlaps reports whether some key starting with a may start with prefix.
func overlaps(a, prefix string) bool {
	return strings.HasPrefix(a, prefix) || strings.HasPrefix(prefix, a)
}
