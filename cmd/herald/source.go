package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/webhook"
	"github.com/spf13/cobra"
)

func newSourceCmd() *cobra.Command {
	af := &apiFlags{}
	ap := &appFlag{}
	cmd := newGroupCmd("source", "Receive providers' webhooks through herald",
		`Manage an app's sources: inbound addresses (POST /in/SOURCE on the server, where
SOURCE is the source's id or its uid) where herald receives a provider's webhooks
(OpenAI, Stripe, GitHub, ...), verifies their signatures, stores them durably,
drops duplicates, and forwards them to the app's endpoints with retries. Rejected
requests are kept for inspection and never forwarded. Every subcommand needs
--app, and takes a source's id or its uid alike.`,
		`  herald source create --app acme --provider openai --uid openai-prod --secret "$OPENAI_WEBHOOK_SECRET"
  herald source list --app acme
  herald source events --app acme openai-prod
  herald source rejections --app acme src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C`)
	af.register(cmd)
	ap.register(cmd)
	cmd.AddCommand(
		newSourceCreateCmd(af, ap),
		newSourceListCmd(af, ap),
		newSourceGetCmd(af, ap),
		newSourceUpdateCmd(af, ap),
		newSourceDeleteCmd(af, ap),
		newSourceEventsCmd(af, ap),
		newSourceRejectionsCmd(af, ap),
	)
	return cmd
}

// sourceFlags describe a source, for create and update.
type sourceFlags struct {
	uid, name, provider, secret string
	secrets                     []string
	hmac                        client.HMACConfig
	maxBody                     int64
	dedupe                      time.Duration
}

func (f *sourceFlags) register(cmd *cobra.Command, create bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.uid, "uid", "", "the source's uid: a lowercase slug unique on the server (a-z, 0-9, '-'), its address /in/UID; '' removes it")
	fl.StringVar(&f.name, "name", "", "a name for people")
	if create {
		fl.StringVar(&f.provider, "provider", "", "who sends the webhooks: "+strings.Join(webhook.ProviderNames(), ", ")+", or hmac (required)")
	}
	fl.StringVar(&f.secret, "secret", "", "the signing secret the provider gave you")
	fl.StringSliceVar(&f.secrets, "secrets", nil, "several secrets (comma-separated, newest first), during a rotation")
	fl.StringVar(&f.hmac.Header, "hmac-header", "", "hmac provider: the signature header (e.g. X-Signature)")
	fl.StringVar(&f.hmac.Prefix, "hmac-prefix", "", "hmac provider: the signature's prefix (e.g. sha256=)")
	fl.StringVar(&f.hmac.Encoding, "hmac-encoding", "", "hmac provider: hex (default) or base64")
	fl.StringVar(&f.hmac.Algorithm, "hmac-algorithm", "", "hmac provider: sha256 (default), sha1 or sha512")
	fl.StringVar(&f.hmac.Template, "hmac-template", "", "hmac provider: the signed content, with {body}, {timestamp}, {id} (default {body})")
	fl.StringVar(&f.hmac.TimestampHeader, "hmac-timestamp-header", "", "hmac provider: the header with the signed timestamp")
	fl.StringVar(&f.hmac.IDHeader, "hmac-id-header", "", "hmac provider: the header with the delivery id (for dedupe)")
	fl.StringVar(&f.hmac.TypeHeader, "hmac-type-header", "", "hmac provider: the header with the event type")
	fl.Int64Var(&f.maxBody, "max-body-bytes", 0, "the largest body accepted (default 1 MiB)")
	fl.DurationVar(&f.dedupe, "dedupe-window", 0, "how long delivery ids are remembered to drop duplicates (default 72h)")
}

func (f *sourceFlags) input(cmd *cobra.Command) client.SourceInput {
	in := client.SourceInput{Name: f.name, Provider: f.provider, Secret: f.secret, Secrets: f.secrets,
		MaxBodyBytes: f.maxBody, DedupeWindowSeconds: int64(f.dedupe / time.Second)}
	if f.hmac != (client.HMACConfig{}) {
		h := f.hmac
		in.HMAC = &h
	}
	if cmd.Flags().Changed("uid") {
		in.UID = &f.uid
	}
	return in
}

func printSource(cmd *cobra.Command, af *apiFlags, s *client.Source) error {
	if af.json {
		return writeJSON(cmd.OutOrStdout(), s)
	}
	fields := []field{
		{"id", s.ID}, {"app_id", s.AppID}, {"uid", orDash(s.UID)}, {"name", orDash(s.Name)}, {"provider", s.Provider},
		{"ingest_url", ingestURL(af, s)},
		{"max_body_bytes", strconv.FormatInt(s.MaxBodyBytes, 10)},
		{"dedupe_window", (time.Duration(s.DedupeWindowSeconds) * time.Second).String()},
	}
	if s.HMAC != nil {
		fields = append(fields, field{"hmac", fmt.Sprintf("header=%s prefix=%q encoding=%s algorithm=%s template=%q",
			s.HMAC.Header, s.HMAC.Prefix, orDash(s.HMAC.Encoding), orDash(s.HMAC.Algorithm), s.HMAC.Template)})
	}
	fields = append(fields, field{"created_at", fmtTime(s.CreatedAt)}, field{"updated_at", fmtTime(s.UpdatedAt)})
	return printDetail(cmd.OutOrStdout(), fields)
}

