package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/openai"
	"github.com/heraldhq/herald/webhook/webhooktest"
	"github.com/spf13/cobra"
)

// userAgent returns the User-Agent a real sender of the provider uses, so a receiver sees a realistic request.
func userAgent(provider string) string {
	switch provider {
	case "openai":
		return "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)"
	case "stripe":
		return "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
	case "github":
		return "GitHub-Hookshot/herald"
	case "shopify":
		return "Shopify-Captain-Hook"
	case "slack":
		return "Slackbot 1.0 (+https://api.slack.com/robots)"
	}
	return "herald/" + buildVersion()
}

// triggerFlags are the flags of 'herald trigger'.
type triggerFlags struct {
	pf      providerFlags
	to      string
	list    bool
	headers []string
	timeout time.Duration

	af                apiFlags
	viaSource, viaApp string
}

func newTriggerCmd() *cobra.Command {
	var tf triggerFlags
	cmd := &cobra.Command{
		Use:   "trigger <event-type>",
		Short: "Send a signed sample event to a webhook endpoint",
		Long: `Send a realistic sample of an OpenAI webhook event to a receiver, signed exactly
as the chosen provider signs, and print the response status and latency.

The body is what OpenAI sends for that event type (a thin event: the receiver
fetches the resource by data.id). With --provider stripe, github, shopify or
slack, the same body is signed with that provider's scheme and headers, so one
receiver can be tested against each. Exits 1 if the receiver does not answer 2xx.
Run 'herald trigger --list' for the event types.`,
		Example: `  herald trigger response.completed --to http://localhost:8000/webhooks --secret "$OPENAI_WEBHOOK_SECRET"
  herald trigger batch.failed --to http://localhost:8000/hooks --provider standard --secret whsec_...
  herald trigger --list`,
		Args: func(cmd *cobra.Command, args []string) error {
			if tf.list {
				return exactArgs(0)(cmd, args)
			}
			return exactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if tf.list {
				for _, t := range openai.EventTypes() {
					fmt.Fprintln(cmd.OutOrStdout(), t)
				}
				return nil
			}
			eventType := args[0]
			if tf.viaApp != "" && tf.viaSource == "" {
				return triggerViaApp(cmd, &tf.af, tf.viaApp, eventType)
			}
			p, u, err := tf.target(cmd)
			if err != nil {
				return err
			}
			req, err := tf.request(cmd, p, u, eventType)
			if err != nil {
				return err
			}
			return tf.send(cmd, req, p, eventType)
		},
	}
	tf.register(cmd)
	return cmd
}

func (tf *triggerFlags) register(cmd *cobra.Command) {
	tf.pf.register(cmd, "openai")
	cmd.Flags().StringVar(&tf.to, "to", "", "receiver URL")
	cmd.Flags().StringVar(&tf.viaSource, "source", "", "send it to this source of a herald server, signed with the source's provider and secret")
	cmd.Flags().StringVar(&tf.viaApp, "app", "", "publish it as a message of this app of a herald server (id or uid)")
	cmd.Flags().StringVar(&tf.af.server, "server", "", "herald server URL, with --source or --app (default $"+serverEnv+" or "+defaultServer+")")
	cmd.Flags().StringVar(&tf.af.apiKey, "api-key", "", "API key, with --source or --app (default $"+apiKeyEnv+")")
	cmd.Flags().BoolVar(&tf.list, "list", false, "list the event types and exit")
	cmd.Flags().StringArrayVarP(&tf.headers, "header", "H", nil, "an extra request header, 'name: value' (repeatable)")
	cmd.Flags().DurationVar(&tf.timeout, "timeout", 30*time.Second, "how long to wait for the receiver")
}

