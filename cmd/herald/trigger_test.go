package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api/apitest"
	"github.com/heraldhq/herald/internal/fixtures"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/openai"
)

// TestTriggerSetUnset edits samples from the command line and checks the body sent.
func TestTriggerSetUnset(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want map[string]any // path (dotted, for lookup) -> value; nil value: absent
		err  string         // one-line error expected instead
	}{
		{"number", []string{"payment_intent.succeeded", "--set", "data.object.amount=5000"}, map[string]any{"data.object.amount": 5000.0}, ""},
		{"string", []string{"payment_intent.succeeded", "--set", "data.object.currency=eur"}, map[string]any{"data.object.currency": "eur"}, ""},
		{"quoted number stays a string", []string{"payment_intent.succeeded", "--set", `data.object.metadata.order_id="42"`}, map[string]any{"data.object.metadata.order_id": "42"}, ""},
		{"strict JSON string", []string{"payment_intent.succeeded", "--set", `data.object.description:="x"`}, map[string]any{"data.object.description": "x"}, ""},
		{"booleans and null", []string{"payment_intent.succeeded", "--set", "livemode=true", "--set", "data.object.customer=null"}, map[string]any{"livemode": true, "data.object.customer": nil}, ""},
		{"object", []string{"payment_intent.succeeded", "--set", `data.object.metadata={"plan":"pro","seats":3}`}, map[string]any{"data.object.metadata.plan": "pro", "data.object.metadata.seats": 3.0}, ""},
		{"array element", []string{"orders/create", "--set", "line_items.0.quantity=3", "--set", "line_items.1.title=Mug"}, map[string]any{"line_items.0.quantity": 3.0, "line_items.1.title": "Mug"}, ""},
		{"append to an array", []string{"push", "--set", "commits.-.message=second"}, map[string]any{"commits.1.message": "second"}, ""},
		{"missing objects are created", []string{"invoice.paid", "--set", "data.object.metadata.tenant.id=t_1"}, map[string]any{"data.object.metadata.tenant.id": "t_1"}, ""},
		{"unset", []string{"pull_request", "--unset", "pull_request.body", "--unset", "sender"}, map[string]any{"pull_request.body": nil, "sender": nil}, ""},
		{"set after unset, in order", []string{"ping", "--unset", "hook", "--set", "hook.id=7"}, map[string]any{"hook.id": 7.0, "hook.name": nil}, ""},
		{"through a number", []string{"payment_intent.succeeded", "--set", "data.object.amount.value=1"}, nil, "--set data.object.amount.value: data.object.amount is a number"},
		{"index out of range", []string{"orders/create", "--set", "line_items.9.quantity=1"}, nil, "index 9 out of range (the array has 2 elements)"},
		{"name on an array", []string{"orders/create", "--set", "line_items.first.quantity=1"}, nil, "line_items is an array"},
		{"unset a missing member", []string{"ping", "--unset", "hook.nope"}, nil, "--unset hook.nope: hook.nope: no such member"},
		{"no equals sign", []string{"ping", "--set", "zen"}, nil, `"zen": want path=value`},
		{"empty segment", []string{"ping", "--set", "hook..id=1"}, nil, "empty segment"},
		{"strict JSON refuses text", []string{"ping", "--set", "zen:=hello"}, nil, "not valid JSON"},
		{"unknown event type", []string{"payment_intent.suceeded"}, nil, "did you mean payment_intent.succeeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, "", append([]string{"trigger", "--print"}, c.args...)...)
			if c.err != "" {
				wantOneLineError(t, code, stderr, c.err)
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var doc any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("printed body is not JSON: %v\n%s", err, out)
			}
			for path, want := range c.want {
				got, ok := lookupPath(doc, path)
				if want == nil && c.name != "booleans and null" {
					if ok {
						t.Errorf("%s = %v, want it removed", path, got)
					}
					continue
				}
				if !ok || got != want {
					t.Errorf("%s = %v (present %v), want %v", path, got, ok, want)
				}
			}
		})
	}
}