// ingestURL is the URL the provider must send to: the server's answer (its
// --public-url, or the address the CLI reached it at), or for an older server the
// CLI's --server and the ingest path.
func ingestURL(af *apiFlags, s *client.Source) string {
	if s.IngestURL != "" {
		return s.IngestURL
	}
	return strings.TrimRight(af.serverURL(), "/") + s.IngestPath
}

// providerDashboards says where each provider takes the URL of a webhook endpoint.
var providerDashboards = map[string]string{
	client.ProviderOpenAI:  "OpenAI: platform.openai.com, Settings, Webhooks, Create; its signing secret is this source's --secret",
	client.ProviderStripe:  "Stripe: Dashboard, Developers, Webhooks, Add endpoint; its signing secret (whsec_...) is this source's --secret",
	client.ProviderGitHub:  "GitHub: the repository's or organisation's Settings, Webhooks, Add webhook, as the Payload URL with content type application/json",
	client.ProviderShopify: "Shopify: Settings, Notifications, Webhooks, Create webhook (or your app's webhook subscriptions)",
	client.ProviderSlack:   "Slack: your app's Event Subscriptions, as the Request URL (herald answers Slack's url_verification challenge)",
}

// hostOf returns the host of a URL, "" if it has none.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// printPasteHint tells, on stderr, where the URL of a new source goes.
func printPasteHint(cmd *cobra.Command, af *apiFlags, s *client.Source) {
	where := providerDashboards[s.Provider]
	if where == "" {
		where = "the sender's webhook settings, as the endpoint URL"
	}
	u := ingestURL(af, s)
	fmt.Fprintf(cmd.ErrOrStderr(), "\nPaste this URL into %s:\n  %s\n", where, u)
	if host := hostOf(u); host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1" {
		fmt.Fprintln(cmd.ErrOrStderr(), "(a loopback address: a provider cannot reach it; run herald serve with --public-url https://your.host, or use herald listen)")
	}
}

func newSourceCreateCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var sf sourceFlags
	cmd := &cobra.Command{
		Use:   "create --app APP --provider PROVIDER --secret SECRET",
		Short: "Create a source: an inbound address for a provider's webhooks",
		Long: `Create a source and print it with its ingest URL, then say (on stderr) where
to paste that URL in the provider's dashboard. Webhooks that arrive there are
verified with the secret, stored, and forwarded to the app's endpoints; their
type is the provider's event type (characters outside [a-zA-Z0-9_.-] become '.').
For the hmac provider, describe the scheme with the --hmac-* flags.

With --uid the source's address is /in/UID (a lowercase slug, unique on the
server), which reads better in a dashboard than /in/src_...; both work. The URL
starts with the server's --public-url when it has one, else with the address
this command reached it at (--server).`,
		Example: `  herald source create --app acme --provider openai --uid openai-prod --secret "$OPENAI_WEBHOOK_SECRET"
  herald source create --app acme --provider stripe --secret whsec_... --name payments
  herald source create --app acme --provider hmac --secret s3cret --hmac-header X-Signature --hmac-prefix sha256=`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			app, c, err := prepare(cmd, af, ap.get, func(cmd *cobra.Command) error {
				if sf.provider == "" {
					return usageError{err: fmt.Errorf("--provider is required: one of %s or hmac", strings.Join(webhook.ProviderNames(), ", ")), cmd: cmd}
				}
				return nil
			})
			if err != nil {
				return err
			}
			s, err := c.CreateSource(cmd.Context(), app, sf.input(cmd))
			if err != nil {
				return af.explain(err)
			}
			if err := printSource(cmd, af, s); err != nil {
				return err
			}
			if !af.json {
				printPasteHint(cmd, af, s)
			}
			return nil
		},
	}
	sf.register(cmd, true)
	return cmd
}

func newSourceListCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return appListCmd(af, ap, &cobra.Command{
		Use:     "list --app APP",
		Short:   "List an app's sources",
		Example: "  herald source list --app acme",
		Args:    exactArgs(0),
	}, nil, func(c *client.Client, ctx context.Context, app string, _ []string, p client.ListParams) ([]*client.Source, string, error) {
		return c.ListSources(ctx, app, p)
	}, "ID\tUID\tNAME\tPROVIDER\tINGEST URL\tCREATED", func(s *client.Source) string {
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", s.ID, orDash(s.UID), orDash(s.Name), s.Provider, ingestURL(af, s), fmtTime(s.CreatedAt))
	})
}

func newSourceGetCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return appItemCmd(af, ap, &cobra.Command{
		Use:     "get --app APP ID|UID",
		Short:   "Show a source",
		Example: "  herald source get --app acme src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
	}, (*client.Client).GetSource, printSource)
}

func newSourceUpdateCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var sf sourceFlags
	cmd := itemCmd(af, ap.get, &cobra.Command{
		Use:   "update --app APP ID|UID [flags]",
		Short: "Change a source's uid, name, secrets or limits",
		Long: `Change a source. To rotate the provider's secret without dropping webhooks,
give both while the provider switches: --secrets NEW,OLD; later --secret NEW.
A new --uid moves its address at once (the old /in/UID answers 404): update the
provider's dashboard first, or keep /in/src_... there, which never changes.`,
		Example: `  herald source update --app acme src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --secrets whsec_new,whsec_old`,
	}, nil, func(c *client.Client, cmd *cobra.Command, app, id string) (*client.Source, error) {
		return c.UpdateSource(cmd.Context(), app, id, sf.input(cmd))
	}, printSource)
	sf.register(cmd, false)
	return cmd
}

func newSourceDeleteCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return &cobra.Command{
		Use:     "delete --app APP ID|UID",
		Short:   "Delete a source (its events stay)",
		Long:    `Delete a source: its ingest URL answers 404 from now on. Events that arrived through it stay, with their deliveries.`,
		Example: "  herald source delete --app acme src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app, c, err := ap.client(cmd, af)
			if err != nil {
				return err
			}
			if err := c.DeleteSource(cmd.Context(), app, args[0]); err != nil {
				return af.explain(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted source %s\n", args[0])
			return nil
		},
	}
}

func newSourceEventsCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return appListCmd(af, ap, &cobra.Command{
		Use:   "events --app APP ID|UID",
		Short: "List the events that arrived through a source",
		Long: `List the webhooks a source accepted, newest first. Each is a message of the
app: see its deliveries with 'herald delivery list --app APP --message MSG'.`,
		Example: "  herald source events --app acme src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
		Args:    exactArgs(1),
	}, nil, func(c *client.Client, ctx context.Context, app string, args []string, p client.ListParams) ([]*client.Message, string, error) {
		id, err := sourceID(ctx, c, app, args[0])
		if err != nil {
			return nil, "", err
		}
		return c.ListMessages(ctx, app, client.ListMessagesParams{SourceID: id, Limit: p.Limit, Cursor: p.Cursor})
	}, "ID\tTYPE\tRECEIVED\tSIZE", func(m *client.Message) string {
		return fmt.Sprintf("%s\t%s\t%s\t%d", m.ID, m.Type, fmtTime(m.CreatedAt), len(m.Payload))
	})
}

func newSourceRejectionsCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var explain bool
	cmd := appListCmd(af, ap, &cobra.Command{
		Use:   "rejections --app APP ID|UID",
		Short: "List the requests a source refused",
		Long: `List requests a source refused (bad signature, stale timestamp, missing
header, body too large), newest first, with the reason. They were not forwarded.

DIAGNOSIS is what the verification debugger found when a signature did not
verify (a body re-serialised, a secret of the wrong kind, a clock off, another
provider's headers...): --explain prints each finding under its rejection, with
what to do. Use --json to see the headers and bodies too.`,
		Example: "  herald source rejections --app acme src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --explain\n" +
			"  herald source rejections --app acme src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --json",
		Args: exactArgs(1),
	}, nil, func(c *client.Client, ctx context.Context, app string, args []string, p client.ListParams) ([]*client.Rejection, string, error) {
		return c.ListRejections(ctx, app, args[0], p)
	}, "RECEIVED\tSTATUS\tCODE\tFROM\tDIAGNOSIS\tMESSAGE", func(r *client.Rejection) string {
		row := fmt.Sprintf("%s\t%d\t%s\t%s\t%s\t%s", fmtTime(r.ReceivedAt), r.Status, r.Code, orDash(r.RemoteAddr),
			rejectionDiagnosis(r.Diagnosis), truncate(r.Message, 80))
		if !explain || len(r.Diagnosis) == 0 {
			return row
		}
		// The findings go under MESSAGE: after as many tabs as the row has cells before it,
		// the last cell of a line takes no part in the table's column widths.
		var b strings.Builder
		writeFindings(&b, "\t\t\t\t\t", r.Diagnosis)
		return row + "\n" + strings.TrimSuffix(b.String(), "\n")
	})
	cmd.Flags().BoolVar(&explain, "explain", false, "print each rejection's diagnosis and hints under it")
	return cmd
}

// sourceID returns the id of the source of app that ref (an id or a uid) names: the
// message filter takes ids only.
func sourceID(ctx context.Context, c *client.Client, app, ref string) (string, error) {
	if strings.HasPrefix(ref, "src_") {
		return ref, nil
	}
	s, err := c.GetSource(ctx, app, ref)
	if err != nil {
		return "", err
	}
	return s.ID, nil
}
