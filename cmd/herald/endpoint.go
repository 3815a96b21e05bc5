package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/spf13/cobra"
)

func newEndpointCmd() *cobra.Command {
	af := &apiFlags{}
	ap := &appFlag{}
	cmd := newGroupCmd("endpoint", "Manage the URLs that receive an app's webhooks",
		`Manage an app's endpoints: the URLs herald delivers the app's messages to,
signed with the endpoint's secret. Every subcommand needs --app, the app's id
or uid.`,
		`  herald endpoint create --app acme --url https://example.com/webhooks --events 'invoice.*'
  herald endpoint list --app acme
  herald endpoint secret --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C
  herald endpoint replay --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --status failed --since 24h`)
	af.register(cmd)
	ap.register(cmd)
	cmd.AddCommand(
		newEndpointCreateCmd(af, ap),
		newEndpointListCmd(af, ap),
		newEndpointGetCmd(af, ap),
		newEndpointUpdateCmd(af, ap),
		newEndpointStateCmd(af, ap, "pause", "Pause deliveries to an endpoint",
			`Pause an endpoint: its deliveries queue up and are sent when it is resumed.`, client.EndpointPaused),
		newEndpointStateCmd(af, ap, "resume", "Resume a paused or disabled endpoint",
			`Enable an endpoint again: queued deliveries are sent, and new messages reach it.`, client.EndpointEnabled),
		newEndpointStateCmd(af, ap, "disable", "Stop an endpoint from receiving new messages",
			`Disable an endpoint: it receives nothing new until it is resumed.`, client.EndpointDisabled),
		newEndpointDeleteCmd(af, ap),
		newEndpointSecretCmd(af, ap),
		newEndpointRotateSecretCmd(af, ap),
		newEndpointReplayCmd(af, ap),
	)
	return cmd
}

// endpointFlags are the flags that describe an endpoint, for create and update.
type endpointFlags struct {
	url, description, secret  string
	filter                    string
	retrySchedule             []string
	events, headers, metadata []string
	paused, fifo              bool
	maxConcurrency            int
	rateLimit                 float64
	timeout                   time.Duration
	delivery                  deliveryFlags
}

func (f *endpointFlags) register(cmd *cobra.Command, create bool) {
	fl := cmd.Flags()
	urlHelp := "the URL to deliver to, http:// or https://"
	if create {
		urlHelp += " (required)"
	}
	fl.StringVar(&f.url, "url", "", urlHelp)
	fl.StringVar(&f.description, "description", "", "a description, up to 1024 characters")
	fl.StringSliceVar(&f.events, "events", nil, "event types to receive, comma-separated: exact types or wildcards like 'invoice.*' (default: every type)")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "an extra request header, 'name: value' (repeatable)")
	fl.BoolVar(&f.paused, "paused", false, "pause the endpoint: deliveries queue up until it is resumed")
	fl.BoolVar(&f.fifo, "fifo", false, "deliver strictly one at a time, in publish order")
	fl.IntVar(&f.maxConcurrency, "max-concurrency", 0, "deliveries in flight at most, 0..1000 (0: the server default)")
	fl.Float64Var(&f.rateLimit, "rate-limit", 0, "requests per second at most (0: unlimited)")
	fl.DurationVar(&f.timeout, "timeout", 0, "how long to wait for the endpoint, 1s..2m (0: the server default, 15s)")
	fl.StringArrayVar(&f.metadata, "metadata", nil, "a metadata entry, key=value (repeatable)")
	fl.StringVar(&f.secret, "secret", "", "a whsec_ secret, or a whsk_ Ed25519 signing key (herald secret new --type ed25519), to use instead of a generated whsec_")
	fl.StringVar(&f.filter, "filter", "", `a payload filter, JSON such as '{"payload":{"amount":{"$gte":1000}}}' or @FILE (docs/delivery.md)`)
	fl.StringSliceVar(&f.retrySchedule, "retry-schedule", nil, "the endpoint's own retry delays, comma-separated, such as 5s,1m,10m,1h (default: the server's)")
	if !create {
		fl.Lookup("filter").Usage = `a payload filter, JSON or @FILE (--filter '{}' removes it)`
		fl.Lookup("retry-schedule").Usage = "the endpoint's own retry delays, such as 5s,1m,1h (--retry-schedule '' goes back to the server's)"
		fl.Lookup("events").Usage = "event types to receive, comma-separated (--events '' means every type)"
		fl.Lookup("header").Usage = "an extra request header, 'name: value' (repeatable; replaces all headers)"
		fl.Lookup("paused").Usage = "pause (--paused) or enable (--paused=false) the endpoint"
		fl.Lookup("fifo").Usage = "deliver strictly one at a time (--fifo=false to stop)"
		fl.Lookup("metadata").Usage = "a metadata entry, key=value (repeatable; replaces all metadata, --metadata '' removes it)"
		fl.MarkHidden("secret") // rejected with a pointer to rotate-secret
	}
	f.delivery.register(cmd, create)
}

