package lambdaapi

import (
	"context"
	"fmt"
	"time"
)

// Runner runs invocations in execution environments. The scheduler
// implements it; the API resolves names, qualifiers and aliases into a
// FunctionVersion first, so a Runner never reads the store.
//
// Errors of Run: a *ThrottleError becomes 429 TooManyRequestsException with
// its Reason; an *awsapi.Error (EFSMountFailureException 403,
// EFSMountConnectivityException 408, EFSIOException 410, …) is sent as it
// is; anything else becomes a 500 ServiceException (and is logged). A
// function that fails is not an error: Run returns its error payload with
// FunctionError set.
type Runner interface {
	// Run delivers one invocation and waits for its result. Run must honour
	// ctx (the client went away or the server is stopping).
	Run(ctx context.Context, fn FunctionVersion, req InvokeRequest) (InvokeResult, error)
	// Configure tells the runner that the concurrency settings of fn changed:
	// fn.Reserved (whole function) and fn.Provisioned (this version). It is
	// called for $LATEST when reserved concurrency changes, and for a version
	// when its provisioned concurrency is set (Provisioned > 0, to be
	// pre-initialised) or removed (Provisioned == 0). An error marks the
	// provisioned configuration FAILED with the error as StatusReason.
	Configure(ctx context.Context, fn FunctionVersion) error
	// Drain retires the execution environments of a function version
	// (version "" means every version) because its code or configuration
	// changed or it was deleted. Invocations already running finish; new
	// ones get fresh environments.
	Drain(ctx context.Context, name, version string) error
}

// FunctionVersion is the resolved configuration of the version an
// invocation runs.
type FunctionVersion struct {
	Name    string // function name
	Version string // "$LATEST" or a published version number
	ARN     string // function ARN qualified with Version
	Runtime string
	Handler string
	Role    string
	// CodeDir is the unpacked deployment package on the host
	// (<code root>/<name>/<hex sha256>); the runner exposes it read-only as
	// /var/task.
	CodeDir     string
	CodeSha256  string // base64, as in the API
	MemoryMB    int
	Timeout     time.Duration
	EphemeralMB int // size of /tmp
	Env         map[string]string
	FileSystems []FileSystemMount
	// RevisionID changes whenever the configuration of $LATEST changes.
	RevisionID   string
	Architecture string
	// Reserved is the function's reserved concurrency; nil when unreserved.
	// Zero means every invocation is throttled (the API answers those
	// itself, without calling Run).
	Reserved *int
	// Provisioned is the provisioned concurrency of this version, counting
	// configurations made through aliases that point to it.
	Provisioned int
}

// FileSystemMount is an EFS access point mounted into the environment.
type FileSystemMount struct {
	AccessPointARN string
	LocalMountPath string // /mnt/<name>
}

// InvokeRequest is one invocation.
type InvokeRequest struct {
	RequestID string
	Payload   []byte
	// ClientContext is the decoded X-Amz-Client-Context (JSON), sync only.
	ClientContext []byte
	// Async is true for Event invocations delivered by the queue; Attempt
	// counts earlier failed deliveries (0, 1 or 2).
	Async   bool
	Attempt int
}

// InvokeResult is the outcome of an invocation that ran.
type InvokeResult struct {
	Payload []byte
	// FunctionError is "" on success, else "Unhandled" (the payload is the
	// error document: errorType, errorMessage, …).
	FunctionError string
	// Log is the invocation's log including its START, END and REPORT
	// lines; the API returns its last 4 KB for LogType Tail.
	Log []byte
	// ExecutedVersion defaults to the FunctionVersion's Version.
	ExecutedVersion string
}

// Throttle reasons, as Lambda reports them.
const (
	ReasonAccountLimit  = "ConcurrentInvocationLimitExceeded"
	ReasonReservedLimit = "ReservedFunctionConcurrentInvocationLimitExceeded"
)

// ThrottleError reports that an invocation could not start for lack of
// concurrency. The API answers 429 TooManyRequestsException with Reason and,
// when RetryAfter is set, a Retry-After header.
type ThrottleError struct {
	Reason     string
	RetryAfter time.Duration
}

func (e *ThrottleError) Error() string { return fmt.Sprintf("throttled: %s", e.Reason) }

// LogEvent is one line of a function's log.
type LogEvent struct {
	Time    time.Time `json:"-"`
	Stream  string    `json:"Stream"`
	Message string    `json:"Message"`
}

// Logs reads the log group of a function (/aws/lambda/<name>), all streams
// merged in time order. Cursors are opaque to the API.
type Logs interface {
	// Tail returns the last n events and the cursor after them.
	Tail(ctx context.Context, function string, n int) (events []LogEvent, next string, err error)
	// Read returns up to limit events after cursor and the cursor after the
	// last one returned (cursor unchanged when there are none).
	Read(ctx context.Context, function, cursor string, limit int) (events []LogEvent, next string, err error)
	// Wait returns when events after cursor may exist, or when ctx ends.
	Wait(ctx context.Context, function, cursor string) error
}
