// Package cli implements the tarn command line: `tarn server` and the
// porcelain commands (fs, ap, mt, env) that drive a Tarn server through the
// same AWS-compatible API that the AWS CLI and SDKs use, with the AWS SDK for
// Go as the client.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand (or a group of them).
type command struct {
	name, usage, summary string
	run                  func(ctx context.Context, env *env, args []string) error
	sub                  []*command
}

// env carries the streams of one invocation.
type env struct {
	stdout, stderr io.Writer
}

// usageError is a mistake in the command line; it prints the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func commands() []*command {
	return []*command{
		serverCommand("server"),
		serverCommand("up"),
		envCommand(),
		fsCommand(),
		apCommand(),
		mtCommand(),
		mountCommand(),
		umountCommand(),
		fsckCommand(),
		fnCommand(),
		logsCommand(),
		apiCommand(),
	}
}

// Run runs the tarn command line with args (without the program name) and
// returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	root := &command{name: "tarn", usage: "tarn [--data DIR] COMMAND [ARGS]", sub: commands()}
	if err := dispatch(ctx, e, root, hoistGlobalFlags(args)); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "tarn: %s\n", ue.msg)
			return 2
		}
		fmt.Fprintf(stderr, "tarn: %s\n", describeError(err))
		return 1
	}
	return 0
}

// hoistGlobalFlags moves the connection flags given before the command
// (`tarn --data D fs ls`) to the end, where the command's own flag set
// parses them.
func hoistGlobalFlags(args []string) []string {
	valued := map[string]bool{"data": true, "endpoint": true, "region": true}
	var global []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		switch {
		case name == "json":
			global, args = append(global, args[0]), args[1:]
		case valued[name] && hasValue:
			global, args = append(global, args[0]), args[1:]
		case valued[name] && len(args) > 1:
			global, args = append(global, args[0], args[1]), args[2:]
		default:
			return append(args, global...)
		}
	}
	return append(args, global...)
}

func dispatch(ctx context.Context, e *env, c *command, args []string) error {
	if c.sub == nil {
		return c.run(ctx, e, args)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(e.stdout, c)
		if len(args) == 0 && c.name != "tarn" {
			return usagef("%s needs a subcommand", c.name)
		}
		return nil
	}
	for _, s := range c.sub {
		if s.name == args[0] {
			return dispatch(ctx, e, s, args[1:])
		}
	}
	return usagef("unknown command %q (see '%s help')", args[0], c.usage[:strings.IndexByte(c.usage+" ", ' ')])
}

func printHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "usage: %s\n\ncommands:\n", c.usage)
	for _, s := range c.sub {
		if len(s.usage) > 44 {
			fmt.Fprintf(w, "  %s\n  %-44s %s\n", s.usage, "", s.summary)
			continue
		}
		fmt.Fprintf(w, "  %-44s %s\n", s.usage, s.summary)
	}
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (`tarn ap create FS --uid 1001`), which the standard
// flag package alone does not allow, and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usagef("%s", flagUsage(fs))
			}
			return nil, usagef("%v\n%s", err, flagUsage(fs))
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseOne parses args, which must hold exactly one positional argument
// (what it names, for the usage error), and returns that argument.
func parseOne(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usagef("expected one %s, got %d arguments", what, len(pos))
	}
	return pos[0], nil
}

func flagUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage of %s:\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(&b, "  --%s\t%s", f.Name, f.Usage)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	return strings.TrimRight(b.String(), "\n")
}