// timeoutMS converts --timeout to milliseconds.
func (f *endpointFlags) timeoutMS(cmd *cobra.Command) (int, error) {
	if f.timeout < 0 {
		return 0, usageError{err: fmt.Errorf("--timeout %s: want a positive duration", f.timeout), cmd: cmd}
	}
	return int(f.timeout.Milliseconds()), nil
}

// input returns the body of a create request.
func (f *endpointFlags) input(cmd *cobra.Command) (client.EndpointInput, error) {
	in := client.EndpointInput{
		URL: f.url, Description: f.description, EventTypes: f.events, FIFO: f.fifo,
		MaxConcurrency: f.maxConcurrency, RateLimit: f.rateLimit, Secret: f.secret,
	}
	if in.URL == "" {
		return in, usageError{err: errors.New("--url is required"), cmd: cmd}
	}
	if f.paused {
		in.State = client.EndpointPaused
	}
	var err error
	if in.TimeoutMS, err = f.timeoutMS(cmd); err != nil {
		return in, err
	}
	if in.Headers, err = parseHeaders(cmd, "header", f.headers); err != nil {
		return in, err
	}
	if in.Metadata, err = parseKV(cmd, "metadata", f.metadata); err != nil {
		return in, err
	}
	if in.Filter, err = parseFilterFlag(cmd, f.filter); err != nil {
		return in, err
	}
	in.RetrySchedule = f.retrySchedule
	return in, f.delivery.applyCreate(cmd, &in)
}

// update returns the body of an update request: the flags given, and only those.
// current reads the endpoint, when the flags change only part of its credentials.
func (f *endpointFlags) update(cmd *cobra.Command, current func() (*client.Endpoint, error)) (client.EndpointUpdate, error) {
	var in client.EndpointUpdate
	fl := cmd.Flags()
	if fl.Changed("secret") {
		return in, usageError{err: errors.New("--secret cannot be changed by update: use 'herald endpoint rotate-secret --secret'"), cmd: cmd}
	}
	changed := false
	set := func(name string, apply func() error) error {
		if !fl.Changed(name) {
			return nil
		}
		changed = true
		return apply()
	}
	err := errors.Join(
		set("url", func() error { in.URL = &f.url; return nil }),
		set("description", func() error { in.Description = &f.description; return nil }),
		set("events", func() error { in.EventTypes = append([]string{}, f.events...); return nil }),
		set("header", func() (err error) { in.Headers, err = parseHeaders(cmd, "header", f.headers); return }),
		set("paused", func() error {
			state := client.EndpointEnabled
			if f.paused {
				state = client.EndpointPaused
			}
			in.State = &state
			return nil
		}),
		set("fifo", func() error { in.FIFO = &f.fifo; return nil }),
		set("max-concurrency", func() error { in.MaxConcurrency = &f.maxConcurrency; return nil }),
		set("rate-limit", func() error { in.RateLimit = &f.rateLimit; return nil }),
		set("timeout", func() error {
			ms, err := f.timeoutMS(cmd)
			in.TimeoutMS = &ms
			return err
		}),
		set("metadata", func() (err error) { in.Metadata, err = parseKV(cmd, "metadata", f.metadata); return }),
		set("filter", func() (err error) {
			if f.filter == "" {
				f.filter = "{}"
			}
			in.Filter, err = parseFilterFlag(cmd, f.filter)
			return
		}),
		set("retry-schedule", func() error { in.RetrySchedule = append([]string{}, f.retrySchedule...); return nil }),
	)
	if err != nil {
		return in, err
	}
	more, err := f.delivery.applyUpdate(cmd, &in, current)
	if err != nil {
		return in, err
	}
	if !changed && !more {
		return in, usageError{err: errors.New("nothing to change: pass at least one of the endpoint's flags"), cmd: cmd}
	}
	return in, nil
}

