package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/emulate"
	"github.com/heraldhq/herald/internal/emulate/openai"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/spf13/cobra"
)

func newEmulateCmd() *cobra.Command {
	cmd := newGroupCmd("emulate", "Run a local emulator of an API that sends webhooks",
		`Run a local, offline emulator of an API that sends webhooks, with an embedded
herald server that delivers them, so you can develop and test a webhook
receiver without the real service, an API key, or a public URL.`,
		`  herald emulate openai --webhook-url http://127.0.0.1:8000/webhooks`)
	cmd.AddCommand(newEmulateOpenAICmd())
	return cmd
}

// emulateFlags are the flags of 'herald emulate openai': the emulator's configuration,
// and the raw values of the flags that are parsed into it.
type emulateFlags struct {
	cfg                   emulate.Config
	hooks, events, allow  []string
	delay, batchDelay     string
	script, retrySchedule string
	logLevel, logFormat   string
}

func newEmulateOpenAICmd() *cobra.Command {
	var ef emulateFlags
	cmd := &cobra.Command{
		Use:   "openai",
		Short: "Emulate OpenAI's Responses, Batch and webhook endpoint APIs, with their webhooks",
		Long: `Serve a local subset of OpenAI's API for development and tests: POST
/v1/responses (background mode, instructions, function tools,
previous_response_id, metadata), GET and DELETE /v1/responses/{id}, POST
/v1/responses/{id}/cancel, POST /v1/batches, GET /v1/batches/{id} and
POST /v1/batches/{id}/cancel, and the webhook endpoint API (/v1/webhook_endpoints:
create, list, get, update, delete, rotate_secret, test), so an app can register
its own webhook with the SDK. Any API key is accepted; nothing leaves the machine.

Responses finish after --delay with deterministic output. Scripting rules decide
the outcome from the input: "[fail]" in the input fails the response,
"[incomplete]" cuts it short, "[slow]" makes it take a minute, and an order
number ("order 1234") with a lookup_order function tool on offer calls that tool.
A batch whose input_file_id contains "fail" or "expire" fails or expires.
--script adds your own rules (JSON); docs/emulator.md describes them all.

Each time a background response or a batch ends, the emulator publishes the event
OpenAI sends (response.completed, response.failed, response.cancelled,
response.incomplete, batch.completed, batch.failed, batch.cancelled,
batch.expired) to an embedded herald server, which delivers it to every
--webhook-url, and to every endpoint registered through /v1/webhook_endpoints,
exactly as OpenAI does: the thin event body, the Standard Webhooks headers signed
with the endpoint's secret (for --webhook-url, --webhook-secret, generated and
printed if not given), OpenAI's user-agent, and herald's retries and delivery
logs. The herald API (--herald-addr) stays available for more endpoints and for
inspecting deliveries with the herald CLI; the app is "openai", and its endpoints
are the ones /v1/webhook_endpoints shows.

With --herald-server URL (and an admin --api-key) the events go through that
running herald instead, to its app "openai" (created if missing), so that they
reach the endpoints and 'herald listen' sessions you already have there; that
server sends them with its own user-agent and retry schedule.

State lives in memory, and herald's database in a temporary directory removed at
exit, unless --data-dir names one to keep.`,
		Example: `  herald emulate openai --webhook-url http://127.0.0.1:8000/webhooks
  herald emulate openai --delay 200ms --webhook-url http://127.0.0.1:8000/webhooks --webhook-secret "$OPENAI_WEBHOOK_SECRET"
  herald emulate openai --delay 1s..5s --script rules.json --events 'response.*' --webhook-url http://127.0.0.1:8000/webhooks
  herald emulate openai --herald-server http://127.0.0.1:8080 --api-key "$HERALD_API_KEY"`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := ef.parse(cmd); err != nil {
				return err
			}
			st, err := emulate.Start(cmd.Context(), ef.cfg)
			if err != nil {
				return err
			}
			printEmulator(cmd.OutOrStdout(), st, ef.cfg, ef.delay)
			<-cmd.Context().Done()
			return st.Close()
		},
	}
	ef.register(cmd)
	return cmd
}

