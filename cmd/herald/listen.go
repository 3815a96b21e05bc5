package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/heraldhq/herald/internal/relay"
	"github.com/spf13/cobra"
)

func newListenCmd() *cobra.Command {
	var (
		af              apiFlags
		app, source     string
		name            string
		forwardTo       string
		forwards        []string
		events          []string
		originalHeaders bool
	)
	cmd := &cobra.Command{
		Use:   "listen --forward-to URL (--app APP | --source SOURCE)",
		Short: "Forward webhooks to your machine, without a public tunnel",
		Long: `Attach to a herald server as a live destination and forward its webhooks to a
local URL. The connection goes out from your machine (a WebSocket), so nothing
needs to reach it from the internet.

With --source, you get the webhooks that arrived through that source (e.g. the
OpenAI webhooks your public herald receives); with --app, every message of the
app. Each is POSTed to the local URL with its body byte for byte, signed with
this listener's own Standard Webhooks secret, printed at start: it stays the
same across restarts of the same listener (--name, default this host's name), so
set it once, e.g. as OPENAI_WEBHOOK_SECRET. With --original-headers the
provider's own headers are forwarded instead (verify with the provider's secret).

Your local server's answer is recorded as the delivery attempt: non-2xx answers
are retried. While the listener is away nothing is lost: its webhooks wait and
are sent as soon as it reconnects (it reconnects by itself, with backoff), for up
to the server's --listener-expiry (default 24h).
Another listen with the same --name takes over: this one then exits with an error.`,
		Example: `  herald listen --source src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C --forward-to http://localhost:8000/webhooks
  herald listen --app acme --events 'response.*' --forward-to http://localhost:8000/webhooks
  herald listen --app acme --forward 'response.*=http://localhost:8000/openai' --forward 'batch.*=http://localhost:8001/batches'`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if app == "" && source == "" {
				return usageError{err: errors.New("attach to an app (--app) or a source (--source)"), cmd: cmd}
			}
			routes, events, err := listenRoutes(cmd, forwards, forwardTo, events)
			if err != nil {
				return err
			}
			if _, err := af.client(cmd); err != nil { // checks --server and --api-key
				return err
			}
			if name == "" {
				name = defaultListenerName()
			}
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			l, err := relay.NewListener(relay.ListenerOptions{
				Server: af.serverURL(), APIKey: firstNonEmpty(af.apiKey, os.Getenv(apiKeyEnv)),
				AppID: app, SourceID: source, Name: name, Events: events, Routes: routes,
				OriginalHeaders: originalHeaders, Out: out, Errors: errOut,
				OnHello: func(h relay.Hello) { printListening(out, h, routes, originalHeaders) },
			})
			if err != nil {
				return usageError{err: err, cmd: cmd}
			}
			if err := l.Run(cmd.Context()); err != nil {
				return af.explain(err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&af.server, "server", "", "herald server URL (default $"+serverEnv+" or "+defaultServer+")")
	f.StringVar(&af.apiKey, "api-key", "", "API key (default $"+apiKeyEnv+")")
	f.StringVar(&app, "app", "", "forward this app's messages (id or uid)")
	f.StringVar(&source, "source", "", "forward the webhooks that arrive through this source")
	f.StringVar(&name, "name", "", "this listener's name; the same name keeps the same secret (default: the host name)")
	f.StringVar(&forwardTo, "forward-to", "", "the local URL to POST webhooks to")
	f.StringArrayVar(&forwards, "forward", nil, "route by type: PATTERN=URL, e.g. 'batch.*=http://localhost:8001/hooks' (repeatable; first match wins)")
	f.StringSliceVar(&events, "events", nil, "only these event types (exact or 'prefix.*'; comma-separated)")
	f.BoolVar(&originalHeaders, "original-headers", false, "forward the provider's own signature headers instead of herald's")
	return cmd
}

// listenRoutes returns the routes of --forward and --forward-to, and the event types
// to ask the server for: the --events, those of the --forward patterns, or all of
// them when --forward-to takes what the other routes do not.
func listenRoutes(cmd *cobra.Command, forwards []string, forwardTo string, events []string) ([]relay.Route, []string, error) {
	var routes []relay.Route
	for _, f := range forwards {
		pattern, url, ok := strings.Cut(f, "=")
		if !ok || pattern == "" || url == "" {
			return nil, nil, usageError{err: fmt.Errorf("--forward %q: want PATTERN=URL, e.g. 'response.*=http://localhost:8000/webhooks'", f), cmd: cmd}
		}
		routes = append(routes, relay.Route{Pattern: pattern, URL: url})
		events = append(events, pattern)
	}
	if forwardTo != "" {
		routes = append(routes, relay.Route{Pattern: "*", URL: forwardTo})
	}
	if len(routes) == 0 {
		return nil, nil, usageError{err: errors.New("--forward-to URL is required (or --forward PATTERN=URL)"), cmd: cmd}
	}
	if forwardTo != "" && len(forwards) > 0 {
		events = nil // --forward-to takes everything the other routes do not
	}
	return routes, events, nil
}

// printListening prints what a listener the server has accepted listens to, where it
// forwards, and the secret it signs with.
func printListening(out io.Writer, h relay.Hello, routes []relay.Route, originalHeaders bool) {
	what := "app " + h.AppID
	if h.SourceID != "" {
		what = "source " + h.SourceID
	}
	filter := "all event types"
	if len(h.Events) > 0 {
		filter = strings.Join(h.Events, ", ")
	}
	fmt.Fprintf(out, "Listening to %s (%s) as listener %q, endpoint %s\n", what, filter, h.Name, h.EndpointID)
	for _, r := range routes {
		fmt.Fprintf(out, "Forwarding %s to %s\n", r.Pattern, r.URL)
	}
	if originalHeaders {
		fmt.Fprintf(out, "Forwarding the providers' own headers (verify with the providers' secrets)\n")
	} else {
		fmt.Fprintf(out, "Webhook signing secret: %s\n  (for OpenAI webhooks: export OPENAI_WEBHOOK_SECRET=%s)\n", h.Secret, h.Secret)
	}
	fmt.Fprintln(out, "Ready. Press Ctrl-C to stop.")
}

// defaultListenerName is the host name, made safe for a listener name.
func defaultListenerName() string {
	host, _ := os.Hostname()
	host = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`).ReplaceAllString(host, "-")
	if host == "" || len(host) > 64 {
		return "default"
	}
	return host
}
