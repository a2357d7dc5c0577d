package cli

import (
	"context"
	"flag"

	"tarn.dev/tarn/internal/server"
)

func serverCommand(name string) *command {
	summary := "start Tarn on this machine (embedded SQLite and local disk)"
	if name == "up" {
		summary = "the same as 'tarn server'"
	}
	return &command{
		name: name, usage: "tarn " + name + " [--data DIR] [--listen ADDR] [--gateway-listen ADDR]", summary: summary,
		run: func(ctx context.Context, e *env, args []string) error {
			fs := flag.NewFlagSet("tarn "+name, flag.ContinueOnError)
			var cfg server.Config
			fs.StringVar(&cfg.DataDir, "data", "", "data directory (default $TARN_DATA or ./.tarn)")
			fs.StringVar(&cfg.Listen, "listen", server.DefaultListen, "address of the control API")
			fs.StringVar(&cfg.GatewayListen, "gateway-listen", "", "address of the HTTP API gateway (default "+server.DefaultGatewayListen+
				"; a free port when --listen takes one)")
			fs.StringVar(&cfg.Region, "region", server.DefaultRegion, "region name the APIs report")
			pos, err := parseInterleaved(fs, args)
			if err != nil {
				return err
			}
			if len(pos) > 0 {
				return usagef("tarn %s takes no arguments, got %q", name, pos)
			}
			cfg.Out = e.stderr
			return server.Run(ctx, cfg)
		},
	}
}
