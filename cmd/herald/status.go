package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

func newStatusCmd() *cobra.Command {
	af := &apiFlags{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the health of a herald server on one screen",
		Long: `Show what an operator checks first: the nodes and their last heartbeat, the
backlog and how long the oldest due delivery has waited, deliveries per minute
over the last 10 minutes, the endpoints failing (since when, and their last
error), and the sources whose requests were rejected in the last hour. --json
prints the server's answer (GET /v1/status) as it is. Needs an admin API key.`,
		Example: `  herald status
  herald status --server https://hooks.internal:8080 --json | jq '.backlog'`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := af.client(cmd)
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return af.explain(err)
			}
			if af.json {
				return writeJSON(cmd.OutOrStdout(), st)
			}
			return printStatus(cmd.OutOrStdout(), af.serverURL(), st)
		},
	}
	af.register(cmd)
	cmd.PersistentFlags().Lookup("json").Usage = "print the server's answer as indented JSON"
	return cmd
}

// printStatus writes the status as aligned sections.
func printStatus(w io.Writer, server string, st *client.Status) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "herald at %s, node %s, %s\n", server, st.NodeID, fmtTime(st.Now))

	fmt.Fprintf(tw, "\nNODES (%d)\n", len(st.Nodes))
	fmt.Fprintln(tw, "  ID\tSTARTED\tLAST HEARTBEAT")
	for _, n := range st.Nodes {
		id := n.ID
		if id == st.NodeID {
			id += " (this one)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", id, fmtTime(n.StartedAt), ago(st.Now, n.HeartbeatAt))
	}

	b := st.Backlog
	fmt.Fprintln(tw, "\nBACKLOG")
	fmt.Fprintf(tw, "  pending\t%s\n", fmtCount(b.Pending, b.CountLimit))
	fmt.Fprintf(tw, "  due now\t%s\n", fmtCount(b.Due, b.CountLimit))
	oldest := "none due"
	if b.OldestDueAt != nil {
		oldest = "due " + ago(st.Now, *b.OldestDueAt) + " (" + fmtTime(*b.OldestDueAt) + ")"
	}
	fmt.Fprintf(tw, "  oldest due\t%s\n", oldest)

	printDeliveries(tw, st.DeliveriesPerMinute)
	printFailing(tw, st)
	printRejecting(tw, st)
	return tw.Flush()
}

// printDeliveries writes attempts per minute as two rows under the minutes.
func printDeliveries(w io.Writer, buckets []client.StatsBucket) {
	var total, failed int64
	minutes, ok, bad := []string{"  MINUTE"}, []string{"  succeeded"}, []string{"  failed"}
	for _, b := range buckets {
		minutes = append(minutes, b.Start.Local().Format("15:04"))
		ok, bad = append(ok, strconv.FormatInt(b.Succeeded, 10)), append(bad, strconv.FormatInt(b.Failed, 10))
		total, failed = total+b.Succeeded+b.Failed, failed+b.Failed
	}
	fmt.Fprintf(w, "\nDELIVERIES PER MINUTE (%s in %d minutes, %d failed)\n", strconv.FormatInt(total, 10)+" "+plural(total, "attempt", "attempts"), len(buckets), failed)
	for _, row := range [][]string{minutes, ok, bad} {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
}

// printFailing writes the failing endpoints.
func printFailing(w io.Writer, st *client.Status) {
	if len(st.FailingEndpoints) == 0 {
		fmt.Fprintln(w, "\nFAILING ENDPOINTS: none")
		return
	}
	count := strconv.Itoa(len(st.FailingEndpoints))
	if st.FailingEndpointsMore {
		count = "the " + count + " failing longest; more not shown"
	}
	fmt.Fprintf(w, "\nFAILING ENDPOINTS (%s)\n", count)
	fmt.Fprintln(w, "  ENDPOINT\tAPP\tFAILING SINCE\tLAST ATTEMPT\tLAST ERROR")
	for _, f := range st.FailingEndpoints {
		app := f.AppID
		if f.Operational {
			app = "(operational)"
		}
		last, lastErr := "-", "-"
		if a := f.LastAttempt; a != nil {
			last = fmtTime(a.StartedAt)
			lastErr = a.Error
			if lastErr == "" {
				lastErr = "HTTP " + fmtStatusCode(a.StatusCode)
			}
		}
		fmt.Fprintf(w, "  %s\t%s\t%s (%s)\t%s\t%s\n", f.EndpointID, app, fmtTime(f.FailingSince), ago(st.Now, f.FailingSince), last, truncate(lastErr, 60))
	}
}

// printRejecting writes the sources with recent rejections.
func printRejecting(w io.Writer, st *client.Status) {
	if len(st.RejectingSources) == 0 {
		fmt.Fprintf(w, "\nSOURCES WITH REJECTIONS SINCE %s: none\n", fmtTime(st.RejectionsSince))
		return
	}
	count := strconv.Itoa(len(st.RejectingSources))
	if st.RejectingSourcesMore {
		count = "the " + count + " with the most; more not shown"
	}
	fmt.Fprintf(w, "\nSOURCES WITH REJECTIONS SINCE %s (%s)\n", fmtTime(st.RejectionsSince), count)
	fmt.Fprintln(w, "  SOURCE\tAPP\tREJECTIONS\tLAST\tLAST REASON")
	for _, s := range st.RejectingSources {
		last, reason := "-", "-"
		if r := s.LastRejection; r != nil {
			last = fmtTime(r.ReceivedAt)
			reason = fmt.Sprintf("%d %s: %s", r.Status, r.Code, r.Message)
		}
		fmt.Fprintf(w, "  %s\t%s\t%d\t%s\t%s\n", s.SourceID, s.AppID, s.Rejections, last, truncate(reason, 60))
	}
}

// fmtCount formats a count that stops at limit: "100000+" when it reached it.
func fmtCount(n, limit int64) string {
	s := strconv.FormatInt(n, 10)
	if limit > 0 && n >= limit {
		s += "+"
	}
	return s
}

// ago says how long before now t was, in at most two units: "4s ago", "3h12m ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds ago", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm ago", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%02dh ago", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}
