package cli

import (
	"context"
	"flag"
	"fmt"

	"tarn.dev/tarn/internal/datadir"
)

func envCommand() *command {
	return &command{
		name: "env", usage: "tarn env [--data DIR]", summary: "print export lines for the AWS CLI and SDKs: eval \"$(tarn env)\"",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := flag.NewFlagSet("tarn env", flag.ContinueOnError)
			data := fs.String("data", "", "data directory (default $TARN_DATA or ./.tarn)")
			if _, err := parseInterleaved(fs, args); err != nil {
				return err
			}
			dir := datadir.Dir{Path: *data}
			if dir.Path == "" {
				dir.Path = datadir.Default()
			}
			creds, err := dir.ReadRootCredentials()
			if err != nil {
				return fmt.Errorf("%w: has 'tarn server --data %s' run yet?", err, dir.Path)
			}
			info, err := dir.ReadServerInfo()
			if err != nil {
				return fmt.Errorf("no running server in %s: start it with 'tarn server --data %s' (%w)", dir.Path, dir.Path, err)
			}
			fmt.Fprintf(e.stdout, "export AWS_ACCESS_KEY_ID=%s\n", shellQuote(creds.AccessKeyID))
			fmt.Fprintf(e.stdout, "export AWS_SECRET_ACCESS_KEY=%s\n", shellQuote(creds.SecretAccessKey))
			fmt.Fprintf(e.stdout, "export AWS_DEFAULT_REGION=%s\n", shellQuote(info.Region))
			fmt.Fprintf(e.stdout, "export AWS_REGION=%s\n", shellQuote(info.Region))
			fmt.Fprintf(e.stdout, "export TARN_ENDPOINT=%s\n", shellQuote(info.Endpoint))
			return nil
		},
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	out := "'"
	for _, c := range s {
		if c == '\'' {
			out += `'\''`
		} else {
			out += string(c)
		}
	}
	return out + "'"
}
