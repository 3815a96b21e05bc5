package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/fixtures"
	"github.com/heraldhq/herald/internal/jsonedit"
	"github.com/heraldhq/herald/webhook"
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
	print   bool
	headers []string
	timeout time.Duration
	payload string
	edits   []jsonedit.Edit // --set and --unset, in command-line order

	af                apiFlags
	viaSource, viaApp string
}

func newTriggerCmd() *cobra.Command {
	var tf triggerFlags
	cmd := &cobra.Command{
		Use:   "trigger <event-type>",
		Short: "Send a signed sample event to a webhook endpoint",
		Long: `Send a realistic sample event to a receiver, in the provider's own envelope and
headers, signed exactly as that provider signs, and print the response status
and latency. Ids and timestamps are fresh on every run.

There are samples for Stripe, GitHub, Shopify, Slack, Svix, Standard Webhooks and
OpenAI: 'herald trigger --list' shows them all, '--list --provider stripe' one
provider's. The event type picks the provider (payment_intent.succeeded is
Stripe's, push is GitHub's) unless --provider or --source says otherwise; a sample
of one provider signed with another's scheme lets one receiver be tested against
each. Exits 1 if the receiver does not answer 2xx.

Change the sample with --set path=value and --unset path (repeatable, applied in
order). A path is dotted: data.object.amount, items.0.name; "-" appends to an
array (items.-=3); a missing object on the way is created. A value is JSON if it
parses as JSON (5000, true, null, {"a":1}, [1,2], "quoted") and text otherwise;
quote it to force a string (--set 'id="123"'), or use := to insist on JSON
(--set 'amount:=5000' fails on a typo instead of sending a string). Escape a dot
in a member name with a backslash (metadata.order\.id). For Slack's form bodies
the paths name the form fields (text=hello; payload.actions.0.value=x).

--payload FILE (or - for stdin) sends your own body instead, byte for byte unless
edited; the event type argument is then optional. Bodies are limited to 1 MiB.`,
		Example: `  herald trigger payment_intent.succeeded --to http://localhost:4242/webhook --secret whsec_...
  herald trigger payment_intent.succeeded --set data.object.amount=5000 --set data.object.currency=eur --to ... --secret ...
  herald trigger pull_request --unset pull_request.body --to http://localhost:3000/github --secret s3cret
  herald trigger orders/create --set 'line_items.0.quantity=3' --to http://localhost:3000/shopify --secret ...
  herald trigger slash_command --set text=production --to http://localhost:3000/slack/commands --secret ...
  herald trigger response.completed --to http://localhost:8000/webhooks --secret "$OPENAI_WEBHOOK_SECRET"
  herald trigger push --payload push.json --to http://localhost:3000/github --secret s3cret
  herald trigger payment_intent.succeeded --source src_01JD... --server http://127.0.0.1:8080
  herald trigger invoice.paid --print
  herald trigger --list --provider stripe`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case tf.list:
				return exactArgs(0)(cmd, args)
			case tf.payload != "":
				return maxArgs(1)(cmd, args)
			}
			return exactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error { return tf.run(cmd, args) },
	}
	tf.register(cmd)
	return cmd
}

func (tf *triggerFlags) register(cmd *cobra.Command) {
	tf.pf.register(cmd, "")
	f := cmd.Flags()
	f.Lookup("provider").Usage += " (default: the event's provider, else openai)"
	f.StringVar(&tf.to, "to", "", "receiver URL")
	f.StringVar(&tf.viaSource, "source", "", "send it to this source of a herald server, signed with the source's provider and secret")
	f.StringVar(&tf.viaApp, "app", "", "publish it as a message of this app of a herald server (id or uid)")
	f.StringVar(&tf.af.server, "server", "", "herald server URL, with --source or --app (default $"+serverEnv+" or "+defaultServer+")")
	f.StringVar(&tf.af.apiKey, "api-key", "", "API key, with --source or --app (default $"+apiKeyEnv+")")
	f.BoolVar(&tf.list, "list", false, "list the sample events (of --provider or --source, else of every provider) and exit")
	f.BoolVar(&tf.print, "print", false, "print the body instead of sending it")
	f.StringVar(&tf.payload, "payload", "", "send this body instead of a sample: a file, - for stdin, @file or inline JSON")
	f.Var(&editFlag{edits: &tf.edits}, "set", "set path=value in the body, a JSON value or else text (repeatable)")
	f.Var(&editFlag{edits: &tf.edits, unset: true}, "unset", "remove path from the body (repeatable)")
	f.StringArrayVarP(&tf.headers, "header", "H", nil, "an extra request header, 'name: value' (repeatable)")
	f.DurationVar(&tf.timeout, "timeout", 30*time.Second, "how long to wait for the receiver")
	cmd.MarkFlagsMutuallyExclusive("to", "source")
	cmd.MarkFlagsMutuallyExclusive("to", "app")
}