// target returns who signs the sample and where it goes: --source's provider and
// ingest URL on a herald server, or the --provider flags and --to.
func (tf *triggerFlags) target(cmd *cobra.Command) (webhook.Provider, *url.URL, error) {
	var p webhook.Provider
	if tf.viaSource != "" {
		c, err := tf.af.client(cmd)
		if err != nil {
			return nil, nil, err
		}
		src, err := c.GetSourceByID(cmd.Context(), tf.viaSource)
		if err != nil {
			return nil, nil, tf.af.explain(err)
		}
		secrets, err := c.SourceSecrets(cmd.Context(), src.AppID, src.ID)
		if err != nil {
			return nil, nil, tf.af.explain(err)
		}
		if p, err = sourceProvider(src, secrets); err != nil {
			return nil, nil, err
		}
		tf.to = strings.TrimRight(tf.af.serverURL(), "/") + src.IngestPath
	}
	if tf.to == "" {
		return nil, nil, usageError{err: fmt.Errorf("--to is required: the URL of the receiver (or --source / --app to go through a herald server)"), cmd: cmd}
	}
	u, err := url.Parse(tf.to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, usageError{err: fmt.Errorf("--to %q: want an http:// or https:// URL", tf.to), cmd: cmd}
	}
	if p == nil {
		if p, err = tf.pf.build(cmd); err != nil {
			return nil, nil, err
		}
	}
	return p, u, nil
}

// request returns the POST of a sample event of eventType to u, signed by p, with the
// sender's User-Agent and the -H headers.
func (tf *triggerFlags) request(cmd *cobra.Command, p webhook.Provider, u *url.URL, eventType string) (*http.Request, error) {
	now := time.Now()
	body, err := webhooktest.SampleEvent(eventType, now)
	if err != nil {
		return nil, err
	}
	h, err := p.Sign(webhook.Delivery{Type: eventType, Timestamp: now}, body)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", userAgent(p.Name()))
	}
	h.Set("Content-Type", "application/json")
	for _, kv := range tf.headers {
		name, value, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageError{err: fmt.Errorf("-H %q: want 'name: value'", kv), cmd: cmd}
		}
		h.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = h
	return req, nil
}

// send sends req as a webhook sender does and prints the request line, the answer and
// its latency; it fails unless the receiver answers 2xx.
func (tf *triggerFlags) send(cmd *cobra.Command, req *http.Request, p webhook.Provider, eventType string) error {
	out := cmd.OutOrStdout()
	id := req.Header.Get(webhook.HeaderID)
	if id == "" {
		id = firstNonEmpty(req.Header.Get("X-GitHub-Delivery"), req.Header.Get("X-Shopify-Webhook-Id"))
	}
	fmt.Fprintf(out, "--> %s %s (%s) POST %s\n", eventType, id, p.Name(), req.URL.Redacted())
	client := &http.Client{
		Timeout: tf.timeout,
		// Webhook senders never follow redirects: a 3xx is a failed delivery.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("trigger %s: %w", eventType, err)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	latency := time.Since(start)
	fmt.Fprintf(out, "<-- %s %s %s\n", resp.Status, latency.Round(time.Microsecond), printable(excerpt))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("trigger %s: receiver answered %s", eventType, resp.Status)
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// printable returns a one-line excerpt of a response body.
func printable(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if !utf8.ValidString(s) {
		return fmt.Sprintf("(%d bytes of binary body)", len(b))
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// triggerViaApp publishes the sample as a message of an app, through the server's API.
func triggerViaApp(cmd *cobra.Command, af *apiFlags, app, eventType string) error {
	c, err := af.client(cmd)
	if err != nil {
		return err
	}
	body, err := webhooktest.SampleEvent(eventType, time.Now())
	if err != nil {
		return err
	}
	m, n, _, err := c.Publish(cmd.Context(), app, client.MessageInput{Type: eventType, Payload: body})
	if err != nil {
		return af.explain(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "--> %s published as %s to %d endpoint(s) of app %s\n", eventType, m.ID, n, m.AppID)
	return nil
}

// sourceProvider builds the provider that signs as a source's sender does.
func sourceProvider(src *client.Source, secrets []string) (webhook.Provider, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("source %s has no secret", src.ID)
	}
	if src.Provider != "hmac" {
		return webhook.NewProvider(src.Provider, secrets[0])
	}
	if src.HMAC == nil {
		return nil, fmt.Errorf("source %s uses the hmac provider without a configuration", src.ID)
	}
	h := src.HMAC
	return webhook.NewHMAC(webhook.HMACConfig{
		Secret: secrets[0], Header: h.Header, Prefix: h.Prefix, Encoding: h.Encoding, Algorithm: h.Algorithm,
		Template: h.Template, TimestampHeader: h.TimestampHeader, IDHeader: h.IDHeader, TypeHeader: h.TypeHeader,
	})
}
