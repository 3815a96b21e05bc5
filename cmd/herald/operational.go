package main

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

func newOperationalEndpointCmd() *cobra.Command {
	af := &apiFlags{}
	cmd := newGroupCmd("operational-endpoint", "Manage the endpoints that receive herald's own events",
		`Manage operational endpoints: URLs where herald sends its own events, for the
operator (docs/operational-webhooks.md): endpoint.created, endpoint.updated,
endpoint.deleted, endpoint.disabled, endpoint.enabled, message.attempt.failing,
message.attempt.exhausted, message.attempt.recovered and
source.rejections.spiking. They are signed, retried and logged like any
endpoint's webhooks, and delivered one at a time in the order they happened.
Every subcommand needs an admin API key.`,
		`  herald operational-endpoint create --url https://ops.example.com/herald --events 'endpoint.disabled,message.attempt.*'
  herald operational-endpoint list
  herald operational-endpoint secret ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C
  herald operational-endpoint attempts ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C`)
	cmd.Aliases = []string{"op-endpoint"}
	af.register(cmd)
	cmd.AddCommand(
		newOpCreateCmd(af), newOpListCmd(af), newOpGetCmd(af), newOpUpdateCmd(af), newOpDeleteCmd(af),
		newOpSecretCmd(af), newOpRotateSecretCmd(af), newOpEventsCmd(af), newOpAttemptsCmd(af),
	)
	return cmd
}

func newOpCreateCmd(af *apiFlags) *cobra.Command {
	cmd := endpointCreateCmd(af, serverWide, &cobra.Command{
		Use:   "create --url URL",
		Short: "Add an operational endpoint",
		Long: `Add an operational endpoint and print it. Without --events it receives every
operational event; --events takes operational event types and wildcards such as
'message.attempt.*'. Its deliveries are signed with a new whsec_ secret (see
'herald operational-endpoint secret'), verified as any herald webhook.`,
		Example: `  herald operational-endpoint create --url https://ops.example.com/herald
  herald operational-endpoint create --url https://ops.example.com/pager --events endpoint.disabled,message.attempt.failing`,
	}, func(c *client.Client, ctx context.Context, _ string, in client.EndpointInput) (*client.Endpoint, error) {
		return c.CreateOperationalEndpoint(ctx, in)
	})
	cmd.Flags().Lookup("fifo").Hidden = true // operational endpoints are FIFO; update --fifo=false changes it
	cmd.Flags().Lookup("events").Usage = "operational event types to receive, comma-separated, such as 'endpoint.disabled,message.attempt.*' (default: every type)"
	return cmd
}

func newOpListCmd(af *apiFlags) *cobra.Command {
	return endpointListCmd(af, serverWide, &cobra.Command{
		Use:     "list",
		Short:   "List the operational endpoints, newest first",
		Example: "  herald operational-endpoint list --json",
	}, func(c *client.Client, ctx context.Context, _ string, p client.ListParams) ([]*client.Endpoint, string, error) {
		return c.ListOperationalEndpoints(ctx, p)
	})
}

func newOpGetCmd(af *apiFlags) *cobra.Command {
	return adminItemCmd(af, &cobra.Command{
		Use:     "get ID",
		Short:   "Show an operational endpoint",
		Example: "  herald operational-endpoint get ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
	}, (*client.Client).GetOperationalEndpoint, printEndpoint)
}

func newOpUpdateCmd(af *apiFlags) *cobra.Command {
	var ef endpointFlags
	cmd := itemCmd(af, serverWide, &cobra.Command{
		Use:   "update ID [flags]",
		Short: "Change an operational endpoint's settings",
		Long: `Change an operational endpoint and print it. Only the flags given are sent;
--events, --header and --metadata replace the whole list or map.`,
		Example: `  herald operational-endpoint update ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --events 'endpoint.*'
  herald operational-endpoint update ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --paused`,
	}, nil, func(c *client.Client, cmd *cobra.Command, _, id string) (*client.Endpoint, error) {
		in, err := ef.update(cmd, func() (*client.Endpoint, error) { return c.GetOperationalEndpoint(cmd.Context(), id) })
		if err != nil {
			return nil, err
		}
		return c.UpdateOperationalEndpoint(cmd.Context(), id, in)
	}, printEndpoint)
	ef.register(cmd, false)
	return cmd
}