func lookupPath(doc any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch v := doc.(type) {
		case map[string]any:
			var ok bool
			if doc, ok = v[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i >= len(v) {
				return nil, false
			}
			doc = v[i]
		default:
			return nil, false
		}
	}
	return doc, true
}

// recorder is a receiver that keeps each request's body and headers.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.bodies = append(rc.bodies, b)
	rc.heads = append(rc.heads, r.Header.Clone())
}

func (rc *recorder) last(t *testing.T) ([]byte, http.Header) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bodies) == 0 {
		t.Fatal("the receiver got nothing")
	}
	return rc.bodies[len(rc.bodies)-1], rc.heads[len(rc.heads)-1]
}

// TestTriggerPayload sends one's own body from a file, stdin and inline, byte for
// byte unless edited, signed so that the provider's verifier accepts it.
func TestTriggerPayload(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	secret := "gh-secret"
	gh, _ := webhook.NewGitHub(secret)
	body := "{\"zen\": \"Keep it logically awesome.\",\n \"hook_id\": 1}\n"
	file := filepath.Join(t.TempDir(), "ping.json")
	os.WriteFile(file, []byte(body), 0o600)

	for _, src := range []struct{ name, stdin, arg string }{
		{"file", "", file}, {"stdin", body, "-"}, {"@file", "", "@" + file},
	} {
		code, out, stderr := runCLI(t, src.stdin, "trigger", "ping", "--payload", src.arg, "--to", srv.URL, "--secret", secret)
		if code != 0 {
			t.Fatalf("%s: exit %d %s %s", src.name, code, out, stderr)
		}
		got, h := rc.last(t)
		if string(got) != body {
			t.Errorf("%s: sent %q, want the file byte for byte", src.name, got)
		}
		d, err := gh.Verify(got, h)
		if err != nil || d.Type != "ping" || !strings.Contains(out, "--> ping "+d.ID+" (github)") {
			t.Errorf("%s: verify %+v %v; output %q", src.name, d, err, out)
		}
	}

	// Edited, an indented body stays indented; the type comes from the body if not given.
	code, out, stderr := runCLI(t, "", "trigger", "--payload", `{"type":"user.created","data":{"id":"u_1"}}`, "--set", "data.email=a@example.com",
		"--provider", "standard", "--to", srv.URL, "--secret", webhook.NewHMACSecret().Reveal())
	got, _ := rc.last(t)
	if code != 0 || string(got) != `{"type":"user.created","data":{"id":"u_1","email":"a@example.com"}}` || !strings.Contains(out, "--> user.created msg_") {
		t.Errorf("inline payload: exit %d, sent %s, out %q %s", code, got, out, stderr)
	}

	errs := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"missing file", "", []string{"ping", "--payload", filepath.Join(t.TempDir(), "nope.json")}, "no such file"},
		{"empty stdin", "", []string{"ping", "--payload", "-"}, "the body is empty"},
		{"edit a form body", "a=1&b=2", []string{"slash_command", "--payload", "-", "--set", "a=3"}, "not JSON"},
		{"github needs a type", "{}", []string{"--payload", "-", "--provider", "github"}, "github sends the event type in a header"},
		{"too many args", "{}", []string{"a", "b", "--payload", "-"}, "accepts at most 1 arg"},
	}
	for _, c := range errs {
		code, _, stderr := runCLI(t, c.stdin, append(append([]string{"trigger"}, c.args...), "--to", srv.URL, "--secret", secret)...)
		wantOneLineError(t, code, stderr, c.want)
	}
}

