package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

// replayPoll is how often `herald message replay` asks for the progress of a replay.
const replayPoll = 500 * time.Millisecond

func newMessageReplayCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var (
		in             client.AppReplayInput
		tr             timeRangeFlags
		detach         bool
		follow, cancel string
	)
	cmd := &cobra.Command{
		Use:   "replay --app APP --since T [--until T] [--status failed] [--event-type TYPE]...",
		Short: "Send an app's finished deliveries again, across all its endpoints",
		Long: `Start a replay on the server: the app's messages published in the time range
(--since, required; --until, now by default) are looked at in publish order, and
their finished deliveries to every endpoint that is not disabled are queued for
another attempt: the failed ones (--status failed), the succeeded ones, or both
(the default), of the given event types (--event-type, repeatable; exact names,
prefix.* wildcards or *; every type by default). Pending deliveries are left alone.

The replay runs in the background on the server, and survives its restarts. This
command prints its progress on stderr until it is done and then the result on
stdout; interrupt it and the replay goes on (--follow ID watches it again,
--cancel ID stops it). --detach prints the replay at once.`,
		Example: `  herald message replay --app acme --since 24h --status failed
  herald message replay --app acme --since 2026-11-26T00:00:00Z --until 2026-11-27T00:00:00Z --event-type invoice.paid --event-type customer.*
  herald message replay --app acme --follow rpl_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C
  herald message replay --app acme --cancel rpl_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			app, c, err := prepare(cmd, af, ap.get, func(cmd *cobra.Command) (err error) {
				if in.Since, in.Until, err = tr.parse(cmd); err != nil {
					return err
				}
				for _, s := range in.Status {
					if s != client.DeliveryFailed && s != client.DeliverySucceeded {
						return usageError{err: fmt.Errorf("--status %q: want failed or succeeded (pending deliveries are never replayed)", s), cmd: cmd}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			var j *client.ReplayJob
			switch {
			case follow != "" && cancel != "":
				return usageError{err: errors.New("--follow and --cancel: give one"), cmd: cmd}
			case cancel != "":
				j, err = c.CancelReplay(cmd.Context(), app, cancel)
				detach = true
			case follow != "":
				j, err = c.GetReplay(cmd.Context(), app, follow)
			default:
				j, err = c.ReplayApp(cmd.Context(), app, in)
			}
			if err != nil {
				return af.explain(err)
			}
			if !detach {
				if j, err = watchReplay(cmd, c, app, j); err != nil {
					return af.explain(err)
				}
			}
			if af.json {
				return writeJSON(cmd.OutOrStdout(), j)
			}
			if err := printDetail(cmd.OutOrStdout(), replayFields(j)); err != nil {
				return err
			}
			if j.State == client.ReplayFailed {
				return fmt.Errorf("replay %s failed: %s", j.ID, j.Error)
			}
			return nil
		},
	}
	tr.register(cmd, "messages")
	cmd.Flags().StringSliceVar(&in.Status, "status", nil, "replay only deliveries with this status: failed or succeeded (default: both)")
	cmd.Flags().StringSliceVar(&in.EventTypes, "event-type", nil, "replay only messages of this type (repeatable; prefix.* and * match several)")
	cmd.Flags().BoolVar(&detach, "detach", false, "print the replay once started, without waiting for it")
	cmd.Flags().StringVar(&follow, "follow", "", "watch the replay with this id instead of starting one")
	cmd.Flags().StringVar(&cancel, "cancel", "", "stop the replay with this id (what it queued stays queued)")
	return cmd
}

// watchReplay polls the replay j until it is no longer running, printing its progress
// on stderr whenever it changes; when the command is interrupted it says how to watch
// it again.
func watchReplay(cmd *cobra.Command, c *client.Client, app string, j *client.ReplayJob) (*client.ReplayJob, error) {
	last := ""
	t := time.NewTicker(replayPoll)
	defer t.Stop()
	for j.State == client.ReplayRunning {
		if line := replayProgress(j); line != last {
			fmt.Fprintln(cmd.ErrOrStderr(), line)
			last = line
		}
		select {
		case <-cmd.Context().Done():
			fmt.Fprintf(cmd.ErrOrStderr(), "replay %s goes on on the server: herald message replay --app %s --follow %s\n", j.ID, app, j.ID)
			return nil, cmd.Context().Err()
		case <-t.C:
		}
		var err error
		if j, err = c.GetReplay(cmd.Context(), app, j.ID); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// replayProgress is one line of a replay's progress.
func replayProgress(j *client.ReplayJob) string {
	return fmt.Sprintf("replay %s: %d%% of the time range, %d %s queued, %d messages looked at",
		j.ID, int(j.Progress*100), j.Done, plural(j.Done, "delivery", "deliveries"), j.MessagesScanned)
}

// plural returns one or many, for n.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// replayFields are the detail view of a replay.
func replayFields(j *client.ReplayJob) []field {
	fields := []field{
		{"id", j.ID},
		{"state", j.State},
		{"since", fmtTimePtr(j.Since)},
		{"until", fmtTime(j.Until)},
		{"status", orDash(strings.Join(j.Status, ", "))},
		{"event_types", orDash(strings.Join(j.EventTypes, ", "))},
		{"done", strconv.FormatInt(j.Done, 10) + " " + plural(j.Done, "delivery", "deliveries") + " queued again"},
		{"messages_scanned", strconv.FormatInt(j.MessagesScanned, 10)},
		{"progress", strconv.Itoa(int(j.Progress*100)) + "%"},
		{"created_at", fmtTime(j.CreatedAt)},
		{"finished_at", fmtTimePtr(j.FinishedAt)},
	}
	if j.Error != "" {
		fields = append(fields, field{"error", j.Error})
	}
	return fields
}
