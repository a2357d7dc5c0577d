package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func fnCommand() *command {
	return &command{name: "fn", usage: "tarn fn SUBCOMMAND", summary: "Lambda functions", sub: []*command{
		{name: "create", usage: "tarn fn create NAME --runtime R --handler H --code DIR|ZIP --role ARN [--memory MB --timeout S --env K=V --fs AP_ARN:/mnt/P]",
			summary: "create a function", run: fnCreate},
		{name: "update", usage: "tarn fn update NAME [--code DIR|ZIP] [--memory MB --timeout S --env K=V --fs AP_ARN:/mnt/P ...]",
			summary: "update a function's code and configuration", run: fnUpdate},
		{name: "invoke", usage: "tarn fn invoke NAME [--payload FILE|-] [--log] [--async] [--qualifier Q]", summary: "invoke a function", run: fnInvoke},
		{name: "ls", usage: "tarn fn ls", summary: "list functions", run: fnList},
		{name: "show", usage: "tarn fn show NAME", summary: "show a function's configuration", run: fnShow},
		{name: "rm", usage: "tarn fn rm NAME...", summary: "delete functions", run: fnRemove},
		{name: "publish", usage: "tarn fn publish NAME [--description D]", summary: "publish a version", run: fnPublish},
		{name: "concurrency", usage: "tarn fn concurrency NAME [N|--delete]", summary: "show, set or remove reserved concurrency", run: fnConcurrency},
	}}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// fnFlags are the configuration flags of create and update.
type fnFlags struct {
	runtime, handler, code, role, description *string
	memory, timeout, ephemeral                *int
	env, fs                                   listFlag
	clearEnv, noWait                          *bool
}

func registerFnFlags(fs *flag.FlagSet) *fnFlags {
	f := &fnFlags{
		runtime:     fs.String("runtime", "", "runtime, e.g. python3.12 or provided.al2023"),
		handler:     fs.String("handler", "", "handler, e.g. app.handler"),
		code:        fs.String("code", "", "code: a directory (zipped for you) or a .zip file"),
		role:        fs.String("role", "", "execution role ARN"),
		description: fs.String("description", "", "description"),
		memory:      fs.Int("memory", 0, "memory in MB (128-10240)"),
		timeout:     fs.Int("timeout", 0, "timeout in seconds (1-900)"),
		ephemeral:   fs.Int("tmp", 0, "size of /tmp in MB (512-10240)"),
		clearEnv:    fs.Bool("clear-env", false, "remove every environment variable (update)"),
		noWait:      fs.Bool("no-wait", false, "return without waiting for the function to become Active"),
	}
	fs.Var(&f.env, "env", "environment variable K=V (repeatable; on update, replaces all)")
	fs.Var(&f.fs, "fs", "file system ACCESS_POINT_ARN:/mnt/PATH (repeatable; on update, 'none' detaches)")
	return f
}

func (f *fnFlags) environment() (*types.Environment, error) {
	if len(f.env) == 0 && !*f.clearEnv {
		return nil, nil
	}
	vars := map[string]string{}
	for _, kv := range f.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--env %q is not K=V", kv)
		}
		vars[k] = v
	}
	return &types.Environment{Variables: vars}, nil
}

func (f *fnFlags) fileSystems() ([]types.FileSystemConfig, error) {
	if len(f.fs) == 0 {
		return nil, nil
	}
	out := []types.FileSystemConfig{}
	for _, v := range f.fs {
		if v == "none" {
			continue
		}
		i := strings.LastIndex(v, ":/")
		if i < 0 {
			return nil, usagef("--fs %q is not ACCESS_POINT_ARN:/mnt/PATH", v)
		}
		out = append(out, types.FileSystemConfig{Arn: aws.String(v[:i]), LocalMountPath: aws.String(v[i+1:])})
	}
	return out, nil
}

// configuration returns the configuration the flags give function name, as
// an update; fn create copies it into its input. Flags not given are nil.
func (f *fnFlags) configuration(name string) (*lambda.UpdateFunctionConfigurationInput, error) {
	envVars, err := f.environment()
	if err != nil {
		return nil, err
	}
	fsc, err := f.fileSystems()
	if err != nil {
		return nil, err
	}
	in := &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Runtime: types.Runtime(*f.runtime),
		Handler: optString(*f.handler), Role: optString(*f.role), Description: optString(*f.description),
		MemorySize: optInt32(*f.memory), Timeout: optInt32(*f.timeout), Environment: envVars, FileSystemConfigs: fsc}
	if *f.ephemeral != 0 {
		in.EphemeralStorage = &types.EphemeralStorage{Size: aws.Int32(int32(*f.ephemeral))}
	}
	return in, nil
}

