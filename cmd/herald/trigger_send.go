package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/fixtures"
	"github.com/heraldhq/herald/webhook"
	"github.com/spf13/cobra"
)

// triggerEvent is what 'herald trigger' sends: a rendered and edited sample, or a payload.
type triggerEvent struct {
	sample  *fixtures.Sample
	fixture *fixtures.Fixture // nil for a payload that names no sample
	name    string            // what it is called on the "-->" line
	typ     string            // the event type the sender labels it with ("" if unknown)
	body    []byte
}

// fixtureProvider returns the provider whose sample this is, or "".
func (e *triggerEvent) fixtureProvider() string {
	if e.fixture == nil {
		return ""
	}
	return e.fixture.Provider
}

// sample renders the event named by args (looked up under provider first) or reads
// --payload, then applies --set and --unset.
func (tf *triggerFlags) sample(cmd *cobra.Command, cat *fixtures.Catalogue, provider string, args []string) (*triggerEvent, error) {
	ev := &triggerEvent{}
	if tf.payload != "" {
		body, err := readTriggerPayload(cmd, tf.payload)
		if err != nil {
			return nil, err
		}
		ev.sample = fixtures.Payload(body)
		if len(args) == 1 {
			ev.name, ev.typ = args[0], args[0]
			if f, err := cat.Find(provider, args[0]); err == nil {
				ev.fixture, ev.typ = f, f.Type // a known type names its provider and header type
			}
		} else {
			var top struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(body, &top) // a body without a type is sent all the same
			ev.name, ev.typ = firstNonEmpty(top.Type, "payload"), top.Type
		}
	} else {
		f, err := cat.Find(provider, args[0])
		if err != nil {
			return nil, err
		}
		if ev.sample, err = f.Render(time.Now()); err != nil {
			return nil, err
		}
		ev.fixture, ev.name, ev.typ = f, f.Name, f.Type
	}
	if err := ev.sample.Edit(tf.edits); err != nil {
		return nil, err
	}
	body, err := ev.sample.Body()
	if err != nil {
		return nil, err
	}
	ev.body = body
	return ev, nil
}

// readTriggerPayload reads --payload, at most fixtures.MaxBodyBytes: a file, or stdin
// for "-"; like 'message create', also "@file", "@-" and inline JSON ('{...}').
func readTriggerPayload(cmd *cobra.Command, name string) ([]byte, error) {
	if t := strings.TrimSpace(name); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		if len(name) > fixtures.MaxBodyBytes {
			return nil, fmt.Errorf("--payload: the body is over the limit of %d bytes (1 MiB)", fixtures.MaxBodyBytes)
		}
		return []byte(name), nil
	}
	if name != "@-" {
		name = strings.TrimPrefix(name, "@")
	}
	var r io.Reader
	if name == "-" || name == "@-" {
		in, err := pipedStdin(cmd, "--payload -: nothing is piped on stdin")
		if err != nil {
			return nil, err
		}
		r, name = in, "-"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--payload: %w", err)
		}
		defer f.Close()
		r = f
	}
	body, err := io.ReadAll(io.LimitReader(r, fixtures.MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--payload %s: %w", name, err)
	}
	switch {
	case len(body) > fixtures.MaxBodyBytes:
		return nil, fmt.Errorf("--payload %s: the body is over the limit of %d bytes (1 MiB)", name, fixtures.MaxBodyBytes)
	case len(body) == 0:
		return nil, fmt.Errorf("--payload %s: the body is empty", name)
	}
	return body, nil
}

// request returns the POST of the event to u, signed by p, with the sender's other
// headers (those of the sample, if it is p's own), its User-Agent and the -H headers.
func (tf *triggerFlags) request(cmd *cobra.Command, p webhook.Provider, u *url.URL, ev *triggerEvent) (*http.Request, error) {
	if ev.typ == "" && (p.Name() == "github" || p.Name() == "shopify") {
		return nil, usageError{err: fmt.Errorf("%s sends the event type in a header: give it as the argument ('herald trigger push --payload FILE')", p.Name()), cmd: cmd}
	}
	h, err := p.Sign(webhook.Delivery{Type: ev.typ, Timestamp: time.Now()}, ev.body)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if ev.fixture != nil && ev.fixture.Provider == p.Name() {
		for k, v := range ev.sample.Header {
			if _, ok := h[k]; !ok {
				h[k] = v
			}
		}
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", userAgent(p.Name()))
	}
	switch {
	case ev.sample.IsForm():
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	case h.Get("Content-Type") == "":
		h.Set("Content-Type", "application/json")
	}
	for _, kv := range tf.headers {
		name, value, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageError{err: fmt.Errorf("-H %q: want 'name: value'", kv), cmd: cmd}
		}
		h.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, u.String(), bytes.NewReader(ev.body))
	if err != nil {
		return nil, err
	}
	req.Header = h
	return req, nil
}

// send sends req as a webhook sender does and prints the request line, the answer and
// its latency; it fails unless the receiver answers 2xx.
func (tf *triggerFlags) send(cmd *cobra.Command, req *http.Request, p webhook.Provider, ev *triggerEvent) error {
	out := cmd.OutOrStdout()
	signer := p.Name()
	if fp := ev.fixtureProvider(); fp != "" && fp != p.Name() {
		signer += ", " + fp + "'s sample"
	}
	fmt.Fprintf(out, "--> %s %s (%s) POST %s\n", ev.name, deliveryID(p, ev, req.Header), signer, req.URL.Redacted())
	client := &http.Client{
		Timeout: tf.timeout,
		// Webhook senders never follow redirects: a 3xx is a failed delivery.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("trigger %s: %w", ev.name, err)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	latency := time.Since(start)
	fmt.Fprintf(out, "<-- %s %s %s\n", resp.Status, latency.Round(time.Microsecond), printable(excerpt))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("trigger %s: receiver answered %s", ev.name, resp.Status)
	}
	return nil
}

// deliveryID returns the id a receiver dedupes the delivery on, as the provider's own
// verification reads it (Stripe's and Slack's are in the body, the others' in a
// header); if the signature was overridden with -H, the usual headers and the body's
// id; else what labels the sample (Slack's url_verification challenge).
func deliveryID(p webhook.Provider, ev *triggerEvent, h http.Header) string {
	if d, err := p.Verify(ev.body, h); err == nil && d.ID != "" {
		return d.ID
	}
	for _, name := range []string{webhook.HeaderID, "Svix-Id", "X-GitHub-Delivery", "X-Shopify-Webhook-Id"} {
		if v := h.Get(name); v != "" {
			return v
		}
	}
	var top struct {
		ID      string `json:"id"`
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(ev.body, &top)
	return firstNonEmpty(top.ID, top.EventID, ev.sample.Label(), "(no id)")
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

// triggerViaApp publishes the event as a message of an app, through the server's API.
func triggerViaApp(cmd *cobra.Command, af *apiFlags, app string, ev *triggerEvent) error {
	if ev.sample.IsForm() {
		return fmt.Errorf("%s is a form body, and --app publishes JSON messages", ev.name)
	}
	if ev.typ == "" {
		return usageError{err: fmt.Errorf("--app needs an event type: give it as the argument"), cmd: cmd}
	}
	c, err := af.client(cmd)
	if err != nil {
		return err
	}
	m, n, _, err := c.Publish(cmd.Context(), app, client.MessageInput{Type: ev.typ, Payload: ev.body})
	if err != nil {
		return af.explain(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "--> %s published as %s to %d endpoint(s) of app %s\n", ev.name, m.ID, n, m.AppID)
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
