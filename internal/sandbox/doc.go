// Package sandbox runs a Lambda execution environment: a process tree in
// its own mount, PID, IPC and UTS namespaces (and, on request, network
// namespace), confined by a cgroup, as an unprivileged user.
//
// # The init
//
// The program re-executes itself (/proc/self/exe) with the hidden argument
// InitCommand, the way runc does; its main calls MaybeRunInit first thing.
// The init is PID 1 of the new PID namespace. It receives its spec as JSON,
// with the handler's stdout and stderr, on fd 3 (a datagram socket, so an
// init can be started before its spec is known), builds the file system, sets the hostname, brings loopback up in an
// isolated network namespace, drops privileges, starts the handler, forwards
// SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it, reaps every
// process re-parented to it, and reports on fd 4 (JSON lines) that the
// handler started, or why set-up failed, and the handler's wait status.
// When the handler exits the init exits too, and the kernel kills whatever
// else was left in the PID namespace; the mount namespace goes with it, so
// no mount ever appears in, or outlives the sandbox on, the host.
//
// A Starter keeps one such init started ahead of time per cgroup parent and
// network mode: a start then costs the file system set-up and the
// handler's exec, not the init's own start-up nor, on cgroup v1, the move
// into the cgroup (a migration, which can wait for an RCU grace period).
//
// # File system
//
// / is a small read-only tmpfs holding a read-only, nosuid bind of each
// entry of Spec.Root (the host root by default). The binds are not
// recursive: mounts beneath the root's entries (other functions' file
// systems under a data directory, the cgroup hierarchies under /sys) stay
// out. Where a mount target lies below an entry of the root, that entry
// becomes a directory of the tmpfs with its own entries bound one by one,
// so no mount point is ever created in a host file system. Then:
//
//	/proc      a proc of the sandbox's PID namespace
//	/dev       read-only tmpfs: null zero full random urandom tty, fd, std{in,out,err}
//	/sys       the host's /sys, read-only, without submounts
//	/tmp       a tmpfs of Spec.TmpSize bytes (ENOSPC past it), or Spec.TmpSource
//	/var/task  Spec.Code, read-only
//	/mnt       empty, except for the Spec.Mounts placed under it
//
// Spec.Mounts (the function's file system at its LocalMountPath, through
// its access point's view), Spec.Code and Spec.TmpSource are cloned in the
// caller's mount namespace as detached mount trees (open_tree), sent to the
// init with its spec and attached with move_mount, read-only where asked:
// an init started ahead of time sees a file system mounted since, and a
// source under /tmp is not hidden by the new /tmp. The root is opened
// before anything is mounted and reached through /proc/self/fd.
//
// # Privileges
//
// The handler runs as Spec.UID/GID (default 993, like Lambda's
// sbx_user1051) with no supplementary groups, empty capability sets
// (bounding and ambient included) and no_new_privs, so no set-user-ID
// program or file capability can give any back. The init becomes the same
// user as soon as the handler has started. A user namespace mapping the
// sandbox user onto host root would not be a privilege drop, so none is
// used: Start needs root (ErrNotRoot otherwise).
//
// # Cgroups
//
// Each sandbox has its own cgroup under Spec.CgroupParent ("tarn"): on the
// unified hierarchy (cgroup v2, detected by statfs of /sys/fs/cgroup) one
// directory with memory, cpu and pids enabled in the parents'
// subtree_control, the init cloned straight into it; on v1 one directory in
// each of the memory, cpu, pids and freezer hierarchies, joined before the
// init reads its spec. Limits: memory = Spec.MemoryBytes (and no swap:
// memory.swap.max 0, or memsw = memory on v1), CPU quota Spec.CPUFraction
// cores per 100 ms period (default MemoryBytes / 1,769 MiB, as on Lambda),
// pids.max = Spec.PidsMax (plus the init's threads); they are written when
// the spec is sent. Stats reads current and peak memory (Lambda's "Max
// Memory Used"); OOMKilled reads the oom_kill counter of memory.events (v2)
// or memory.oom_control (v1).
//
// Kill SIGKILLs the init (the kernel then kills the whole PID namespace)
// and sweeps the cgroup (cgroup.kill on v2; freeze, SIGKILL every member,
// thaw on v1), waits for the init, and removes the cgroup.
//
// # Deviations from Lambda
//
//   - /tmp is a tmpfs: what a handler stores there counts against its
//     memory limit, where Lambda's ephemeral storage is separate. A caller
//     wanting disk-backed /tmp passes a directory as Spec.TmpSource.
//   - The root file system is the host's (read-only), not Amazon Linux.
//   - Spec.PidsMax counts threads as well as processes; pids.max is set
//     16 higher for the init's own threads.
//   - No /dev/shm, as on Lambda; no seccomp filter.
//   - The init is the whole program re-executed: in tarn about 9 MiB
//     resident, most of it text shared with the server, and 3 MiB private
//     (the package initialisers of everything linked in); 1.2 MiB private
//     in the package's test binary. It runs with GOMAXPROCS=1, GOGC=20 and
//     returns its heap to the system once the handler has started.
//   - The root file system of an init started ahead of time (Starter) is
//     the host's mount table as it was when the init started; the code,
//     /tmp source and mounts are always current.
package sandbox
