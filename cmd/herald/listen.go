package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

// listenFlags are the flags of herald listen.
type listenFlags struct {
	af              apiFlags
	apps, sources   []string
	name            string
	forwardTo       string
	forwards        []string
	events          []string
	originalHeaders bool
	printSecret     bool
}

func newListenCmd() *cobra.Command {
	var lf listenFlags
	cmd := &cobra.Command{
		Use:   "listen --forward-to URL (--app APP | --source SOURCE)...",
		Short: "Forward webhooks to your machine, without a public tunnel",
		Long: `Attach to a herald server as a live destination and forward its webhooks to a
local URL. The connection goes out from your machine (a WebSocket), so nothing
needs to reach it from the internet.

With --source (an id or a uid), you get the webhooks that arrived through that
source (e.g. the OpenAI webhooks your public herald receives); with --app, every
message of the app. Give several --source (or several --app) to listen to all of
them in one process, one connection each: each has its own listener, named
NAME.SOURCE (or NAME.APP), its own secret, and its own status lines. With
--source, --app names the sources' app and is checked.

Each webhook is POSTed to the local URL with its body byte for byte, signed with
its listener's own Standard Webhooks secret, printed at start: it stays the same
across restarts of the same listener (--name, default this host's name), so set
it once, e.g. as OPENAI_WEBHOOK_SECRET. --print-secret prints it and exits, as
Stripe's listen --print-secret does. With --original-headers the provider's own
headers are forwarded instead (verify with the provider's secret).

Every event prints a line with your local server's answer: its status, latency
and the start of its body; --json prints one JSON object per event instead, for
scripts. Connection changes (connected, disconnected, reconnecting) print on
stderr. The local answer is recorded on the server as the delivery attempt: a
non-2xx answer, a refused connection, or an event no --forward route takes is a
failed attempt, retried later. While the listener is away nothing is lost: its
webhooks wait and are sent when it reconnects (by itself, with backoff), for up
to the server's --listener-expiry (default 24h).

herald listen exits with status 1 and one line when the server refuses it (a bad
API key, an unknown app or source), or when another listen with the same --name
takes over.`,
		Example: `  herald listen --source stripe-live --forward-to http://localhost:8000/webhooks
  herald listen --source stripe-live --source github-main --forward-to http://localhost:8000/webhooks
  herald listen --app acme --events 'response.*' --forward-to http://localhost:8000/webhooks --json
  herald listen --app acme --forward 'response.*=http://localhost:8000/openai' --forward 'batch.*=http://localhost:8001/batches'
  export OPENAI_WEBHOOK_SECRET=$(herald listen --app acme --forward-to http://localhost:8000/webhooks --print-secret)`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runListen(cmd, &lf) },
	}
	f := cmd.Flags()
	f.StringVar(&lf.af.server, "server", "", "herald server URL (default $"+serverEnv+" or "+defaultServer+")")
	f.StringVar(&lf.af.apiKey, "api-key", "", "API key (default $"+apiKeyEnv+")")
	f.StringArrayVar(&lf.apps, "app", nil, "forward this app's messages (id or uid; repeatable); with --source, the sources' app")
	f.StringArrayVar(&lf.sources, "source", nil, "forward the webhooks that arrive through this source (id or uid; repeatable)")
	f.StringVar(&lf.name, "name", "", "this listener's name; the same name keeps the same secret (default: the host name)")
	f.StringVar(&lf.forwardTo, "forward-to", "", "the local URL to POST webhooks to")
	f.StringArrayVar(&lf.forwards, "forward", nil, "route by type: PATTERN=URL, e.g. 'batch.*=http://localhost:8001/hooks' (repeatable; first match wins)")
	f.StringSliceVar(&lf.events, "events", nil, "only these event types (exact or 'prefix.*'; comma-separated)")
	f.BoolVar(&lf.originalHeaders, "original-headers", false, "forward the provider's own signature headers instead of herald's")
	f.BoolVar(&lf.af.json, "json", false, "print one JSON object per event (with the local answer) instead of text lines")
	f.BoolVar(&lf.printSecret, "print-secret", false, "print the listener's signing secret and exit")
	return cmd
}

// listenStream is one thing a herald listen process listens to.
type listenStream struct {
	app, source string // the source's stream may name its app, to check
	name        string // its listener's name
}

