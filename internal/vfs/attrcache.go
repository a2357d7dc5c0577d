package vfs

import (
	"context"
	"fmt"
	"io/fs"
	"sync"

	"tarn.dev/tarn/internal/meta"
)

// attrCacheLimit bounds the inodes kept by an attrCache; past it the cache
// starts over.
const attrCacheLimit = 1 << 16

// attrCache keeps the stored attributes of recently used inodes in memory,
// so that a GETATTR, or the permission check on the parent directory of a
// lookup, costs no database read. A file system's metadata has one writer,
// this process (see doc.go), so the cache sees every change: it sits
// between the vfs and its meta.Store (cachingStore) and learns each inode a
// write transaction creates, updates or deletes.
//
// Correctness rests on two rules. Writers run one at a time (wmu), drop an
// inode from the cache as soon as they change it, and put its final value
// back only after their transaction committed, so the cache never holds a
// value older than what is committed (and a writer may read it). A reader may only add what it read
// from the database if no writer ran at any time since its read
// transaction began (seq unchanged, none active then), because its
// snapshot could otherwise predate a commit.
type attrCache struct {
	wmu sync.Mutex // held by the one running write transaction

	mu      sync.Mutex // guards the fields below
	entries map[Ino]meta.Inode
	seq     uint64 // bumped when a writer starts or ends
	active  bool   // a writer is running
}

func newAttrCache() *attrCache { return &attrCache{entries: map[Ino]meta.Inode{}} }

// get returns the cached attributes of ino.
func (c *attrCache) get(ino Ino) (meta.Inode, bool) {
	c.mu.Lock()
	in, ok := c.entries[ino]
	c.mu.Unlock()
	return in, ok
}

// readMark is taken before a read transaction begins; fill checks it.
type readMark struct {
	seq      uint64
	unusable bool
}

func (c *attrCache) mark() readMark {
	c.mu.Lock()
	defer c.mu.Unlock()
	return readMark{seq: c.seq, unusable: c.active}
}

// fill adds attributes read in a transaction that began after m, unless a
// writer ran since.
func (c *attrCache) fill(m readMark, in meta.Inode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.unusable || c.seq != m.seq {
		return
	}
	if _, ok := c.entries[in.Ino]; !ok {
		c.putLocked(in)
	}
}

func (c *attrCache) putLocked(in meta.Inode) {
	if len(c.entries) >= attrCacheLimit {
		clear(c.entries)
	}
	c.entries[in.Ino] = in
}

// startWrite begins a write transaction: it waits for the previous one to
// end.
func (c *attrCache) startWrite() {
	c.wmu.Lock()
	c.mu.Lock()
	c.seq++
	c.active = true
	c.mu.Unlock()
}

// changed drops ino, which the running write transaction has just changed.
func (c *attrCache) changed(ino Ino) {
	c.mu.Lock()
	delete(c.entries, ino)
	c.mu.Unlock()
}

// endWrite ends the running write transaction, storing the final values of
// the inodes it created or updated if it committed.
func (c *attrCache) endWrite(committed bool, written map[Ino]*meta.Inode) {
	c.mu.Lock()
	if committed {
		for ino, in := range written {
			if in == nil { // deleted
				delete(c.entries, ino)
				continue
			}
			c.putLocked(*in)
		}
	}
	c.seq++
	c.active = false
	c.mu.Unlock()
	c.wmu.Unlock()
}

// cachingStore is a meta.Store whose transactions go through an attrCache:
// read transactions take inodes from it, write transactions keep it
// current.
type cachingStore struct {
	meta.Store
	c *attrCache
}

func (s cachingStore) View(ctx context.Context, fn func(tx meta.Tx) error) error {
	m := s.c.mark()
	return s.Store.View(ctx, func(tx meta.Tx) error { return fn(cachedViewTx{Tx: tx, c: s.c, m: m}) })
}

func (s cachingStore) Update(ctx context.Context, fn func(tx meta.Tx) error) error {
	s.c.startWrite()
	var written map[Ino]*meta.Inode
	err := s.Store.Update(ctx, func(tx meta.Tx) error {
		// A retried attempt starts over; what earlier attempts dropped
		// stays dropped.
		written = map[Ino]*meta.Inode{}
		return fn(cachedWriteTx{Tx: tx, c: s.c, written: written})
	})
	s.c.endWrite(err == nil, written)
	return err
}

// cachedViewTx serves Inode from the cache and fills it on a miss.
type cachedViewTx struct {
	meta.Tx
	c *attrCache
	m readMark
}

func (t cachedViewTx) Inode(ino Ino) (meta.Inode, error) {
	if in, ok := t.c.get(ino); ok {
		return in, nil
	}
	in, err := t.Tx.Inode(ino)
	if err == nil {
		t.c.fill(t.m, in)
	}
	return in, err
}

// cachedWriteTx records the inodes a write transaction changes. It reads
// its own changes first, then the cache, which holds committed values only
// while this transaction is the one writer; what it changed it has dropped
// from the cache.
type cachedWriteTx struct {
	meta.Tx
	c       *attrCache
	written map[Ino]*meta.Inode
}

func (t cachedWriteTx) Inode(ino Ino) (meta.Inode, error) {
	if in, ok := t.written[ino]; ok {
		if in == nil {
			return meta.Inode{}, fmt.Errorf("inode %d: %w", ino, fs.ErrNotExist)
		}
		return *in, nil
	}
	if in, ok := t.c.get(ino); ok {
		return in, nil
	}
	return t.Tx.Inode(ino)
}

func (t cachedWriteTx) CreateInode(in meta.Inode) error {
	t.c.changed(in.Ino)
	err := t.Tx.CreateInode(in)
	if err == nil {
		t.written[in.Ino] = &in
	}
	return err
}

func (t cachedWriteTx) UpdateInode(in meta.Inode) error {
	t.c.changed(in.Ino)
	err := t.Tx.UpdateInode(in)
	if err == nil {
		t.written[in.Ino] = &in
	}
	return err
}

func (t cachedWriteTx) DeleteInode(ino Ino) error {
	t.c.changed(ino)
	err := t.Tx.DeleteInode(ino)
	if err == nil {
		t.written[ino] = nil
	}
	return err
}