func (ef *emulateFlags) register(cmd *cobra.Command) {
	cfg := &ef.cfg
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:8090", "listen address of the emulated OpenAI API")
	f.StringVar(&cfg.HeraldAddr, "herald-addr", "127.0.0.1:8091", "listen address of the embedded herald API")
	f.StringVar(&cfg.Server, "herald-server", "", "publish through this running herald server instead of an embedded one (with --api-key)")
	f.StringVar(&cfg.APIKey, "api-key", os.Getenv(apiKeyEnv), "with --herald-server: its admin API key [$"+apiKeyEnv+"]")
	f.StringVar(&cfg.DataDir, "data-dir", "", "herald's data directory, kept across runs (default: a temporary one)")
	f.StringArrayVar(&ef.hooks, "webhook-url", nil, "a URL to deliver the webhooks to (repeatable)")
	f.StringVar(&cfg.WebhookSecret, "webhook-secret", "", "the whsec_ secret the webhooks are signed with (default: generated)")
	f.StringArrayVar(&ef.events, "events", nil, "event types the --webhook-url endpoints receive, e.g. 'response.*' (default: all)")
	f.StringVar(&ef.delay, "delay", "1s", "how long a response takes, or a range such as 1s..5s (each input always takes the same time)")
	f.StringVar(&ef.batchDelay, "batch-delay", "5s", "how long a batch takes")
	f.StringVar(&ef.script, "script", "", "a JSON file of scripting rules tried before the built-in ones")
	f.StringVar(&ef.retrySchedule, "retry-schedule", "5s,5m,30m,2h,5h,10h,14h,20h,24h", "herald's delays before each retry of a failed delivery")
	f.StringArrayVar(&ef.allow, "allow-network", nil, "a CIDR herald may deliver to besides loopback (repeatable, or comma-separated)")
	f.StringVar(&ef.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&ef.logFormat, "log-format", "text", "log format: text or json")
}

// parse completes the configuration from the flags, or returns the usage error of the
// first one that is wrong.
func (ef *emulateFlags) parse(cmd *cobra.Command) error {
	for _, step := range []func(*cobra.Command) error{ef.parseTiming, ef.parseWebhooks, ef.parseDelivery, ef.parseScriptAndLogs, ef.checkServer} {
		if err := step(cmd); err != nil {
			return err
		}
	}
	return nil
}

// parseTiming parses --delay and --batch-delay.
func (ef *emulateFlags) parseTiming(cmd *cobra.Command) error {
	cfg := &ef.cfg
	var err error
	if cfg.OpenAI.Delay, cfg.OpenAI.DelayMax, err = parseDelay(ef.delay); err != nil {
		return usageError{err: fmt.Errorf("--delay: %w", err), cmd: cmd}
	}
	if cfg.OpenAI.BatchDelay, err = time.ParseDuration(ef.batchDelay); err != nil || cfg.OpenAI.BatchDelay < 0 {
		return usageError{err: fmt.Errorf("--batch-delay %q: want a duration such as 5s", ef.batchDelay), cmd: cmd}
	}
	if cfg.OpenAI.Delay == 0 {
		cfg.OpenAI.Delay = -1 // zero means "the default" to the emulator
	}
	if cfg.OpenAI.BatchDelay == 0 {
		cfg.OpenAI.BatchDelay = -1
	}
	return nil
}

// parseWebhooks parses --webhook-url and --events.
func (ef *emulateFlags) parseWebhooks(cmd *cobra.Command) error {
	cfg := &ef.cfg
	for _, h := range ef.hooks {
		u, err := url.Parse(h)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageError{err: fmt.Errorf("--webhook-url %q: want an http:// or https:// URL", h), cmd: cmd}
		}
		cfg.WebhookURLs = append(cfg.WebhookURLs, h)
	}
	for _, e := range ef.events {
		for _, t := range strings.Split(e, ",") {
			if t = strings.TrimSpace(t); t != "" {
				cfg.EventTypes = append(cfg.EventTypes, t)
			}
		}
	}
	return nil
}

// parseDelivery parses the embedded herald's --allow-network and --retry-schedule.
func (ef *emulateFlags) parseDelivery(cmd *cobra.Command) error {
	cfg := &ef.cfg
	var splitAllow []string
	for _, a := range ef.allow {
		splitAllow = append(splitAllow, strings.Split(a, ",")...)
	}
	var err error
	if cfg.AllowNetworks, err = netguard.ParsePrefixes(splitAllow); err != nil {
		return usageError{err: fmt.Errorf("--allow-network: %w", err), cmd: cmd}
	}
	if cfg.RetrySchedule, err = delivery.ParseSchedule(ef.retrySchedule); err != nil {
		return usageError{err: fmt.Errorf("--retry-schedule: %w", err), cmd: cmd}
	}
	return nil
}

// parseScriptAndLogs loads --script and makes the loggers.
func (ef *emulateFlags) parseScriptAndLogs(cmd *cobra.Command) error {
	cfg := &ef.cfg
	var err error
	if ef.script != "" {
		if cfg.OpenAI.Script, err = openai.LoadScript(ef.script); err != nil {
			return err
		}
	}
	if cfg.Logger, err = newLogger(cmd.ErrOrStderr(), ef.logLevel, ef.logFormat); err != nil {
		return usageError{err: err, cmd: cmd}
	}
	if ef.logLevel == "info" { // herald's own start-up and shutdown lines are noise here
		cfg.HeraldLogger, _ = newLogger(cmd.ErrOrStderr(), "warn", ef.logFormat)
	}
	return nil
}

