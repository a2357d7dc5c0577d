// Package blob defines the contract for Tarn's data store: a flat namespace of
// immutable objects ("blocks") addressed by string keys. The file system writes
// every block once and never modifies it; superseded blocks are deleted by
// garbage collection. Backends (disk, mem, s3) live in subpackages, and every
// backend must pass the conformance kit in blobtest. Caching and encryption are
// decorators that implement the same interface.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// ErrNotExist is returned (possibly wrapped) when a key is not stored.
var ErrNotExist = fs.ErrNotExist

// ErrNoSpace is returned (possibly wrapped) when the backend is out of space.
// A failed Put leaves no partial object behind.
var ErrNoSpace = errors.New("no space left in blob store")

// Store is a store of immutable objects.
//
// Keys are non-empty strings of [A-Za-z0-9/_.-] without "..", at most 512
// bytes; "/" separates levels of a hierarchy that List can filter by prefix.
type Store interface {
	// Put stores data under key. It is durable when Put returns. Putting a key
	// that already exists replaces it atomically (readers see old or new,
	// never a mix); the file system only does so with identical content.
	Put(ctx context.Context, key string, data []byte) error
	// ReadAt reads len(p) bytes of the object starting at off into p and
	// returns how many bytes it read. Reading past the end of the object
	// returns the bytes available and io.EOF, as io.ReaderAt does.
	ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error)
	// Delete removes key. Deleting a key that does not exist is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for each stored key with the given prefix, in
	// lexicographic order, with the object's size. It stops at the first
	// error fn returns and returns that error.
	List(ctx context.Context, prefix string, fn func(key string, size int64) error) error
}

// Usager is implemented by stores that know how much they hold.
type Usager interface {
	Usage() (bytes, objects int64)
}

// CheckKey reports whether key is a valid blob key: 1 to 512 bytes of
// [A-Za-z0-9/_.-], no "..", not absolute, and no empty or "." segment. Every
// backend applies these rules; blobtest pins them. Errors wrap fs.ErrInvalid.
func CheckKey(op, key string) error {
	if key == "" {
		return fmt.Errorf("%s: invalid key: empty: %w", op, fs.ErrInvalid)
	}
	if err := CheckPrefix(op, key); err != nil {
		return err
	}
	if strings.HasSuffix(key, "/") || strings.Contains(key, "//") || key == "." ||
		strings.HasPrefix(key, "./") || strings.HasSuffix(key, "/.") || strings.Contains(key, "/./") {
		return fmt.Errorf("%s %q: invalid key: empty or \".\" segment: %w", op, key, fs.ErrInvalid)
	}
	return nil
}

// CheckPrefix checks a List prefix, which may end in the middle of a segment:
// at most 512 bytes of [A-Za-z0-9/_.-], no "..", not absolute.
func CheckPrefix(op, s string) error {
	if len(s) > 512 {
		return fmt.Errorf("%s: invalid key: %d bytes, longer than 512: %w", op, len(s), fs.ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("%s %q: invalid key: byte %q at %d is not in [A-Za-z0-9/_.-]: %w", op, s, c, i, fs.ErrInvalid)
		}
	}
	if strings.HasPrefix(s, "/") {
		return fmt.Errorf("%s %q: invalid key: absolute: %w", op, s, fs.ErrInvalid)
	}
	if strings.Contains(s, "..") {
		return fmt.Errorf("%s %q: invalid key: contains \"..\": %w", op, s, fs.ErrInvalid)
	}
	return nil
}

type streamingKey struct{}

// Streaming marks the Puts made with the returned context as part of a
// stream written once, such as a large file written from start to end: the
// writer's own page cache already holds the data, so a store may write it
// without keeping another copy in memory (the disk store uses direct I/O).
// Data likely to be read back through the store soon, such as rewritten
// (compacted) data or many small random writes, is put without it.
func Streaming(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamingKey{}, true)
}

// IsStreaming reports whether ctx was marked by Streaming.
func IsStreaming(ctx context.Context) bool {
	v, _ := ctx.Value(streamingKey{}).(bool)
	return v
}