func newOpDeleteCmd(af *apiFlags) *cobra.Command {
	return deleteCmd(af, serverWide, &cobra.Command{
		Use:     "delete ID",
		Short:   "Delete an operational endpoint and its deliveries",
		Example: "  herald operational-endpoint delete ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
	}, "operational endpoint", func(c *client.Client, ctx context.Context, _, id string) error {
		return c.DeleteOperationalEndpoint(ctx, id)
	})
}

func newOpSecretCmd(af *apiFlags) *cobra.Command {
	return adminItemCmd(af, &cobra.Command{
		Use:   "secret ID",
		Short: "Print an operational endpoint's signing secrets",
		Long: `Print the secrets an operational endpoint's events are signed with, newest
first: give them to webhook.NewStandard (or any Standard Webhooks library) to verify.`,
		Example: "  herald operational-endpoint secret ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --json | jq -r '.secrets[0].secret'",
	}, (*client.Client).OperationalEndpointSecrets, printSecrets)
}

func newOpRotateSecretCmd(af *apiFlags) *cobra.Command {
	var rf rotateFlags
	cmd := itemCmd(af, serverWide, &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Give an operational endpoint a new signing secret",
		Long: `Give an operational endpoint a new signing secret and print its secrets; the old
ones keep signing until the grace period ends (--grace, default 24h).`,
		Example: "  herald operational-endpoint rotate-secret ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --grace 1h",
	}, rf.check, func(c *client.Client, cmd *cobra.Command, _, id string) ([]*client.EndpointSecret, error) {
		return c.RotateOperationalEndpointSecret(cmd.Context(), id, rf.in)
	}, printSecrets)
	rf.register(cmd)
	return cmd
}

func newOpEventsCmd(af *apiFlags) *cobra.Command {
	var (
		tr timeRangeFlags
		p  client.ListMessagesParams
	)
	cmd := listCmd(af, serverWide, &cobra.Command{
		Use:     "events ID",
		Aliases: []string{"messages"},
		Short:   "List the events sent to an operational endpoint, newest first",
		Long: `List the operational events herald published for an operational endpoint,
newest first; --json prints each with its payload, the webhook's body.`,
		Example: `  herald operational-endpoint events ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --type endpoint.disabled --since 24h`,
		Args:    exactArgs(1),
	}, tr.parseInto(&p.Since, &p.Until), func(c *client.Client, ctx context.Context, _ string, args []string, lp client.ListParams) ([]*client.Message, string, error) {
		p.Limit, p.Cursor = lp.Limit, lp.Cursor
		return c.ListOperationalMessages(ctx, args[0], p)
	}, "ID\tTYPE\tCREATED", func(m *client.Message) string {
		return fmt.Sprintf("%s\t%s\t%s", m.ID, m.Type, fmtTime(m.CreatedAt))
	})
	cmd.Flags().StringVar(&p.Type, "type", "", "only events of this type")
	tr.register(cmd, "events")
	return cmd
}

func newOpAttemptsCmd(af *apiFlags) *cobra.Command {
	return listCmd(af, serverWide, &cobra.Command{
		Use:   "attempts ID",
		Short: "List the attempts to an operational endpoint, newest first",
		Long: `List the HTTP requests herald made to an operational endpoint, newest first:
when, how long they took, the status code and the outcome.`,
		Example: "  herald operational-endpoint attempts ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
		Args:    exactArgs(1),
	}, nil, func(c *client.Client, ctx context.Context, _ string, args []string, p client.ListParams) ([]*client.Attempt, string, error) {
		return c.ListOperationalAttempts(ctx, args[0], client.ListAttemptsParams{Limit: p.Limit, Cursor: p.Cursor})
	}, "ID\tMESSAGE\t#\tSTARTED\tLATENCY\tCODE\tOUTCOME\tERROR", func(a *client.Attempt) string {
		return fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s", a.ID, a.MessageID, a.Number, fmtTime(a.StartedAt), fmtLatency(a.LatencyMS),
			fmtStatusCode(a.StatusCode), a.Outcome, truncate(a.Error, 60))
	})
}