// TestTriggerBodyLimit refuses a body over 1 MiB, from a file, stdin or an edit, and
// sends one of exactly 1 MiB.
func TestTriggerBodyLimit(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	secret := webhook.NewHMACSecret().Reveal()
	dir := t.TempDir()
	atLimit := `{"pad":"` + strings.Repeat("x", fixtures.MaxBodyBytes-10) + `"}`
	over := atLimit[:len(atLimit)-2] + `x"}`
	os.WriteFile(filepath.Join(dir, "at.json"), []byte(atLimit), 0o600)
	os.WriteFile(filepath.Join(dir, "over.json"), []byte(over), 0o600)
	if len(atLimit) != fixtures.MaxBodyBytes {
		t.Fatalf("test body is %d bytes", len(atLimit))
	}

	code, _, stderr := runCLI(t, "", "trigger", "x.y", "--payload", filepath.Join(dir, "at.json"), "--to", srv.URL, "--secret", secret)
	if got, _ := rc.last(t); code != 0 || len(got) != fixtures.MaxBodyBytes {
		t.Fatalf("a body of exactly 1 MiB: exit %d, %d bytes sent: %s", code, len(got), stderr)
	}
	for _, c := range []struct{ name, stdin string }{{"file", ""}, {"stdin", over}} {
		arg := filepath.Join(dir, "over.json")
		if c.stdin != "" {
			arg = "-"
		}
		code, _, stderr := runCLI(t, c.stdin, "trigger", "x.y", "--payload", arg, "--to", srv.URL, "--secret", secret)
		wantOneLineError(t, code, stderr, "over the limit of 1048576 bytes")
	}
	code, _, stderr = runCLI(t, "", "trigger", "ping", "--set", "zen="+strings.Repeat("z", fixtures.MaxBodyBytes), "--to", srv.URL, "--secret", secret)
	wantOneLineError(t, code, stderr, "over the limit")
	if n := len(rc.bodies); n != 1 {
		t.Errorf("the receiver got %d requests, want only the one at the limit", n)
	}
}

// TestTriggerList lists one provider's samples, or every provider's.
func TestTriggerList(t *testing.T) {
	code, out, _ := runCLI(t, "", "trigger", "--list", "--provider", "stripe")
	if code != 0 || !strings.HasPrefix(out, "checkout.session.completed ") || !strings.Contains(out, "\npayment_intent.succeeded ") || strings.Contains(out, "push") {
		t.Errorf("--list --provider stripe: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "trigger", "--list")
	for _, want := range []string{"openai (", "\nstripe (10):\n", "\ngithub (", "\nshopify (", "orders/create ", "\nslack (", "slash_command ", "\nsvix (", "\nstandard ("} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("--list lacks %q:\n%s", want, out)
		}
	}
	code, _, stderr := runCLI(t, "", "trigger", "--list", "--provider", "acme")
	wantOneLineError(t, code, stderr, `--provider "acme"`)
	code, _, stderr = runCLI(t, "", "trigger", "--list", "push")
	wantOneLineError(t, code, stderr, "accepts 0 arg")
}

// TestTriggerHeadersAndIDs checks each provider's extra headers and that the printed
// id is never empty, even with the signature overridden by -H.
func TestTriggerHeadersAndIDs(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	cases := []struct {
		event, provider string
		headers         []string // that must be present
		idPrefix        string
	}{
		{"orders/paid", "", []string{"X-Shopify-Shop-Domain", "X-Shopify-Api-Version", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id"}, ""},
		{"push", "", []string{"X-Github-Hook-Id", "X-Github-Hook-Installation-Target-Id", "X-Github-Delivery"}, ""},
		{"invoice.paid", "", []string{"Stripe-Signature", "Cache-Control"}, "evt_"},
		{"invoice.paid", "svix", []string{"Svix-Id", "Svix-Signature"}, "msg_"},
		{"app_mention", "", []string{"X-Slack-Signature", "X-Slack-Request-Timestamp"}, "Ev"},
		{"slash_command", "", []string{"X-Slack-Signature"}, ""},
		{"url_verification", "", []string{"X-Slack-Signature"}, ""},
		{"contact.created", "", []string{"Webhook-Id"}, "msg_"},
	}
	for _, c := range cases {
		args := []string{"trigger", c.event, "--to", srv.URL, "--secret", webhook.NewHMACSecret().Reveal()}
		if c.provider != "" {
			args = append(args, "--provider", c.provider)
		}
		code, out, stderr := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", c.event, code, stderr)
		}
		_, h := rc.last(t)
		for _, name := range c.headers {
			if h.Get(name) == "" {
				t.Errorf("%s: no %s header in %v", c.event, name, h)
			}
		}
		id := strings.Fields(out)[2]
		if id == "" || strings.HasPrefix(id, "(") || !strings.HasPrefix(id, c.idPrefix) {
			t.Errorf("%s: printed id %q, want one starting %q", c.event, id, c.idPrefix)
		}
		if c.event == "slash_command" && h.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("slash_command content type %q", h.Get("Content-Type"))
		}
	}
	// A broken signature still prints the event's id.
	code, out, _ := runCLI(t, "", "trigger", "payment_intent.created", "--to", srv.URL, "--secret", "whsec_x", "-H", "Stripe-Signature: t=1,v1=00")
	if code != 0 || !strings.Contains(out, "--> payment_intent.created evt_") {
		t.Errorf("overridden signature: exit %d %q", code, out)
	}
	// A sample of another provider signed with --provider says so and carries none of its headers.
	code, out, _ = runCLI(t, "", "trigger", "push", "--provider", "standard", "--to", srv.URL, "--secret", webhook.NewHMACSecret().Reveal())
	if _, h := rc.last(t); code != 0 || !strings.Contains(out, "(standard, github's sample)") || h.Get("X-Github-Hook-Id") != "" {
		t.Errorf("cross-signed: exit %d %q %v", code, out, h)
	}
}

