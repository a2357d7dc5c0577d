package accesspoint

import (
	"sync"

	"tarn.dev/tarn/internal/vfs"
)

// inoSet is a set of inode numbers for many readers and few writers. A
// sync.Map costs about 120 bytes per entry; plain maps sharded by inode
// number under read-write locks cost a fifth of that, and the shards keep
// readers of different inodes off each other's cache lines.
type inoSet struct {
	shards [64]inoShard
}

type inoShard struct {
	mu sync.RWMutex
	m  map[vfs.Ino]struct{}
	_  [32]byte // one shard per cache line
}

func (s *inoSet) shard(ino vfs.Ino) *inoShard {
	// Fibonacci hashing spreads consecutive inode numbers over the shards.
	return &s.shards[(uint64(ino)*0x9E3779B97F4A7C15)>>58]
}

func (s *inoSet) has(ino vfs.Ino) bool {
	sh := s.shard(ino)
	sh.mu.RLock()
	_, ok := sh.m[ino]
	sh.mu.RUnlock()
	return ok
}

func (s *inoSet) add(ino vfs.Ino) {
	if s.has(ino) {
		return
	}
	sh := s.shard(ino)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = map[vfs.Ino]struct{}{}
	}
	sh.m[ino] = struct{}{}
	sh.mu.Unlock()
}

func (s *inoSet) len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}