// what names the stream in lines: "source stripe-live" or "app acme".
func (s listenStream) what() string {
	if s.source != "" {
		return "source " + s.source
	}
	return "app " + s.app
}

func runListen(cmd *cobra.Command, lf *listenFlags) error {
	if len(lf.apps) == 0 && len(lf.sources) == 0 {
		return usageError{err: errors.New("attach to an app (--app) or a source (--source)"), cmd: cmd}
	}
	routes, events, err := listenRoutes(cmd, lf.forwards, lf.forwardTo, lf.events)
	if err != nil {
		return err
	}
	c, err := lf.af.client(cmd) // checks --server and --api-key
	if err != nil {
		return err
	}
	if lf.name == "" {
		lf.name = defaultListenerName()
	}
	streams, err := listenStreams(cmd, lf.apps, lf.sources, lf.name)
	if err != nil {
		return err
	}
	var mu sync.Mutex // one lock for both, so that lines never interleave
	out, status := &lockedWriter{mu: &mu, w: cmd.OutOrStdout()}, &lockedWriter{mu: &mu, w: cmd.ErrOrStderr()}
	banner := io.Writer(out)
	if lf.af.json {
		banner = status // stdout carries the events alone
	}
	listeners := make([]*relay.Listener, len(streams))
	ready := newReadiness(banner, streams, routes, lf.originalHeaders, isTerminal(cmd.OutOrStdout()))
	for i, s := range streams {
		prefix := ""
		if len(streams) > 1 {
			prefix = "[" + s.what() + "] "
		}
		l, err := relay.NewListener(relay.ListenerOptions{
			Server: lf.af.serverURL(), APIKey: firstNonEmpty(lf.af.apiKey, os.Getenv(apiKeyEnv)),
			AppID: s.app, SourceID: s.source, Name: s.name, Events: events, Routes: routes,
			OriginalHeaders: lf.originalHeaders, Stream: s.what(), Prefix: prefix, JSON: lf.af.json,
			Out: out, Status: status,
			OnHello: func(h relay.Hello) { ready.hello(i, h) },
		})
		if err != nil {
			return usageError{err: err, cmd: cmd}
		}
		listeners[i] = l
	}
	if lf.printSecret {
		return printListenerSecrets(cmd, c, streams, listeners)
	}
	g, ctx := errgroup.WithContext(cmd.Context())
	for _, l := range listeners {
		g.Go(func() error { return l.Run(ctx) })
	}
	return g.Wait()
}

// listenStreams returns the streams the flags ask for: one per --source (checked to be
// of the one --app, if given), else one per --app. Several streams get listener names
// of their own, name.REF.
func listenStreams(cmd *cobra.Command, apps, sources []string, name string) ([]listenStream, error) {
	var streams []listenStream
	seen := map[string]bool{}
	add := func(s listenStream, ref string) error {
		if seen[ref] {
			return usageError{err: fmt.Errorf("%s is given twice", s.what()), cmd: cmd}
		}
		seen[ref] = true
		streams = append(streams, s)
		return nil
	}
	if len(sources) > 0 {
		if len(apps) > 1 {
			return nil, usageError{err: errors.New("with --source, give at most one --app: the sources' app"), cmd: cmd}
		}
		app := ""
		if len(apps) == 1 {
			app = apps[0]
		}
		for _, s := range sources {
			if err := add(listenStream{app: app, source: s}, s); err != nil {
				return nil, err
			}
		}
	} else {
		for _, a := range apps {
			if err := add(listenStream{app: a}, a); err != nil {
				return nil, err
			}
		}
	}
	for i := range streams {
		streams[i].name = name
		if len(streams) > 1 {
			ref := streams[i].source
			if ref == "" {
				ref = streams[i].app
			}
			streams[i].name = streamListenerName(name, ref)
		}
		if err := domain.CheckListenerName(streams[i].name); err != nil {
			return nil, usageError{err: fmt.Errorf("--name %q: %v", streams[i].name, err), cmd: cmd}
		}
	}
	return streams, nil
}

