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
	"io/fs"
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
