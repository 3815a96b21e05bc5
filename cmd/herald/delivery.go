package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

func newDeliveryCmd() *cobra.Command {
	af := &apiFlags{}
	ap := &appFlag{}
	cmd := newGroupCmd("delivery", "Inspect and retry deliveries of messages to endpoints",
		`Inspect deliveries (one message to one endpoint) and their attempts, and send
a delivery again. Every subcommand needs --app, the app's id or uid.`,
		`  herald delivery list --app acme --status failed --since 24h
  herald delivery attempts --app acme dlv_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C
  herald delivery retry --app acme dlv_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C`)
	af.register(cmd)
	ap.register(cmd)
	cmd.AddCommand(newDeliveryListCmd(af, ap), newDeliveryGetCmd(af, ap), newDeliveryAttemptsCmd(af, ap), newDeliveryRetryCmd(af, ap))
	return cmd
}

// fmtStatusCode formats an HTTP status code; 0 (no answer) is "-".
func fmtStatusCode(code int) string {
	if code == 0 {
		return "-"
	}
	return strconv.Itoa(code)
}

// printDelivery prints a delivery as JSON or as a detail view.
func printDelivery(cmd *cobra.Command, af *apiFlags, d *client.Delivery) error {
	if af.json {
		return writeJSON(cmd.OutOrStdout(), d)
	}
	return printDetail(cmd.OutOrStdout(), []field{
		{"id", d.ID},
		{"app_id", d.AppID},
		{"message_id", d.MessageID},
		{"endpoint_id", d.EndpointID},
		{"status", d.Status},
		{"attempts", strconv.Itoa(d.Attempts)},
		{"next_attempt_at", fmtTimePtr(d.NextAttemptAt)},
		{"last_status_code", fmtStatusCode(d.LastStatusCode)},
		{"last_error", orDash(d.LastError)},
		{"created_at", fmtTime(d.CreatedAt)},
		{"updated_at", fmtTime(d.UpdatedAt)},
	})
}

func newDeliveryListCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var (
		tr timeRangeFlags
		p  client.ListDeliveriesParams
	)
	cmd := appListCmd(af, ap, &cobra.Command{
		Use:   "list --app APP",
		Short: "List an app's deliveries, newest first",
		Long: `List an app's deliveries, newest first, one page at a time (--all fetches every
page), optionally of one endpoint or message, with one status, or created in a
time range.`,
		Example: `  herald delivery list --app acme --status failed
  herald delivery list --app acme --endpoint ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --since 2h --all
  herald delivery list --app acme --message msg_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --json`,
		Args: exactArgs(0),
	}, tr.parseInto(&p.Since, &p.Until), func(c *client.Client, ctx context.Context, app string, _ []string, lp client.ListParams) ([]*client.Delivery, string, error) {
		p.Limit, p.Cursor = lp.Limit, lp.Cursor
		return c.ListDeliveries(ctx, app, p)
	}, "ID\tMESSAGE\tENDPOINT\tSTATUS\tATTEMPTS\tLAST CODE\tNEXT ATTEMPT", func(d *client.Delivery) string {
		next := "-"
		if d.Status == client.DeliveryPending {
			next = fmtTimePtr(d.NextAttemptAt)
		}
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%s\t%s", d.ID, d.MessageID, d.EndpointID, d.Status,
			d.Attempts, fmtStatusCode(d.LastStatusCode), next)
	})
	cmd.Flags().StringVar(&p.EndpointID, "endpoint", "", "only deliveries to this endpoint")
	cmd.Flags().StringVar(&p.MessageID, "message", "", "only deliveries of this message")
	cmd.Flags().StringVar(&p.Status, "status", "", "only deliveries with this status: pending, succeeded, failed or cancelled")
	tr.register(cmd, "deliveries")
	return cmd
}

func newDeliveryGetCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return appItemCmd(af, ap, &cobra.Command{
		Use:     "get --app APP ID",
		Short:   "Show a delivery",
		Long:    `Show a delivery: its status, how many attempts were made, the last answer, and when the next attempt is due.`,
		Example: "  herald delivery get --app acme dlv_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
	}, (*client.Client).GetDelivery, printDelivery)
}

// fmtLatency formats an attempt's latency in milliseconds.
func fmtLatency(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	if d >= time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}

func newDeliveryAttemptsCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return appListCmd(af, ap, &cobra.Command{
		Use:   "attempts --app APP ID",
		Short: "List a delivery's attempts, newest first",
		Long: `List the HTTP requests made for a delivery, newest first: when, how long they
took, the status code and the outcome. --json adds the request headers
(credentials redacted), the response headers and the first 4 KiB of each
response body.`,
		Example: `  herald delivery attempts --app acme dlv_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C
  herald delivery attempts --app acme dlv_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --json | jq -r '.data[0].response_body'`,
		Args: exactArgs(1),
	}, nil, func(c *client.Client, ctx context.Context, app string, args []string, p client.ListParams) ([]*client.Attempt, string, error) {
		return c.ListDeliveryAttempts(ctx, app, args[0], p)
	}, "ID\t#\tSTARTED\tLATENCY\tCODE\tOUTCOME\tERROR", func(a *client.Attempt) string {
		return fmt.Sprintf("%s\t%d\t%s\t%s\t%s\t%s\t%s", a.ID, a.Number, fmtTime(a.StartedAt), fmtLatency(a.LatencyMS),
			fmtStatusCode(a.StatusCode), a.Outcome, truncate(a.Error, 60))
	})
}

func newDeliveryRetryCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return appItemCmd(af, ap, &cobra.Command{
		Use:   "retry --app APP ID",
		Short: "Send a delivery again now",
		Long: `Queue a delivery for an attempt now, whatever its status, and print it. This
starts a fresh retry schedule. It fails with a conflict while the delivery is
being attempted. To send many deliveries again, see 'herald endpoint replay'.`,
		Example: "  herald delivery retry --app acme dlv_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
	}, (*client.Client).RetryDelivery, printDelivery)
}
