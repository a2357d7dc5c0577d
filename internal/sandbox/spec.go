package sandbox

import (
	"errors"
	"io"
	"syscall"
)

// InitCommand is the hidden argv[1] with which the program re-executes
// itself as a sandbox's init.
const InitCommand = "__tarn-sandbox-init"

// Defaults applied to zero Spec fields.
const (
	DefaultUID          = 993 // the sandbox user, like Lambda's sbx_user1051
	DefaultGID          = 993
	DefaultTmpSize      = 512 << 20
	DefaultCgroupParent = "tarn"
	DefaultHostname     = "localhost"
	// MiBPerCore is the memory size that buys one full CPU core, as on
	// Lambda (1,769 MB ≈ one vCPU).
	MiBPerCore = 1769
)

// initPids is what the init's own threads may take of pids.max, on top of
// Spec.PidsMax: a Go program with GOMAXPROCS=1 and a locked main thread
// runs about 5, up to 9 under the race detector.
const initPids = 16

// maxMounts bounds Spec.Mounts (each is a file descriptor sent to the init).
const maxMounts = 64

// ErrNotRoot is returned by Start when the process lacks the privileges to
// create namespaces, mounts and cgroups.
var ErrNotRoot = errors.New("sandbox: must run as root")

// Bind is a host path bind-mounted into the sandbox.
type Bind struct {
	Source   string // host path (file or directory)
	Target   string // absolute path inside the sandbox
	ReadOnly bool
}

// Spec describes one sandbox. The zero value of every field but Argv means
// its default.
type Spec struct {
	Root      string // host directory seen read-only as /; "" or "/" = the host root
	Code      string // host directory bound read-only at /var/task; "" = empty
	Mounts    []Bind // extra binds, e.g. the function's file system at /mnt/efs
	TmpSize   int64  // size of the private /tmp tmpfs in bytes; 0 = 512 MiB
	TmpSource string // host directory bound read-write at /tmp instead of a tmpfs

	MemoryBytes  int64   // memory limit; 0 = unlimited
	CPUFraction  float64 // CPU quota in cores; 0 = MemoryBytes / 1,769 MiB
	PidsMax      int     // process and thread limit, besides the init's; 0 = unlimited
	CgroupParent string  // cgroup parent, relative to each hierarchy's root; "" = "tarn"

	UID, GID        uint32 // the sandbox user; 0 = 993 (root is never used)
	Env             []string
	Argv            []string // Argv[0] is absolute or looked up in Env's PATH
	Dir             string   // working directory; "" = /var/task
	Stdout, Stderr  io.Writer
	NetworkIsolated bool   // a network namespace with only loopback
	Hostname        string // "" = localhost
}

// ExitInfo is how a sandbox ended.
type ExitInfo struct {
	ExitCode  int            // the process's exit status; -1 when killed by a signal
	Signal    syscall.Signal // the signal that killed it, or 0
	OOMKilled bool           // the kernel's OOM killer killed a process in the sandbox
	Killed    bool           // Kill was called
	MaxMemory int64          // peak memory use in bytes
}

// Stats is a sandbox's resource use.
type Stats struct {
	MemoryBytes    int64 // current memory use
	MaxMemoryBytes int64 // peak memory use
}

// ErrClosed is returned by a closed Starter.
var ErrClosed = errors.New("sandbox: starter closed")
