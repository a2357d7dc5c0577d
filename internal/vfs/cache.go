package vfs

import (
	"container/list"
	"sync"
)

// blockCache is a bounded LRU of whole blocks. Blocks are immutable, so a
// cached block never goes stale; it is dropped when its slice is deleted.
type blockCache struct {
	mu    sync.Mutex
	limit int64
	bytes int64
	ll    *list.List
	m     map[string]*list.Element
}

type cacheEntry struct {
	key  string
	data []byte
}

func newBlockCache(limit int64) *blockCache {
	return &blockCache{limit: limit, ll: list.New(), m: map[string]*list.Element{}}
}

func (c *blockCache) get(key string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).data
	}
	return nil
}

// has reports whether key is cached, without counting it as a use.
func (c *blockCache) has(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[key]
	return ok
}

func (c *blockCache) put(key string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok || int64(len(data)) > c.limit {
		return
	}
	c.m[key] = c.ll.PushFront(&cacheEntry{key, data})
	c.bytes += int64(len(data))
	for c.bytes > c.limit {
		e := c.ll.Back()
		ce := e.Value.(*cacheEntry)
		c.ll.Remove(e)
		delete(c.m, ce.key)
		c.bytes -= int64(len(ce.data))
	}
}

func (c *blockCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.ll.Remove(e)
		delete(c.m, key)
		c.bytes -= int64(len(e.Value.(*cacheEntry).data))
	}
}
