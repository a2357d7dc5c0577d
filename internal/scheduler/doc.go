// Package scheduler runs Lambda invocations in pools of execution
// environments.
//
// # Environments
//
// An environment is one sandbox (through the Sandboxes interface, in
// production a sandbox.Starter) running the function's runtime command
// (runtimes.Command) with the code bound at /var/task, each Mount bound at
// its LocalMountPath (read-only when asked), memory limited to MemoryMB,
// /tmp to EphemeralMB, and AWS_LAMBDA_RUNTIME_API pointing at the
// environment's own runtimeapi.Environment served on a loopback port
// (127.0.0.1:0; the sandbox shares the host's network namespace). Its stdout
// and stderr share one pipe, read line by line into the function's log
// stream, one stream per environment named as Lambda names them
// (YYYY/MM/DD/[$LATEST]<32 hex>).
//
// Around each invocation the scheduler writes START, then (after draining
// what the handler printed before answering) END and REPORT, with Init
// Duration on the first REPORT of an on-demand environment only; a
// provisioned environment's init happened before any request.
// Response.LogTail is the invocation's last 4 KB of log (X-Amz-Log-Result).
//
// # Failures
//
// A function error posted by the runtime keeps the environment warm. Any
// other failure destroys the environment (its whole sandbox: every process,
// mount and cgroup), and the next invocation starts a new one:
//
//   - timeout: the environment is killed at the deadline; Sandbox.Timedout,
//     "RequestId: <id> Error: Task timed out after N.NN seconds", with the
//     timeout line and "Status: timeout" in the REPORT;
//   - runtime exit: Runtime.ExitError "… Runtime exited with error: exit
//     status N" (or "signal: …");
//   - out of memory (the sandbox's OOM kill counter): Runtime.OutOfMemory;
//   - init failure: the error the runtime posted (Runtime.ImportModuleError,
//     Runtime.HandlerNotFound …), or Runtime.ExitError when it exited
//     without posting; init is bounded by Config.InitTimeout;
//   - a response over 6 MiB: Function.ResponseSizeTooLarge; the
//     environment is reset too, as its runtime may still be writing the
//     refused body.
//
// A handler that forks without end is bounded by pids.max (Config.PidsMax,
// 1,024 as on Lambda) and its CPU quota; one that fills /tmp gets ENOSPC;
// output is read as fast as it comes and stored in bounded streams.
//
// # Concurrency
//
// Concurrency is the number of invocations in flight, counted when one is
// admitted (before its environment is found or started) and released when
// it ends, under one lock, so the counts are exact. A function with
// reserved concurrency R (all its versions together) runs at most R at
// once; R = 0 throttles everything (ThrottleError with
// ReservedFunctionConcurrentInvocationLimitExceeded). The other functions
// share AccountLimit minus the sum of reservations
// (ConcurrentInvocationLimitExceeded); SetReserved refuses a reservation
// that would leave less than UnreservedMin. Idle environments do not count.
//
// Environments are pooled per version and Revision. An invocation takes an
// idle environment of its pool (a provisioned one first, then the most
// recently used), else starts one. An invocation whose Revision differs
// from its pool's drains the pool: idle environments are destroyed at
// once, busy ones when their invocation ends. SetProvisioned keeps
// Provisioned environments of a version initialized (started with
// AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency), replaces those
// that break, and never reclaims them; invocations beyond them spill over to
// on-demand environments, which are reclaimed after IdleTimeout idle.
//
// # Deviations from Lambda
//
//   - Reserved concurrency comes with each Function (Invoke applies
//     fn.Reserved); SetReserved is the validated way to change it.
//   - Provisioned environments count against concurrency only while busy,
//     and are not recycled every few hours.
//   - Environments are not frozen between invocations: background threads
//     keep running (within the CPU quota).
//   - Idle environments of other functions are not evicted to make room:
//     only invocations in flight are limited.
//   - Init failing during an invocation is not retried within it.
package scheduler
