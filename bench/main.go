// Command bench runs Tarn's benchmarks. Each prints its figure next to a
// reference measured in the same run, and the ratio between them.
//
//	go run ./bench            # every benchmark
//	go run ./bench controlapi # one of them
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"

	"tarn.dev/tarn/bench/apbench"
	"tarn.dev/tarn/bench/controlapi"
	"tarn.dev/tarn/bench/fsbench"
	"tarn.dev/tarn/bench/gatewaybench"
	"tarn.dev/tarn/bench/lambdabench"
)

var benchmarks = map[string]func(ctx context.Context) error{
	"ap":         apbench.Run,
	"controlapi": controlapi.Run,
	"fs":         fsbench.Run,
	"fsmem":      fsbench.RunMemory,
	"gateway":    gatewaybench.Run,
	"lambda":     lambdabench.Run,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	names := os.Args[1:]
	if len(names) == 0 {
		for n := range benchmarks {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	for _, n := range names {
		run, ok := benchmarks[n]
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: unknown benchmark %q\n", n)
			os.Exit(2)
		}
		if err := run(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", n, err)
			os.Exit(1)
		}
	}
}
