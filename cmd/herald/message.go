package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

func newMessageCmd() *cobra.Command {
	af := &apiFlags{}
	ap := &appFlag{}
	cmd := newGroupCmd("message", "Publish and inspect an app's messages",
		`Publish messages (events) to an app and inspect them. Publishing queues one
delivery to every endpoint of the app that subscribes to the message's type.
Every subcommand needs --app, the app's id or uid.`,
		`  herald message create --app acme --type invoice.paid --payload '{"id":"in_123"}'
  herald message import --app acme --file events.jsonl
  herald message list --app acme --type invoice.paid --since 24h
  herald message get --app acme msg_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C
  herald message replay --app acme --since 24h --status failed --event-type invoice.paid`)
	af.register(cmd)
	ap.register(cmd)
	cmd.AddCommand(newMessageCreateCmd(af, ap), newMessageImportCmd(af, ap), newMessageListCmd(af, ap), newMessageGetCmd(af, ap),
		newMessageReplayCmd(af, ap))
	return cmd
}

// readPayload returns the --payload value: inline JSON, @file, @- for stdin, or stdin
// when the flag is not given.
func readPayload(cmd *cobra.Command, payload string) ([]byte, error) {
	var b []byte
	switch {
	case cmd.Flags().Changed("payload") && payload != "@-" && strings.HasPrefix(payload, "@"):
		var err error
		if b, err = os.ReadFile(payload[1:]); err != nil {
			return nil, fmt.Errorf("read payload: %w", err)
		}
	case cmd.Flags().Changed("payload") && payload != "@-":
		b = []byte(payload)
	default:
		in, err := pipedStdin(cmd, "no payload: pass --payload '{...}', --payload @file.json, or pipe it on stdin")
		if err != nil {
			return nil, err
		}
		if b, err = io.ReadAll(in); err != nil {
			return nil, fmt.Errorf("read payload from stdin: %w", err)
		}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, usageError{err: errors.New("the payload is empty: want a JSON object"), cmd: cmd}
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("the payload is not valid JSON: %w", err)
	}
	return b, nil
}

// pipedStdin returns the command's standard input, or a usage error saying nothing
// when it is a terminal (nobody is piping anything in).
func pipedStdin(cmd *cobra.Command, nothing string) (io.Reader, error) {
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return nil, usageError{err: errors.New(nothing), cmd: cmd}
		}
	}
	return in, nil
}

func newMessageCreateCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var (
		in      client.MessageInput
		payload string
	)
	cmd := &cobra.Command{
		Use:     "create --app APP --type TYPE [--payload JSON|@FILE]",
		Aliases: []string{"publish"},
		Short:   "Publish a message to an app's endpoints",
		Long: `Publish a message and print it with the number of endpoints it was queued for.
The payload, a JSON object, is the webhook body, sent byte for byte: give it
inline, as @file.json, or on stdin. The answer comes once the message and its
deliveries are stored.

With --idempotency-key, publishing again with the same key within 24 hours
queues nothing new and prints the original message, marked as replayed.`,
		Example: `  herald message create --app acme --type invoice.paid --payload '{"id":"in_123","amount":4200}'
  herald message publish --app acme --type invoice.paid --payload @event.json --idempotency-key in_123-paid
  curl -s https://example.com/event | herald message create --app acme --type invoice.paid`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			app, c, err := prepare(cmd, af, ap.get, func(cmd *cobra.Command) error {
				if in.Type == "" {
					return usageError{err: errors.New("--type is required: the event type, such as invoice.paid"), cmd: cmd}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if in.Payload, err = readPayload(cmd, payload); err != nil {
				return err
			}
			m, deliveries, replayed, err := c.Publish(cmd.Context(), app, in)
			if err != nil {
				return af.explain(err)
			}
			if af.json {
				return writeJSON(cmd.OutOrStdout(), m)
			}
			fields := messageFields(m)
			if replayed {
				fields = append(fields, field{"replayed", "true (the idempotency key was used before: this is the original message, nothing new was queued)"})
			} else {
				fields = append(fields, field{"deliveries", strconv.Itoa(deliveries)})
			}
			return printDetail(cmd.OutOrStdout(), fields)
		},
	}
	cmd.Flags().StringVar(&in.Type, "type", "", "the event type, such as invoice.paid (required)")
	cmd.Flags().StringVar(&payload, "payload", "", "the JSON payload, or @file to read it from a file (default: stdin)")
	cmd.Flags().StringVar(&in.IdempotencyKey, "idempotency-key", "", "publish at most once per key within 24 hours")
	return cmd
}

// messageFields are the detail view of a message, without its payload.
func messageFields(m *client.Message) []field {
	return []field{
		{"id", m.ID},
		{"app_id", m.AppID},
		{"type", m.Type},
		{"idempotency_key", orDash(m.IdempotencyKey)},
		{"created_at", fmtTime(m.CreatedAt)},
	}
}

func newMessageListCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var (
		tr timeRangeFlags
		p  client.ListMessagesParams
	)
	cmd := appListCmd(af, ap, &cobra.Command{
		Use:   "list --app APP",
		Short: "List an app's messages, newest first",
		Long: `List an app's messages, newest first, one page at a time (--all fetches every
page), optionally of one type or created in a time range.`,
		Example: `  herald message list --app acme
  herald message list --app acme --type invoice.paid --since 7d --all --json`,
		Args: exactArgs(0),
	}, tr.parseInto(&p.Since, &p.Until), func(c *client.Client, ctx context.Context, app string, _ []string, lp client.ListParams) ([]*client.Message, string, error) {
		p.Limit, p.Cursor = lp.Limit, lp.Cursor
		return c.ListMessages(ctx, app, p)
	}, "ID\tTYPE\tIDEMPOTENCY KEY\tCREATED", func(m *client.Message) string {
		return fmt.Sprintf("%s\t%s\t%s\t%s", m.ID, m.Type, truncate(m.IdempotencyKey, 40), fmtTime(m.CreatedAt))
	})
	cmd.Flags().StringVar(&p.Type, "type", "", "only messages of this event type")
	tr.register(cmd, "messages")
	return cmd
}

func newMessageGetCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return appItemCmd(af, ap, &cobra.Command{
		Use:     "get --app APP ID",
		Short:   "Show a message and its payload",
		Long:    `Show a message and its payload. 'herald delivery list --message ID' shows where it went.`,
		Example: "  herald message get --app acme msg_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C\n  herald message get --app acme msg_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --json | jq .payload",
	}, (*client.Client).GetMessage, printMessage)
}

// printMessage prints a message as JSON, or as a detail view followed by its payload.
func printMessage(cmd *cobra.Command, af *apiFlags, m *client.Message) error {
	out := cmd.OutOrStdout()
	if af.json {
		return writeJSON(out, m)
	}
	if err := printDetail(out, messageFields(m)); err != nil {
		return err
	}
	if len(m.Payload) == 0 || string(m.Payload) == "null" {
		_, err := fmt.Fprintln(out, "payload: (purged)")
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, m.Payload, "  ", "  "); err != nil {
		pretty.Reset()
		pretty.Write(m.Payload)
	}
	_, err := fmt.Fprintf(out, "payload:\n  %s\n", pretty.Bytes())
	return err
}