// TestTriggerStripeSource sends a Stripe sample to a Stripe source of a herald
// server, which verifies it with the source's secret and publishes it.
func TestTriggerStripeSource(t *testing.T) {
	url, key := inProcessServer(t)
	c := client.New(url, key, apitest.HTTPClient(t))
	ctx := context.Background()
	app := servertest.NewApp(t, c, client.AppInput{Name: "shop", UID: "shop"})
	src, err := c.CreateSource(ctx, app.ID, client.SourceInput{Provider: "stripe", Secret: "whsec_" + strings.Repeat("a", 32)})
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "", "trigger", "payment_intent.succeeded", "--source", src.ID, "--set", "data.object.amount=5000", "--server", url, "--api-key", key)
	if code != 0 || !strings.Contains(out, "--> payment_intent.succeeded evt_") || !strings.Contains(out, "(stripe) POST "+url+"/in/") || !strings.Contains(out, "<-- 2") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	msgs, _, err := c.ListMessages(ctx, app.ID, client.ListMessagesParams{})
	if err != nil || len(msgs) != 1 || msgs[0].Type != "payment_intent.succeeded" {
		t.Fatalf("published messages %v: %v", msgs, err)
	}
	var doc any
	_ = json.Unmarshal(msgs[0].Payload, &doc)
	if amount, _ := lookupPath(doc, "data.object.amount"); amount != 5000.0 {
		t.Errorf("published amount %v, want the --set 5000", amount)
	}
	code, out, _ = runCLI(t, "", "trigger", "--list", "--source", src.ID, "--server", url, "--api-key", key)
	if code != 0 || !strings.HasPrefix(out, "checkout.session.completed") {
		t.Errorf("--list --source: exit %d %q", code, out)
	}
	code, _, stderr = runCLI(t, "", "trigger", "push", "--source", src.ID, "--to", "http://127.0.0.1:1", "--server", url, "--api-key", key)
	wantOneLineError(t, code, stderr, "to")
}

type triggerReceiver struct {
	mu     sync.Mutex
	events []*webhook.Event
}

