package main

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/opevents"
	"github.com/heraldhq/herald/internal/server"
	"github.com/spf13/pflag"
)

// opsEnv maps the operational webhook flags of serve to their environment variables.
func opsEnv() map[string]string {
	return map[string]string{
		"op-failing-after": "HERALD_OP_FAILING_AFTER", "op-rejection-rate": "HERALD_OP_REJECTION_RATE",
		"op-rejection-min": "HERALD_OP_REJECTION_MIN", "op-rejection-window": "HERALD_OP_REJECTION_WINDOW",
		"op-rejection-cooldown": "HERALD_OP_REJECTION_COOLDOWN",
	}
}

// opsFlags are serve's flags of operational webhooks (docs/operational-webhooks.md).
type opsFlags struct {
	failingAfter     int
	rejectionRate    float64
	rejectionMin     int
	window, cooldown time.Duration
}

func (o *opsFlags) register(f *pflag.FlagSet, help func(name, text string) string) {
	f.IntVar(&o.failingAfter, "op-failing-after", opevents.DefaultFailingAfter, help("op-failing-after",
		"operational webhooks: send message.attempt.failing once an endpoint has failed this many attempts in a row (0: never)"))
	f.Float64Var(&o.rejectionRate, "op-rejection-rate", opevents.DefaultSpikeRate, help("op-rejection-rate",
		"operational webhooks: send source.rejections.spiking when at least this share of a source's requests (0 to 1) is rejected within --op-rejection-window"))
	f.IntVar(&o.rejectionMin, "op-rejection-min", opevents.DefaultSpikeMinRejections, help("op-rejection-min",
		"operational webhooks: the fewest rejections within --op-rejection-window that make a spike"))
	f.DurationVar(&o.window, "op-rejection-window", opevents.DefaultSpikeWindow, help("op-rejection-window",
		"operational webhooks: the sliding window in which a source's rejections are counted"))
	f.DurationVar(&o.cooldown, "op-rejection-cooldown", opevents.DefaultSpikeCooldown, help("op-rejection-cooldown",
		"operational webhooks: report a source's next rejection spike no sooner than this after the last"))
}

// apply checks the flags and sets cfg's operational webhook settings.
func (o *opsFlags) apply(cfg *server.Config) error {
	switch {
	case o.failingAfter < 0:
		return fmt.Errorf("--op-failing-after %d: want 0 (never) or more", o.failingAfter)
	case o.rejectionRate <= 0 || o.rejectionRate > 1:
		return fmt.Errorf("--op-rejection-rate %v: want a share above 0 and at most 1, such as 0.5", o.rejectionRate)
	case o.rejectionMin < 1:
		return fmt.Errorf("--op-rejection-min %d: want 1 or more", o.rejectionMin)
	case o.window < time.Second:
		return fmt.Errorf("--op-rejection-window %s: want 1s or more", o.window)
	case o.cooldown <= 0:
		return fmt.Errorf("--op-rejection-cooldown %s: want a positive duration", o.cooldown)
	}
	cfg.OpFailingAfter = o.failingAfter
	if o.failingAfter == 0 {
		cfg.OpFailingAfter = -1
	}
	cfg.OpRejectionSpike = opevents.SpikeConfig{
		Window: o.window, MinRejections: o.rejectionMin, Rate: o.rejectionRate, Cooldown: o.cooldown,
	}
	return nil
}