// printEndpoint prints an endpoint as JSON or as a detail view.
func printEndpoint(cmd *cobra.Command, af *apiFlags, e *client.Endpoint) error {
	if af.json {
		return writeJSON(cmd.OutOrStdout(), e)
	}
	state := e.State
	if e.DisabledReason != "" {
		state += " (" + e.DisabledReason + ")"
	}
	timeout := "default"
	if e.TimeoutMS > 0 {
		timeout = (time.Duration(e.TimeoutMS) * time.Millisecond).String()
	}
	concurrency := "default"
	if e.MaxConcurrency > 0 {
		concurrency = strconv.Itoa(e.MaxConcurrency)
	}
	rate := "unlimited"
	if e.RateLimit > 0 {
		rate = strconv.FormatFloat(e.RateLimit, 'g', -1, 64) + "/s"
	}
	return printDetail(cmd.OutOrStdout(), []field{
		{"id", e.ID},
		{"app_id", e.AppID},
		{"url", e.URL},
		{"description", orDash(e.Description)},
		{"state", state},
		{"event_types", fmtEvents(e.EventTypes)},
		{"headers", fmtHeaders(e.Headers)},
		{"max_concurrency", concurrency},
		{"rate_limit", rate},
		{"timeout", timeout},
		{"fifo", strconv.FormatBool(e.FIFO)},
		{"filter", orDash(string(e.Filter))},
		{"retry_schedule", fmtSchedule(e.RetrySchedule)},
		{"transformation", fmtTransformation(e.Transformation)},
		{"auth", fmtAuth(e.Auth)},
		{"metadata", fmtMap(e.Metadata)},
		{"failing_since", fmtTimePtr(e.FailingSince)},
		{"created_at", fmtTime(e.CreatedAt)},
		{"updated_at", fmtTime(e.UpdatedAt)},
	})
}

// fmtSchedule formats an endpoint's retry schedule; none means the server's.
func fmtSchedule(s []string) string {
	if len(s) == 0 {
		return "server default"
	}
	return strings.Join(s, ",")
}

// fmtEvents formats an event type filter; an empty one means every type.
func fmtEvents(types []string) string {
	if len(types) == 0 {
		return "*"
	}
	return strings.Join(types, ",")
}

// endpointCreateCmd completes cmd, a command that adds an endpoint of its scope with
// create: it takes the endpoint flags and prints the endpoint created.
func endpointCreateCmd(af *apiFlags, scope appScope, cmd *cobra.Command,
	create func(c *client.Client, ctx context.Context, app string, in client.EndpointInput) (*client.Endpoint, error)) *cobra.Command {
	var ef endpointFlags
	cmd.Args = exactArgs(0)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var in client.EndpointInput
		app, c, err := prepare(cmd, af, scope, func(cmd *cobra.Command) (err error) {
			in, err = ef.input(cmd)
			return err
		})
		if err != nil {
			return err
		}
		e, err := create(c, cmd.Context(), app, in)
		if err != nil {
			return af.explain(err)
		}
		return printEndpoint(cmd, af, e)
	}
	ef.register(cmd, true)
	return cmd
}

