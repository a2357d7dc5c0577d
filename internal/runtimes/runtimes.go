package runtimes

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PythonInterpreter is the interpreter every python3.x runtime runs. It is an
// absolute path: a PATH lookup could find a shim unreadable to the sandbox
// user.
const PythonInterpreter = "/usr/bin/python3"

// PythonBootstrap is the source of the Python runtime interface.
//
//go:embed bootstrap.py
var PythonBootstrap string

// ErrUnknownRuntime is returned for a runtime id Tarn does not support; the
// Lambda API reports it as InvalidParameterValueException.
var ErrUnknownRuntime = errors.New("unsupported runtime")

// Kind is how a runtime starts.
type Kind int

const (
	// Python runs the embedded bootstrap with PythonInterpreter.
	Python Kind = iota + 1
	// Custom runs the function package's bootstrap executable.
	Custom
)

var supported = map[string]Kind{
	"python3.8":       Python,
	"python3.9":       Python,
	"python3.10":      Python,
	"python3.11":      Python,
	"python3.12":      Python,
	"python3.13":      Python,
	"provided.al2":    Custom,
	"provided.al2023": Custom,
}

// IDs returns the supported runtime ids, sorted.
func IDs() []string {
	ids := make([]string, 0, len(supported))
	for id := range supported {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Lookup returns the kind of runtime id, or an error wrapping
// ErrUnknownRuntime.
func Lookup(id string) (Kind, error) {
	k, ok := supported[id]
	if !ok {
		return 0, fmt.Errorf("runtime %q: %w (supported: %s)", id, ErrUnknownRuntime, strings.Join(IDs(), ", "))
	}
	return k, nil
}

// Command returns the argv that starts runtime id for code in codeDir (the
// path inside the sandbox, /var/task in production). The handler, the
// Runtime API address and the rest reach the process through Environment.
func Command(id, codeDir string) ([]string, error) {
	k, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	switch k {
	case Python:
		// -s: no user site-packages; the bootstrap sets sys.path itself.
		return []string{PythonInterpreter, "-s", "-c", PythonBootstrap}, nil
	default:
		return []string{path.Join(codeDir, "bootstrap")}, nil
	}
}

// Defaults for FunctionInfo's zero fields.
const (
	DefaultTaskRoot   = "/var/task"
	DefaultRuntimeDir = "/var/runtime"
	DefaultRegion     = "us-east-1"
	DefaultVersion    = "$LATEST"
	DefaultMemoryMB   = 128
)

// FunctionInfo is what Environment needs to know about a function and its
// execution environment. Zero fields take the defaults above.
type FunctionInfo struct {
	Name     string
	Version  string // $LATEST or a published version number
	MemoryMB int
	Runtime  string
	Handler  string
	Region   string
	// RuntimeAPI is the host:port of the Runtime API as seen by the process.
	RuntimeAPI string
	TaskRoot   string // LAMBDA_TASK_ROOT, the code directory inside the sandbox
	RuntimeDir string // LAMBDA_RUNTIME_DIR
	// LogStreamName is AWS_LAMBDA_LOG_STREAM_NAME; empty means none is set.
	LogStreamName string
	// InitializationType is on-demand (the default) or provisioned-concurrency.
	InitializationType string
	// Credentials, when AccessKeyID is set, are exported as AWS_ACCESS_KEY_ID,
	// AWS_ACCESS_KEY, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
	AccessKeyID, SecretAccessKey, SessionToken string
	// UserEnv is the function's configured variables. They override the
	// unreserved defaults (LANG, PATH, LD_LIBRARY_PATH, TZ is reserved) and
	// never the reserved ones.
	UserEnv map[string]string
}

// Reserved reports whether name is a variable Lambda sets itself and refuses
// in a function's configuration.
func Reserved(name string) bool {
	switch name {
	case "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
		"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ":
		return true
	}
	return false
}

// Environment returns the process environment ("NAME=value") of a function's
// runtime, as Lambda sets it: the reserved variables, then the unreserved
// defaults overridden by fn.UserEnv, then the other user variables, sorted.
// Values are literal, never expanded.
func Environment(fn FunctionInfo) []string {
	if fn.Version == "" {
		fn.Version = DefaultVersion
	}
	if fn.MemoryMB == 0 {
		fn.MemoryMB = DefaultMemoryMB
	}
	if fn.Region == "" {
		fn.Region = DefaultRegion
	}
	if fn.TaskRoot == "" {
		fn.TaskRoot = DefaultTaskRoot
	}
	if fn.RuntimeDir == "" {
		fn.RuntimeDir = DefaultRuntimeDir
	}
	if fn.InitializationType == "" {
		fn.InitializationType = "on-demand"
	}
	env := []string{
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(fn.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION=" + fn.Version,
		"AWS_LAMBDA_INITIALIZATION_TYPE=" + fn.InitializationType,
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + fn.Name,
		"AWS_LAMBDA_RUNTIME_API=" + fn.RuntimeAPI,
		"AWS_REGION=" + fn.Region,
		"AWS_DEFAULT_REGION=" + fn.Region,
		"_HANDLER=" + fn.Handler,
		"LAMBDA_TASK_ROOT=" + fn.TaskRoot,
		"LAMBDA_RUNTIME_DIR=" + fn.RuntimeDir,
		"TZ=:UTC",
	}
	if fn.LogStreamName != "" {
		env = append(env, "AWS_LAMBDA_LOG_STREAM_NAME="+fn.LogStreamName)
	}
	if k, _ := Lookup(fn.Runtime); k == Python {
		// AWS_EXECUTION_ENV is unset for provided runtimes.
		env = append(env, "AWS_EXECUTION_ENV=AWS_Lambda_"+fn.Runtime)
	}
	if fn.AccessKeyID != "" {
		env = append(env,
			"AWS_ACCESS_KEY_ID="+fn.AccessKeyID,
			"AWS_ACCESS_KEY="+fn.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY="+fn.SecretAccessKey)
		if fn.SessionToken != "" {
			env = append(env, "AWS_SESSION_TOKEN="+fn.SessionToken)
		}
	}
	defaults := [][2]string{
		{"LANG", "en_US.UTF-8"},
		{"PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"},
		{"LD_LIBRARY_PATH", "/lib64:/usr/lib64:" + fn.RuntimeDir + ":" + fn.RuntimeDir + "/lib:" + fn.TaskRoot + ":" + fn.TaskRoot + "/lib:/opt/lib"},
		{"AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"},
	}
	for _, d := range defaults {
		v, ok := fn.UserEnv[d[0]]
		if !ok {
			v = d[1]
		}
		env = append(env, d[0]+"="+v)
	}
	var user []string
	for k, v := range fn.UserEnv {
		if Reserved(k) || slices.ContainsFunc(defaults, func(d [2]string) bool { return d[0] == k }) {
			continue
		}
		user = append(user, k+"="+v)
	}
	slices.Sort(user)
	return append(env, user...)
}

// LogStreamName returns a fresh log stream name for an execution environment
// started on day t: "YYYY/MM/DD/[<version>]<32 hex digits>".
func LogStreamName(t time.Time, version string) string {
	var b [16]byte
	rand.Read(b[:])
	return t.UTC().Format("2006/01/02") + "/[" + version + "]" + hex.EncodeToString(b[:])
}

// BootstrapFile is the name of the compiled bootstrap in the directory
// PrepareBootstrap fills; environments see that directory as
// DefaultRuntimeDir.
const BootstrapFile = "bootstrap.pyc"

// PrepareBootstrap compiles the Python bootstrap with PythonInterpreter into
// dir/BootstrapFile, readable by every user, so that environments run it
// without compiling it at every cold start (PythonCommand).
func PrepareBootstrap(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("prepare bootstrap: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("prepare bootstrap: %w", err)
	}
	// The source keeps the name frames are reported under.
	src := filepath.Join(dir, "bootstrap.py")
	if err := os.WriteFile(src, []byte(PythonBootstrap), 0o644); err != nil {
		return fmt.Errorf("prepare bootstrap: %w", err)
	}
	dst := filepath.Join(dir, BootstrapFile)
	out, err := exec.Command(PythonInterpreter, "-c",
		"import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile=sys.argv[3], doraise=True)",
		src, dst, path.Join(DefaultRuntimeDir, "bootstrap.py")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("prepare bootstrap: compile with %s: %v: %s", PythonInterpreter, err, out)
	}
	return os.Chmod(dst, 0o644)
}

// PythonCommand is the command of a Python environment whose
// DefaultRuntimeDir holds what PrepareBootstrap made.
func PythonCommand() []string {
	return []string{PythonInterpreter, "-s", path.Join(DefaultRuntimeDir, BootstrapFile)}
}