// checkServer checks --herald-server and its --api-key, and that no flag of the
// embedded herald is given with it.
func (ef *emulateFlags) checkServer(cmd *cobra.Command) error {
	cfg := &ef.cfg
	if cfg.Server == "" {
		cfg.APIKey = "" // the embedded herald makes its own
		return nil
	}
	for _, name := range []string{"herald-addr", "data-dir", "retry-schedule", "allow-network"} {
		if cmd.Flags().Changed(name) {
			return usageError{err: fmt.Errorf("--%s configures the embedded herald; with --herald-server, configure that server instead", name), cmd: cmd}
		}
	}
	if u, err := url.Parse(cfg.Server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{err: fmt.Errorf("--herald-server %q: want the server's http:// or https:// URL", cfg.Server), cmd: cmd}
	}
	if cfg.APIKey == "" {
		return usageError{err: fmt.Errorf("--herald-server needs an admin API key: pass --api-key or set $%s", apiKeyEnv), cmd: cmd}
	}
	return nil
}

// parseDelay parses "1s" or a range "1s..5s".
func parseDelay(s string) (lo, hi time.Duration, err error) {
	a, b, isRange := strings.Cut(s, "..")
	if lo, err = time.ParseDuration(strings.TrimSpace(a)); err != nil || lo < 0 {
		return 0, 0, fmt.Errorf("%q: want a duration such as 200ms, or a range such as 1s..5s", s)
	}
	if !isRange {
		return lo, 0, nil
	}
	if hi, err = time.ParseDuration(strings.TrimSpace(b)); err != nil || hi < lo {
		return 0, 0, fmt.Errorf("%q: want a range from the shorter to the longer duration, such as 1s..5s", s)
	}
	return lo, hi, nil
}

// printEmulator tells the user how to point an SDK and a receiver at the emulator.
func printEmulator(w io.Writer, st *emulate.Stack, cfg emulate.Config, delay string) {
	fmt.Fprintf(w, "OpenAI emulator ready. Point the OpenAI SDK and your receiver at it:\n\n")
	fmt.Fprintf(w, "  export OPENAI_BASE_URL=%s\n", st.OpenAIURL)
	fmt.Fprintf(w, "  export OPENAI_API_KEY=sk-emulated        # any key is accepted\n")
	fmt.Fprintf(w, "  export OPENAI_WEBHOOK_SECRET=%s\n\n", st.WebhookSecret)
	if cfg.Server != "" {
		fmt.Fprintf(w, "Webhooks go through the herald server at %s, app %q:\n", st.HeraldURL, emulate.AppUID)
	} else {
		fmt.Fprintf(w, "Webhooks go through an embedded herald server, app %q:\n", emulate.AppUID)
	}
	if len(st.Endpoints) == 0 {
		fmt.Fprintf(w, "  no endpoint yet: register one from your app with the SDK (client.Webhooks.New returns its\n")
		fmt.Fprintf(w, "  signing secret), restart with --webhook-url, or add one with the herald CLI below\n")
	}
	filter := "every event"
	if len(cfg.EventTypes) > 0 {
		filter = strings.Join(cfg.EventTypes, ",")
	}
	for _, ep := range st.Endpoints {
		fmt.Fprintf(w, "  %s  -> %s (%s)\n", ep.ID, ep.URL, filter)
	}
	fmt.Fprintf(w, "\nAdd endpoints and inspect deliveries with the herald CLI:\n\n")
	if cfg.Server != "" {
		fmt.Fprintf(w, "  export HERALD_SERVER=%s HERALD_API_KEY=...   # the key you gave\n", st.HeraldURL)
	} else {
		fmt.Fprintf(w, "  export HERALD_SERVER=%s HERALD_API_KEY=%s\n", st.HeraldURL, st.APIKey)
	}
	fmt.Fprintf(w, "  herald endpoint create --app %s --url http://127.0.0.1:9000/webhooks --secret \"$OPENAI_WEBHOOK_SECRET\"\n", emulate.AppUID)
	fmt.Fprintf(w, "  herald delivery list --app %s\n\n", emulate.AppUID)
	fmt.Fprintf(w, "Responses take %s; put [fail], [incomplete] or [slow] in an input to script it (see docs/emulator.md). Ctrl-C stops.\n", delay)
}