func optInt32(n int) *int32 {
	if n == 0 {
		return nil
	}
	return aws.Int32(int32(n))
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func fnCreate(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fn create")
	f := registerFnFlags(fs)
	name, err := parseOne(fs, args, "function name")
	if err != nil {
		return err
	}
	if *f.code == "" || *f.role == "" {
		return usagef("give --code and --role")
	}
	zipFile, err := packageCode(*f.code)
	if err != nil {
		return err
	}
	c, err := f.configuration(name)
	if err != nil {
		return err
	}
	in := &lambda.CreateFunctionInput{FunctionName: c.FunctionName, Runtime: c.Runtime, Handler: c.Handler, Role: c.Role,
		Code: &types.FunctionCode{ZipFile: zipFile}, Description: c.Description, MemorySize: c.MemorySize, Timeout: c.Timeout,
		Environment: c.Environment, FileSystemConfigs: c.FileSystemConfigs, EphemeralStorage: c.EphemeralStorage}
	client, err := cf.lambda()
	if err != nil {
		return err
	}
	out, err := client.CreateFunction(ctx, in)
	if err != nil {
		return err
	}
	if !*f.noWait {
		if err := waitSettled(ctx, client, name); err != nil {
			return err
		}
	}
	if cf.json {
		return printJSON(e.stdout, out)
	}
	fmt.Fprintln(e.stdout, deref(out.FunctionArn))
	return nil
}

func fnUpdate(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fn update")
	f := registerFnFlags(fs)
	name, err := parseOne(fs, args, "function name")
	if err != nil {
		return err
	}
	client, err := cf.lambda()
	if err != nil {
		return err
	}
	in, err := f.configuration(name)
	if err != nil {
		return err
	}
	changed := false
	var last *string
	if in.Runtime != "" || in.Handler != nil || in.Role != nil || in.Description != nil || in.MemorySize != nil ||
		in.Timeout != nil || in.Environment != nil || in.FileSystemConfigs != nil || in.EphemeralStorage != nil {
		out, err := client.UpdateFunctionConfiguration(ctx, in)
		if err != nil {
			return err
		}
		changed, last = true, out.FunctionArn
		if err := waitSettled(ctx, client, name); err != nil {
			return err
		}
	}
	if *f.code != "" {
		zipFile, err := packageCode(*f.code)
		if err != nil {
			return err
		}
		out, err := client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: zipFile})
		if err != nil {
			return err
		}
		changed, last = true, out.FunctionArn
		if !*f.noWait {
			if err := waitSettled(ctx, client, name); err != nil {
				return err
			}
		}
	}
	if !changed {
		return usagef("nothing to update: give --code or configuration flags")
	}
	fmt.Fprintln(e.stdout, deref(last))
	return nil
}

// waitSettled waits until a function is Active and its last update done,
// as `aws lambda wait function-updated-v2` does.
func waitSettled(ctx context.Context, client *lambda.Client, name string) error {
	deadline := time.Now().Add(5 * time.Minute)
	for delay := 50 * time.Millisecond; ; delay = min(delay*2, 2*time.Second) {
		c, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		if err != nil {
			return err
		}
		switch {
		case c.State == types.StateFailed || c.LastUpdateStatus == types.LastUpdateStatusFailed:
			return fmt.Errorf("function %s failed: %s%s", name, deref(c.StateReason), deref(c.LastUpdateStatusReason))
		case c.State == types.StateActive && c.LastUpdateStatus != types.LastUpdateStatusInProgress:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("function %s is still %s (%s)", name, c.State, c.LastUpdateStatus)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// packageCode returns the zip to upload: the file itself, or a directory
// zipped with its relative paths and modes (symlinks kept as links).
func packageCode(src string) ([]byte, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("code %s: %w", src, err)
	}
	if !st.IsDir() {
		return os.ReadFile(src)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		} else {
			h.Method = zip.Deflate
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, target)
			return err
		case info.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(w, f)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", src, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip %s: %w", src, err)
	}
	return buf.Bytes(), nil
}