// TestTriggerEndToEnd sends every provider's signed sample to a webhook.Handler and checks
// that it verified and dispatched the event.
func TestTriggerEndToEnd(t *testing.T) {
	for _, p := range webhook.ProviderNames() {
		t.Run(p, func(t *testing.T) {
			secret := webhook.NewHMACSecret().Reveal()
			v, err := webhook.NewProvider(p, secret)
			if err != nil {
				t.Fatal(err)
			}
			rec := &triggerReceiver{}
			h := webhook.NewHandler(v, openai.Events()).On(openai.EventResponseCompleted, func(ctx context.Context, e *webhook.Event) error {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				rec.events = append(rec.events, e)
				return nil
			})
			srv := httptest.NewServer(h)
			defer srv.Close()
			code, out, stderr := runCLI(t, "", "trigger", "response.completed", "--to", srv.URL, "--provider", p, "--secret", secret)
			if code != 0 {
				t.Fatalf("exit %d: out %q err %q", code, out, stderr)
			}
			if !strings.Contains(out, "--> response.completed") || !strings.Contains(out, "<-- 200 OK") {
				t.Errorf("output %q lacks the request and response lines", out)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.events) != 1 {
				t.Fatalf("handler saw %d events, want 1", len(rec.events))
			}
			e := rec.events[0]
			ev, _ := e.Data.(*openai.Event)
			data, ok := openai.EventData[*openai.ResponseEventData](ev)
			if e.Type != openai.EventResponseCompleted || !ok || !strings.HasPrefix(data.ID, "resp_") {
				t.Errorf("event = %+v", e)
			}
			if p == "openai" && !strings.HasPrefix(e.Header.Get("User-Agent"), "OpenAI/1.0") {
				t.Errorf("user-agent = %q, want OpenAI's", e.Header.Get("User-Agent"))
			}
		})
	}
}

// TestTriggerEveryEventType sends each catalogue type through OpenAI signing to one Handler.
func TestTriggerEveryEventType(t *testing.T) {
	secret := webhook.NewHMACSecret().Reveal()
	v, _ := webhook.NewOpenAI(secret)
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(webhook.NewHandler(v, openai.Events()).On("*", func(ctx context.Context, e *webhook.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if ev := e.Data.(*openai.Event); ev.Data != nil && ev.DataID() != "" {
			seen[e.Type]++
		}
		return nil
	}))
	defer srv.Close()
	code, list, _ := runCLI(t, "", "trigger", "--list", "--provider", "openai")
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		types = append(types, strings.Fields(line)[0])
	}
	if code != 0 || len(types) < 15 {
		t.Fatalf("trigger --list: exit %d, %d types", code, len(types))
	}
	for _, typ := range types {
		if code, out, stderr := runCLI(t, "", "trigger", typ, "--to", srv.URL, "--secret", secret); code != 0 {
			t.Errorf("%s: exit %d: %s %s", typ, code, out, stderr)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, typ := range types {
		if seen[typ] != 1 {
			t.Errorf("%s dispatched %d times, want 1", typ, seen[typ])
		}
	}
}

func TestTriggerErrors(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"nope"}`, http.StatusUnauthorized)
	}))
	defer failing.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, failing.URL, http.StatusFound)
	}))
	defer redirect.Close()
	secret := webhook.NewHMACSecret().Reveal()
	cases := []struct {
		name     string
		args     []string
		contains string
	}{
		{"receiver rejects", []string{"trigger", "response.completed", "--to", failing.URL, "--secret", secret}, "401"},
		{"redirect is a failure", []string{"trigger", "response.completed", "--to", redirect.URL, "--secret", secret}, "302"},
		{"unknown type", []string{"trigger", "response.exploded", "--to", failing.URL, "--secret", secret}, "response.exploded"},
		{"no --to", []string{"trigger", "response.completed", "--secret", secret}, "--to"},
		{"bad --to", []string{"trigger", "response.completed", "--to", "ftp://x", "--secret", secret}, "--to"},
		{"no secret", []string{"trigger", "response.completed", "--to", failing.URL}, "secret"},
		{"bad secret", []string{"trigger", "response.completed", "--to", failing.URL, "--secret", "whsec_!!"}, "secret"},
		{"unknown provider", []string{"trigger", "response.completed", "--to", failing.URL, "--secret", secret, "--provider", "acme"}, "acme"},
		{"no event type", []string{"trigger", "--to", failing.URL, "--secret", secret}, "arg"},
		{"unknown flag", []string{"trigger", "--frobnicate"}, "frobnicate"},
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		{"connection refused", []string{"trigger", "response.completed", "--to", "http://127.0.0.1:1/", "--secret", secret}, "refused"},
	}
	t.Setenv(secretEnv, "")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", c.args...)
			wantOneLineError(t, code, stderr, c.contains)
		})
	}
}
