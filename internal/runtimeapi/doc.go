// Package runtimeapi serves the AWS Lambda Runtime API (version 2018-06-01) for
// one execution environment.
//
// An Environment sits between the scheduler, which hands it invocations with
// Invoke, and the runtime process (a Python bootstrap, an aws-lambda-go binary,
// any custom runtime) that polls GET /runtime/invocation/next and answers with
// POST /runtime/invocation/{id}/response or /error. The scheduler serves
// Handler on whatever listener it exposes inside the sandbox (a loopback port:
// AWS_LAMBDA_RUNTIME_API must be host:port because aws-lambda-go builds
// http:// URLs from it) and reports the process exit with RuntimeExited.
//
// # Lifecycle
//
// The runtime starts in the Started state. Its first /next marks init as done
// (WaitReady returns, InitDuration is measured from New or Config.Start); a
// POST /runtime/init/error before that marks init as failed. Each /next
// delivers one invocation; the invocation is outstanding until the runtime
// posts /response or /error for its request id. One invocation at a time:
// Invoke returns ErrBusy while another is queued or outstanding.
//
// Invoke blocks until the runtime answers, ctx ends (or Invocation.Deadline
// passes), the runtime exits, or init fails. A non-nil error from Invoke means
// the environment can no longer be used and must be reset (killed and
// re-initialised); the Result still carries the payload Lambda returns to the
// invoker in that case: Sandbox.Timedout, Runtime.ExitError or the init error
// the runtime posted.
//
// # Status codes (as the Runtime Interface Emulator renders them)
//
//   - 200 on /next with the event; 202 {"status":"OK"} on every accepted post.
//   - 403 InvalidStateTransition for a post with no invocation outstanding
//     (a response before /next, a second response for the same id), for
//     /next while an invocation is outstanding, and for init/error after init.
//   - 400 InvalidRequestID for a post whose id is not the outstanding one.
//   - 413 RequestEntityTooLarge for a response over 6 MiB + 100 bytes; the
//     invocation then fails with Function.ResponseSizeTooLarge.
//   - 400 TruncatedHTTPRequest when the body cannot be read in full.
//
// # Deviations and decisions
//
//   - Streaming responses (Lambda-Runtime-Function-Response-Mode: streaming)
//     are buffered like any other response; a Lambda-Runtime-Function-Error-Type
//     trailer (what aws-lambda-go sends when the body fails mid-way) turns the
//     response into an error with the base64 Lambda-Runtime-Function-Error-Body.
//   - An error post whose body is empty gets a synthesised body
//     {"errorMessage":"","errorType":<type>}; a non-empty body is passed through
//     as posted. The error type is the Lambda-Runtime-Function-Error-Type header,
//     else the body's errorType, else "Unhandled".
//   - An empty event payload is delivered as {} (what the managed runtimes see
//     for an Invoke without a payload).
//   - The Extensions API, the Logs/Telemetry APIs and SnapStart restore
//     endpoints are not served.
package runtimeapi
