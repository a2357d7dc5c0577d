package fuse

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"

	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"tarn.dev/tarn/internal/vfs"
)

// groupsTTL is how long the supplementary groups read for a pid are reused.
// A process that calls setgroups(2) is seen with its new groups after at
// most this long.
const groupsTTL = 2 * time.Second

// groupCache maps a requesting thread to its supplementary groups. The FUSE
// request header carries only uid, gid and pid, so the groups come from
// /proc/PID/status, as in the kernel's own NFS and FUSE servers.
type groupCache struct {
	mu      sync.Mutex
	entries map[uint32]groupEntry
	now     func() time.Time
	proc    string // "/proc"
}

type groupEntry struct {
	uid, gid uint32
	groups   []uint32
	at       time.Time
}

func newGroupCache() *groupCache {
	return &groupCache{entries: map[uint32]groupEntry{}, now: time.Now, proc: "/proc"}
}

// caller returns the identity of a request. Root needs no groups. A pid that
// has vanished (or 0, for requests the kernel makes on its own behalf) gets
// its primary group only.
func (g *groupCache) caller(h *gofuse.InHeader) vfs.Caller {
	c := vfs.Caller{UID: h.Uid, GID: h.Gid, PID: h.Pid}
	if h.Uid == 0 || h.Pid == 0 {
		return c
	}
	now := g.now()
	g.mu.Lock()
	e, ok := g.entries[h.Pid]
	g.mu.Unlock()
	if ok && e.uid == h.Uid && e.gid == h.Gid && now.Sub(e.at) < groupsTTL {
		c.Groups = e.groups
		return c
	}
	groups := g.read(h.Pid)
	g.mu.Lock()
	if len(g.entries) >= 4096 {
		for pid, e := range g.entries {
			if now.Sub(e.at) >= groupsTTL {
				delete(g.entries, pid)
			}
		}
		if len(g.entries) >= 4096 {
			clear(g.entries)
		}
	}
	g.entries[h.Pid] = groupEntry{uid: h.Uid, gid: h.Gid, groups: groups, at: now}
	g.mu.Unlock()
	c.Groups = groups
	return c
}

// read parses the "Groups:" line of /proc/PID/status; nil if the process is
// gone.
func (g *groupCache) read(pid uint32) []uint32 {
	data, err := os.ReadFile(g.proc + "/" + strconv.FormatUint(uint64(pid), 10) + "/status")
	if err != nil {
		return nil
	}
	return parseGroups(data)
}

func parseGroups(status []byte) []uint32 {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("Groups:"))
		if !ok {
			continue
		}
		var groups []uint32
		for _, f := range bytes.Fields(rest) {
			n, err := strconv.ParseUint(string(f), 10, 32)
			if err == nil {
				groups = append(groups, uint32(n))
			}
		}
		return groups
	}
	return nil
}