// endpointListCmd completes cmd, a command that lists the endpoints of its scope with list.
func endpointListCmd(af *apiFlags, scope appScope, cmd *cobra.Command,
	list func(c *client.Client, ctx context.Context, app string, p client.ListParams) ([]*client.Endpoint, string, error)) *cobra.Command {
	cmd.Args = exactArgs(0)
	return listCmd(af, scope, cmd, nil, func(c *client.Client, ctx context.Context, app string, _ []string, p client.ListParams) ([]*client.Endpoint, string, error) {
		return list(c, ctx, app, p)
	}, "ID\tURL\tSTATE\tEVENTS\tFAILING SINCE", func(e *client.Endpoint) string {
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%s", e.ID, e.URL, e.State, truncate(fmtEvents(e.EventTypes), 40), fmtTimePtr(e.FailingSince))
	})
}

func newEndpointCreateCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return endpointCreateCmd(af, ap.get, &cobra.Command{
		Use:   "create --app APP --url URL",
		Short: "Add an endpoint to an app",
		Long: `Add an endpoint to an app and print it. Without --events it receives every
event type. herald signs its deliveries with a new whsec_ secret (see 'herald
endpoint secret'), or with --secret, and can also authenticate to the receiver
(--auth-basic, --auth-bearer, --oauth2-*, --mtls-*) and reshape each webhook with
a JavaScript transformation (docs/delivery.md). The server refuses URLs that
point at private, loopback or metadata addresses unless it runs with
--allow-network.`,
		Example: `  herald endpoint create --app acme --url https://example.com/webhooks
  herald endpoint create --app acme --url https://example.com/hooks --events 'invoice.*,customer.created' \
      --auth-bearer env:ACME_TOKEN --timeout 5s --rate-limit 10 --fifo
  herald endpoint create --app acme --url https://hooks.slack.com/services/T0/B0/XXXX --transformation-template slack
  herald endpoint create --app acme --url https://api.acme.example/hooks --oauth2-token-url https://auth.acme.example/token \
      --oauth2-client-id herald --oauth2-client-secret @client-secret.txt --oauth2-scope webhooks:write`,
	}, (*client.Client).CreateEndpoint)
}

func newEndpointListCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return endpointListCmd(af, ap.get, &cobra.Command{
		Use:   "list --app APP",
		Short: "List an app's endpoints, newest first",
		Long: `List an app's endpoints, newest first, one page at a time (--all fetches every
page). FAILING SINCE is when the endpoint started failing continuously.`,
		Example: `  herald endpoint list --app acme
  herald endpoint list --app acme --all --json`,
	}, (*client.Client).ListEndpoints)
}

func newEndpointGetCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return appItemCmd(af, ap, &cobra.Command{
		Use:     "get --app APP ID",
		Short:   "Show an endpoint",
		Long:    `Show an endpoint's settings and state. Its secrets are shown by 'herald endpoint secret'.`,
		Example: "  herald endpoint get --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
	}, (*client.Client).GetEndpoint, printEndpoint)
}

func newEndpointUpdateCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var ef endpointFlags
	cmd := &cobra.Command{
		Use:   "update --app APP ID [flags]",
		Short: "Change an endpoint's settings",
		Long: `Change an endpoint and print it. Only the flags given are sent; --events,
--header and --metadata replace the whole list or map. Credentials flags of the
endpoint's current kind change only what they give (the stored secrets stay);
another kind replaces them, and --no-auth removes them. The signing secret is
changed by 'herald endpoint rotate-secret'.`,
		Example: `  herald endpoint update --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --url https://example.com/v2/webhooks
  herald endpoint update --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --events '' --timeout 30s
  herald endpoint update --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --transformation handler.js
  herald endpoint update --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --mtls-cert client.pem --mtls-key client.key --ca-cert ca.pem
  herald endpoint update --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --oauth2-client-secret env:NEW_SECRET`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app, err := ap.get(cmd)
			if err != nil {
				return err
			}
			in, err := ef.update(cmd, func() (*client.Endpoint, error) {
				c, err := af.client(cmd)
				if err != nil {
					return nil, err
				}
				e, err := c.GetEndpoint(cmd.Context(), app, args[0])
				return e, af.explain(err)
			})
			if err != nil {
				return err
			}
			c, err := af.client(cmd)
			if err != nil {
				return err
			}
			e, err := c.UpdateEndpoint(cmd.Context(), app, args[0], in)
			if err != nil {
				return af.explain(err)
			}
			return printEndpoint(cmd, af, e)
		},
	}
	ef.register(cmd, false)
	return cmd
}

// newEndpointStateCmd returns pause, resume or disable: a command that sets the endpoint's state.
func newEndpointStateCmd(af *apiFlags, ap *appFlag, use, short, long, state string) *cobra.Command {
	return itemCmd(af, ap.get, &cobra.Command{
		Use:     use + " --app APP ID",
		Short:   short,
		Long:    long,
		Example: "  herald endpoint " + use + " --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
	}, nil, func(c *client.Client, cmd *cobra.Command, app, id string) (*client.Endpoint, error) {
		return c.UpdateEndpoint(cmd.Context(), app, id, client.EndpointUpdate{State: &state})
	}, func(cmd *cobra.Command, af *apiFlags, e *client.Endpoint) error {
		if af.json {
			return writeJSON(cmd.OutOrStdout(), e)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "endpoint %s is %s\n", e.ID, e.State)
		return nil
	})
}

func newEndpointDeleteCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return deleteCmd(af, ap.get, &cobra.Command{
		Use:     "delete --app APP ID",
		Short:   "Delete an endpoint and its deliveries",
		Long:    `Delete an endpoint together with its deliveries and their attempts. This cannot be undone.`,
		Example: "  herald endpoint delete --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C",
	}, "endpoint", (*client.Client).DeleteEndpoint)
}

// printSecrets prints an endpoint's signing secrets as the API answered them
// ({"secrets": [...]}) or as a table.
func printSecrets(cmd *cobra.Command, af *apiFlags, secrets []*client.EndpointSecret) error {
	out := cmd.OutOrStdout()
	if af.json {
		return writeAnswer(out, af, map[string]any{"secrets": secrets})
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "SECRET\tID\tCREATED\tEXPIRES")
	for _, s := range secrets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Secret, s.ID, fmtTime(s.CreatedAt), fmtTimePtr(s.ExpiresAt))
	}
	return tw.Flush()
}

func newEndpointSecretCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	return appItemCmd(af, ap, &cobra.Command{
		Use:   "secret --app APP ID",
		Short: "Print an endpoint's signing secrets",
		Long: `Print the secrets an endpoint's deliveries are signed with (whsec_ for HMAC,
whsk_ for Ed25519, whose whpk_ public key is what receivers need), newest first.
During a rotation there are several, and the old ones show when they expire;
the receiver should accept any of them (webhook.NewStandard takes several).`,
		Example: `  herald endpoint secret --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C
  herald endpoint secret --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --json | jq -r '.secrets[0].secret'`,
	}, (*client.Client).EndpointSecrets, printSecrets)
}

// dayDuration is a duration flag that also accepts days ("7d").
type dayDuration time.Duration

func (d *dayDuration) String() string {
	if *d == 0 {
		return ""
	}
	return time.Duration(*d).String()
}

func (d *dayDuration) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = dayDuration(v)
	return nil
}

func (d *dayDuration) Type() string { return "duration" }

// rotateFlags are the flags of the rotate-secret commands.
type rotateFlags struct {
	in    client.RotateSecretInput
	grace dayDuration
}

