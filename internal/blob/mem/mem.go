// Package mem is an in-memory blob.Store for tests of other packages. It
// copies data in on Put and out on ReadAt, so callers may reuse their
// buffers, and it follows every rule of the conformance kit in blobtest.
// Nothing is durable: a Store lives as long as the process.
package mem

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"tarn.dev/tarn/internal/blob"
)

// Store is an in-memory blob.Store. The zero value is an empty store ready
// to use; a Store must not be copied after first use.
type Store struct {
	mu      sync.RWMutex
	objects map[string][]byte
	bytes   int64
}

var _ blob.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{} }

// Put stores a copy of data under key.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := blob.CheckKey("put", key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	c := slices.Clone(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects == nil {
		s.objects = make(map[string][]byte)
	}
	s.bytes += int64(len(c)) - int64(len(s.objects[key]))
	s.objects[key] = c
	return nil
}

// ReadAt copies bytes of the object at key, starting at off, into p.
func (s *Store) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	if err := blob.CheckKey("read", key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("read %q: %w", key, err)
	}
	if off < 0 {
		return 0, fmt.Errorf("read %q at %d: negative offset: %w", key, off, fs.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	data, ok := s.objects[key]
	if !ok {
		return 0, fmt.Errorf("read %q: %w", key, blob.ErrNotExist)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey("delete", key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bytes -= int64(len(s.objects[key]))
	delete(s.objects, key)
	return nil
}

// List calls fn for each key with the given prefix in lexicographic order.
// It works on a snapshot of the keys taken when it starts, so fn may call
// Put and Delete; a key deleted since then is skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	if err := blob.CheckPrefix("list", prefix); err != nil {
		return err
	}
	s.mu.RLock()
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	s.mu.RUnlock()
	slices.Sort(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", prefix, err)
		}
		s.mu.RLock()
		data, ok := s.objects[k]
		s.mu.RUnlock()
		if !ok {
			continue
		}
		if err := fn(k, int64(len(data))); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Usage returns the total size and the number of stored objects.
func (s *Store) Usage() (bytes, objects int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.bytes, int64(len(s.objects))
}
