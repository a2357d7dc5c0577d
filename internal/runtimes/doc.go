// Package runtimes maps Lambda runtime ids to the process that runs a
// function's code, and builds the environment Lambda gives that process.
//
// # Runtime ids
//
// python3.8 … python3.13 all run the host's Debian interpreter,
// /usr/bin/python3, whatever its version (3.11 on Debian 12): the id selects
// the Lambda behaviour (AWS_EXECUTION_ENV=AWS_Lambda_<id>), not the
// interpreter, so code relying on features newer than the installed Python
// fails at import. The path is absolute on purpose: a PATH lookup can find a
// shim that the sandbox user cannot read. provided.al2 and provided.al2023 run
// the executable named bootstrap at the root of the function's code (built
// with aws-lambda-go, for instance). Any other id is ErrUnknownRuntime.
//
// # The Python runtime interface
//
// bootstrap.py, embedded in the binary and passed to the interpreter with -c
// (nothing is installed inside the sandbox), follows the Lambda runtime
// interface client (awslambdaric) in its text log format:
//
//   - _HANDLER is split on its last dot; the module part may use / or . for
//     packages ("pkg/mod.func", "pkg.mod.func"). The module is imported once,
//     before the first /next, so module-level code runs once per environment.
//   - sys.path starts with LAMBDA_TASK_ROOT, /opt/python/lib/pythonX.Y/
//     site-packages and /opt/python.
//   - Init failures are posted to /runtime/init/error with the error type in
//     Lambda-Runtime-Function-Error-Type, then the process exits with status 1:
//     Runtime.MalformedHandlerName, Runtime.ImportModuleError
//     ("Unable to import module 'm': …"), Runtime.UserCodeSyntaxError,
//     Runtime.HandlerNotFound ("Handler 'f' missing on module 'm'"),
//     Runtime.BuiltInModuleConflict, or the exception's class name when
//     module-level code raises.
//   - An application/json event is decoded (Runtime.UnmarshalError on failure),
//     others are passed as bytes. A bytes result is sent raw as
//     application/unknown, anything else JSON-encoded (Runtime.MarshalError
//     "Unable to marshal response: …" on failure).
//   - An unhandled exception is posted to /error as {"errorMessage",
//     "errorType", "requestId", "stackTrace"} with the traceback frames
//     formatted by traceback.format_list, frames of the bootstrap dropped, and
//     logged as "[ERROR] Type: message" followed by the traceback.
//   - stdout and stderr are unbuffered and left to the caller to capture. The
//     root logger writes "[LEVEL]\t<UTC time>.<ms>Z\t<request id>\t<message>";
//     its level is WARNING unless AWS_LAMBDA_LOG_LEVEL says otherwise.
//   - One persistent HTTP/1.1 connection to the Runtime API, reopened once if
//     it drops.
//
// Deviations: JSON is the standard library's, so Decimal values are encoded
// through int or float where simplejson keeps their exact digits; a
// multi-line error log event is written with newlines rather than the
// telemetry framing Lambda uses; AWS_LAMBDA_LOG_FORMAT=JSON, SnapStart hooks
// and the context's w3c() helper are not implemented.
package runtimes