// editFlag collects --set and --unset into one list, so they apply in command-line order.
type editFlag struct {
	edits *[]jsonedit.Edit
	unset bool
}

func (f *editFlag) String() string { return "" }
func (f *editFlag) Type() string {
	if f.unset {
		return "path"
	}
	return "path=value"
}

func (f *editFlag) Set(arg string) error {
	parse := jsonedit.ParseSet
	if f.unset {
		parse = jsonedit.ParseUnset
	}
	e, err := parse(arg)
	if err != nil {
		return err
	}
	*f.edits = append(*f.edits, e)
	return nil
}

// run resolves the provider and the sample, then prints, publishes or sends it.
func (tf *triggerFlags) run(cmd *cobra.Command, args []string) error {
	cat, err := fixtures.Load()
	if err != nil {
		return err
	}
	var src *client.Source
	var secrets []string
	if tf.viaSource != "" {
		if src, secrets, err = tf.source(cmd); err != nil {
			return err
		}
	}
	provider := tf.pf.provider // what to look the event up under first
	if src != nil {
		provider = src.Provider
	}
	if provider != "" && !slices.Contains(webhook.ProviderNames(), provider) && src == nil {
		return usageError{err: fmt.Errorf("--provider %q: want one of %s", provider, strings.Join(webhook.ProviderNames(), ", ")), cmd: cmd}
	}
	if tf.list {
		return printFixtures(cmd.OutOrStdout(), cat, provider)
	}
	ev, err := tf.sample(cmd, cat, provider, args)
	if err != nil {
		return err
	}
	if tf.print {
		_, err = cmd.OutOrStdout().Write(append(ev.body, '\n'))
		return err
	}
	if tf.viaApp != "" && src == nil {
		return triggerViaApp(cmd, &tf.af, tf.viaApp, ev)
	}
	var p webhook.Provider
	if src != nil {
		p, err = sourceProvider(src, secrets)
		tf.to = strings.TrimRight(tf.af.serverURL(), "/") + src.IngestPath
	} else {
		tf.pf.provider = firstNonEmpty(tf.pf.provider, ev.fixtureProvider(), "openai")
		p, err = tf.pf.build(cmd)
	}
	if err != nil {
		return err
	}
	u, err := tf.target(cmd)
	if err != nil {
		return err
	}
	req, err := tf.request(cmd, p, u, ev)
	if err != nil {
		return err
	}
	return tf.send(cmd, req, p, ev)
}

// source fetches --source and its secrets from the server.
func (tf *triggerFlags) source(cmd *cobra.Command) (*client.Source, []string, error) {
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
	return src, secrets, nil
}

// target returns the receiver's URL.
func (tf *triggerFlags) target(cmd *cobra.Command) (*url.URL, error) {
	if tf.to == "" {
		return nil, usageError{err: errors.New("--to is required: the URL of the receiver (or --source / --app to go through a herald server, or --print)"), cmd: cmd}
	}
	u, err := url.Parse(tf.to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{err: fmt.Errorf("--to %q: want an http:// or https:// URL", tf.to), cmd: cmd}
	}
	return u, nil
}

// printFixtures lists the samples of provider, or of every provider if it has none.
func printFixtures(w io.Writer, cat *fixtures.Catalogue, provider string) error {
	providers := cat.Providers()
	if len(cat.List(provider)) > 0 {
		providers = []string{provider}
	}
	for i, p := range providers {
		if len(providers) > 1 {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s (%d):\n", p, len(cat.List(p)))
		}
		width := 0
		for _, f := range cat.List(p) {
			width = max(width, len(f.Name))
		}
		for _, f := range cat.List(p) {
			fmt.Fprintf(w, "%-*s  %s\n", width, f.Name, f.Description)
		}
	}
	return nil
}
