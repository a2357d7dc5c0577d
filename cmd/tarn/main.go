// Command tarn is the single binary of Tarn: the server and the CLI.
// Run `tarn help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"tarn.dev/tarn/internal/cli"
	"tarn.dev/tarn/internal/sandbox"
)

func main() {
	// The binary re-executes itself as the init of each function sandbox.
	sandbox.MaybeRunInit()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
