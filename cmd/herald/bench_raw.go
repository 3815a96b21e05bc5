package main

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/bench"
	"github.com/spf13/cobra"
)

// runRaw measures the raw HTTP baseline for --raw-duration at --concurrency, before
// any server starts; it returns nil when --raw-duration is 0.
func (fl *benchFlags) runRaw(ctx context.Context, cmd *cobra.Command) (*bench.RawResult, error) {
	if fl.rawDuration == 0 {
		return nil, nil
	}
	logw := cmd.ErrOrStderr()
	fmt.Fprintf(logw, "raw HTTP baseline: %d concurrent POSTs of %d bytes on loopback for %v\n", max(fl.o.Concurrency, 1), bench.RawBodySize, fl.rawDuration)
	raw, err := bench.RunRaw(ctx, fl.rawDuration, fl.o.Concurrency)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logw, "raw HTTP baseline: %.0f POST/s\n", raw.PerSecond)
	return raw, nil
}

// printRaw prints the raw HTTP baseline alone, for --raw-only.
func (fl *benchFlags) printRaw(cmd *cobra.Command, raw *bench.RawResult) error {
	if fl.asJSON {
		return writeJSON(cmd.OutOrStdout(), raw)
	}
	raw.WriteTable(cmd.OutOrStdout())
	return nil
}