// streamListenerName is the listener name of one of several streams: name.REF, within
// the 64 characters of a name (a hash of REF stands in for a REF too long).
func streamListenerName(name, ref string) string {
	ref = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`).ReplaceAllString(ref, "-")
	if len(name)+1+len(ref) <= 64 {
		return name + "." + ref
	}
	sum := sha256.Sum256([]byte(ref))
	ref = hex.EncodeToString(sum[:4])
	return name[:min(len(name), 64-1-len(ref))] + "." + ref
}

// printListenerSecrets prints each stream's signing secret: alone for one stream, as
// "STREAM<tab>SECRET" lines for several. An existing listener's secret is read through
// the API, so that a listener running under the same name is not disturbed; one that
// does not exist yet is created by attaching once.
func printListenerSecrets(cmd *cobra.Command, c *client.Client, streams []listenStream, listeners []*relay.Listener) error {
	ctx := cmd.Context()
	for i, s := range streams {
		secret, err := listenerSecret(ctx, c, s)
		if err != nil {
			return fmt.Errorf("listen: %s: %w", s.what(), err)
		}
		if secret == "" {
			h, err := listeners[i].Attach(ctx)
			if err != nil {
				return err
			}
			secret = h.Secret
		}
		if len(streams) == 1 {
			fmt.Fprintln(cmd.OutOrStdout(), secret)
		} else {
			fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", s.what(), secret)
		}
	}
	return nil
}

// listenerSecret returns the newest secret of the stream's listener endpoint, or ""
// when it has none yet.
func listenerSecret(ctx context.Context, c *client.Client, s listenStream) (string, error) {
	app := s.app
	if s.source != "" {
		src, err := c.GetSourceByID(ctx, s.source)
		if err != nil {
			return "", err
		}
		app = src.AppID
	}
	url := domain.ListenerURL(s.name)
	cursor := ""
	for {
		eps, next, err := c.ListEndpoints(ctx, app, client.ListParams{Limit: 1000, Cursor: cursor})
		if err != nil {
			return "", err
		}
		for _, ep := range eps {
			if ep.URL != url {
				continue
			}
			secrets, err := c.EndpointSecrets(ctx, app, ep.ID)
			if err != nil || len(secrets) == 0 {
				return "", err
			}
			return secrets[0].Secret, nil
		}
		if next == "" {
			return "", nil
		}
		cursor = next
	}
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

// readiness prints what each stream listens to when the server first accepts it, and
// "Ready." once every stream has been accepted.
type readiness struct {
	w               io.Writer
	streams         []listenStream
	routes          []relay.Route
	originalHeaders bool
	interactive     bool

	mu     sync.Mutex
	hellos []bool
	left   int
}

func newReadiness(w io.Writer, streams []listenStream, routes []relay.Route, originalHeaders, interactive bool) *readiness {
	return &readiness{w: w, streams: streams, routes: routes, originalHeaders: originalHeaders, interactive: interactive,
		hellos: make([]bool, len(streams)), left: len(streams)}
}

// hello notes the server's hello to stream i.
func (r *readiness) hello(i int, h relay.Hello) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hellos[i] {
		return // a reconnection: the status line says so
	}
	r.hellos[i] = true
	r.left--
	filter := "all event types"
	if len(h.Events) > 0 {
		filter = strings.Join(h.Events, ", ")
	}
	fmt.Fprintf(r.w, "Listening to %s (%s) as listener %q, endpoint %s\n", r.streams[i].what(), filter, h.Name, h.EndpointID)
	switch {
	case r.originalHeaders:
	case len(r.streams) == 1:
		fmt.Fprintf(r.w, "Webhook signing secret: %s\n  (for OpenAI webhooks: export OPENAI_WEBHOOK_SECRET=%s)\n", h.Secret, h.Secret)
	default:
		fmt.Fprintf(r.w, "Webhook signing secret of %s: %s\n", r.streams[i].what(), h.Secret)
	}
	if r.left > 0 {
		return
	}
	for _, rt := range r.routes {
		fmt.Fprintf(r.w, "Forwarding %s to %s\n", rt.Pattern, rt.URL)
	}
	if r.originalHeaders {
		fmt.Fprintf(r.w, "Forwarding the providers' own headers (verify with the providers' secrets)\n")
	}
	if r.interactive {
		fmt.Fprintln(r.w, "Ready. Press Ctrl-C to stop.")
	} else {
		fmt.Fprintln(r.w, "Ready.")
	}
}

// lockedWriter serialises writes to w, so that lines from several listeners never interleave.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
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