func fnInvoke(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fn invoke")
	payload := fs.String("payload", "", "payload: a JSON file, or - for standard input (default: empty)")
	inline := fs.String("event", "", "payload given inline as JSON, e.g. --event '{\"who\":\"tarn\"}'")
	showLog := fs.Bool("log", false, "print the last 4 KB of the invocation's log to standard error")
	async := fs.Bool("async", false, "queue the invocation (Event) instead of waiting for the result")
	qualifier := fs.String("qualifier", "", "version or alias")
	name, err := parseOne(fs, args, "function name")
	if err != nil {
		return err
	}
	var body []byte
	switch {
	case *payload == "-":
		body, err = io.ReadAll(stdin)
	case *payload != "":
		body, err = os.ReadFile(*payload)
	default:
		body = []byte(*inline)
	}
	if err != nil {
		return fmt.Errorf("read payload: %w", err)
	}
	client, err := cf.lambda()
	if err != nil {
		return err
	}
	in := &lambda.InvokeInput{FunctionName: aws.String(name), Payload: body, Qualifier: optString(*qualifier)}
	if *showLog {
		in.LogType = types.LogTypeTail
	}
	if *async {
		in.InvocationType = types.InvocationTypeEvent
	}
	out, err := client.Invoke(ctx, in)
	if err != nil {
		return err
	}
	if *showLog && out.LogResult != nil {
		logText, err := base64.StdEncoding.DecodeString(*out.LogResult)
		if err == nil {
			e.stderr.Write(logText)
		}
	}
	if *async {
		fmt.Fprintf(e.stdout, "queued (status %d)\n", out.StatusCode)
		return nil
	}
	e.stdout.Write(out.Payload)
	if len(out.Payload) > 0 && out.Payload[len(out.Payload)-1] != '\n' {
		fmt.Fprintln(e.stdout)
	}
	if out.FunctionError != nil {
		return &functionError{kind: *out.FunctionError}
	}
	return nil
}

// functionError reports that the function itself failed; its error
// document is already printed.
type functionError struct{ kind string }

func (f *functionError) Error() string { return "function error (" + f.kind + ")" }

// stdin is the payload source for --payload -; tests replace it.
var stdin io.Reader = os.Stdin

func fnList(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fn ls")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	client, err := cf.lambda()
	if err != nil {
		return err
	}
	var all []types.FunctionConfiguration
	p := lambda.NewListFunctionsPaginator(client, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		all = append(all, page.Functions...)
	}
	if cf.json {
		return printJSON(e.stdout, all)
	}
	rows := make([][]string, 0, len(all))
	for _, f := range all {
		rows = append(rows, []string{deref(f.FunctionName), string(f.Runtime), deref(f.Handler),
			strconv.Itoa(int(deref(f.MemorySize))), strconv.Itoa(int(deref(f.Timeout))) + "s", humanBytes(f.CodeSize), deref(f.LastModified)})
	}
	return printTable(e.stdout, []string{"NAME", "RUNTIME", "HANDLER", "MEMORY", "TIMEOUT", "CODE", "MODIFIED"}, rows)
}

func fnShow(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fn show")
	name, err := parseOne(fs, args, "function name")
	if err != nil {
		return err
	}
	client, err := cf.lambda()
	if err != nil {
		return err
	}
	out, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		return err
	}
	return printJSON(e.stdout, map[string]any{"Configuration": out.Configuration, "Tags": out.Tags, "Concurrency": out.Concurrency})
}

func fnRemove(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fn rm")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("name the functions to delete")
	}
	client, err := cf.lambda()
	if err != nil {
		return err
	}
	return deleteEach(e, pos, func(name string) error {
		_, err := client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
		return err
	})
}

func fnPublish(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fn publish")
	desc := fs.String("description", "", "description of the version")
	name, err := parseOne(fs, args, "function name")
	if err != nil {
		return err
	}
	client, err := cf.lambda()
	if err != nil {
		return err
	}
	out, err := client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name), Description: optString(*desc)})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, deref(out.FunctionArn))
	return nil
}

func fnConcurrency(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn fn concurrency")
	del := fs.Bool("delete", false, "remove the reserved concurrency")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || len(pos) > 2 || *del && len(pos) != 1 {
		return usagef("usage: tarn fn concurrency NAME [N|--delete]")
	}
	name := pos[0]
	client, err := cf.lambda()
	if err != nil {
		return err
	}
	switch {
	case *del:
		_, err := client.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(name)})
		return err
	case len(pos) == 2:
		n, perr := strconv.ParseInt(pos[1], 10, 32)
		if perr != nil || n < 0 {
			return usagef("concurrency %q is not a number of 0 or more", pos[1])
		}
		_, err := client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name),
			ReservedConcurrentExecutions: aws.Int32(int32(n))})
		if err != nil {
			return err
		}
	}
	out, err := client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(name)})
	if err != nil {
		return err
	}
	if out.ReservedConcurrentExecutions == nil {
		fmt.Fprintln(e.stdout, "unreserved")
		return nil
	}
	fmt.Fprintln(e.stdout, *out.ReservedConcurrentExecutions)
	return nil
}