func (f *rotateFlags) register(cmd *cobra.Command) {
	cmd.Flags().Var(&f.grace, "grace", "how long the old secrets keep signing, such as 1h or 7d (default 24h)")
	cmd.Flags().StringVar(&f.in.Secret, "secret", "", "the new whsec_ secret (default: a generated one)")
}

// check checks --grace and sets the grace period of the request when it is given.
func (f *rotateFlags) check(cmd *cobra.Command) error {
	if cmd.Flags().Changed("grace") {
		if f.grace < 0 {
			return usageError{err: fmt.Errorf("--grace %s: want 0 or more", time.Duration(f.grace)), cmd: cmd}
		}
		seconds := int(time.Duration(f.grace) / time.Second)
		f.in.GracePeriodSeconds = &seconds
	}
	return nil
}

func newEndpointRotateSecretCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var rf rotateFlags
	cmd := itemCmd(af, ap.get, &cobra.Command{
		Use:   "rotate-secret --app APP ID",
		Short: "Give an endpoint a new signing secret",
		Long: `Give an endpoint a new signing secret (generated, or --secret) and print its
secrets. Until the grace period ends (--grace, default 24h, at most 7d; 0 ends
it now) deliveries are signed with the old secrets too, so the receiver can
switch to the new one without rejecting anything.`,
		Example: `  herald endpoint rotate-secret --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C
  herald endpoint rotate-secret --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --grace 1h --secret "$(herald secret new)"`,
	}, rf.check, func(c *client.Client, cmd *cobra.Command, app, id string) ([]*client.EndpointSecret, error) {
		return c.RotateEndpointSecret(cmd.Context(), app, id, rf.in)
	}, printSecrets)
	rf.register(cmd)
	return cmd
}

func newEndpointReplayCmd(af *apiFlags, ap *appFlag) *cobra.Command {
	var (
		status string
		tr     timeRangeFlags
		batch  int
	)
	cmd := &cobra.Command{
		Use:   "replay --app APP ID",
		Short: "Send an endpoint's finished deliveries again",
		Long: `Queue an endpoint's finished deliveries for another attempt: the failed ones
(--status failed), the succeeded ones, or both (the default), optionally only
those created in a time range. Pending deliveries are left alone. The server
replays in batches; progress is printed on stderr, the total on stdout.`,
		Example: `  herald endpoint replay --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --status failed --since 24h
  herald endpoint replay --app acme ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --since 2026-11-26T00:00:00Z --until 2026-11-27T00:00:00Z`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := client.ReplayInput{Status: status, Limit: batch}
			app, c, err := prepare(cmd, af, ap.get, func(cmd *cobra.Command) (err error) {
				if in.Since, in.Until, err = tr.parse(cmd); err != nil {
					return err
				}
				if batch < 0 {
					return usageError{err: fmt.Errorf("--batch %d: want a positive number", batch), cmd: cmd}
				}
				return nil
			})
			if err != nil {
				return err
			}
			total := 0
			for {
				res, err := c.Replay(cmd.Context(), app, args[0], in)
				if err != nil {
					if total > 0 {
						return af.explain(fmt.Errorf("replay stopped after %d: %w", total, err))
					}
					return af.explain(err)
				}
				total += res.Replayed
				if res.Next == "" {
					break
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "replayed %d...\n", total)
				in.After = res.Next
			}
			if af.json {
				return writeJSON(cmd.OutOrStdout(), map[string]int{"replayed": total})
			}
			noun := "deliveries"
			if total == 1 {
				noun = "delivery"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "replayed %d %s\n", total, noun)
			return nil
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "replay only deliveries with this status: failed, succeeded or cancelled (default: all)")
	tr.register(cmd, "deliveries")
	cmd.Flags().IntVar(&batch, "batch", 0, "deliveries per request (default: the server's, 1000)")
	return cmd
}
