package diagnose

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook"
)

var now = time.Unix(1750861210, 0)

// Secrets of the cases: an OpenAI/Standard Webhooks secret and its decoded key, others' raw secrets.
const (
	whsec    = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	whsecOld = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ghSecret = "It's a Secret to Everybody"
	slackKey = "8f742231b10e8888abcd99yyyzzz85a5"
	shopKey  = "shpss_0123456789abcdef0123456789abcdef"
)

const (
	openAIBody = `{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}`
	compact    = `{"id":"evt_1","object":"event","type":"response.completed","data":{"id":"resp_1","note":"<b>café</b>"}}`
	slackForm  = "command=%2Fdeploy&team_id=T1&text=ship%20it%20now&user_name=ada"
)

// sign returns the headers provider sends with body, signed with secret at t.
func sign(t *testing.T, provider, secret, body string, at time.Time) http.Header {
	t.Helper()
	p, err := webhook.NewProvider(provider, secret)
	if err != nil {
		t.Fatal(err)
	}
	h, err := p.Sign(webhook.Delivery{ID: "msg_1", Timestamp: at, Type: "push"}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mac256(key []byte, content string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(content))
	return m.Sum(nil)
}

func decoded(secret string) []byte {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic(err)
	}
	return b
}

func with(h http.Header, kv ...string) http.Header {
	h = h.Clone()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			h.Del(kv[i])
		} else {
			h.Set(kv[i], kv[i+1])
		}
	}
	return h
}

func rename(h http.Header, from, to string) http.Header {
	h = h.Clone()
	h[http.CanonicalHeaderKey(to)] = h[http.CanonicalHeaderKey(from)]
	delete(h, http.CanonicalHeaderKey(from))
	return h
}

func reindent(t *testing.T, body, indent string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(body), "", indent); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

type diagCase struct {
	name      string
	in        Input
	verified  bool
	code      string // the first finding's code
	confirmed bool
	message   string   // a part of the first finding's message
	also      []string // codes of other findings that must be present
}

// fixture holds requests signed as each provider signs them, for the cases.
type fixture struct {
	openAI, standard, stripe, github, slack, shopify http.Header
	ts, indented                                     string
}

func newFixture(t *testing.T) fixture {
	return fixture{
		openAI: sign(t, "openai", whsec, openAIBody, now), standard: sign(t, "standard", whsec, compact, now),
		stripe: sign(t, "stripe", whsec, compact, now), github: sign(t, "github", ghSecret, compact, now),
		slack: sign(t, "slack", slackKey, slackForm, now), shopify: sign(t, "shopify", shopKey, compact, now),
		ts: fmt.Sprint(now.Unix()), indented: reindent(t, compact, "  "),
	}
}

// stdSig is a Standard Webhooks signature over content of our own making.
func stdSig(key []byte, id, ts, body string) http.Header {
	return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts},
		"Webhook-Signature": {"v1," + base64.StdEncoding.EncodeToString(mac256(key, id+"."+ts+"."+body))}}
}

func sha1Sig(key, body string) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// input is a request for provider with one secret, received now.
func input(provider, secret string, h http.Header, body string) Input {
	return Input{Provider: provider, Secrets: []string{secret}, Header: h, Body: []byte(body), Now: now}
}

// TestExplainBody puts a body changed after signing in and wants its diagnosis out.
func TestExplainBody(t *testing.T) {
	fx := newFixture(t)
	runCases(t, []diagCase{
		{name: "openai verifies", in: input("openai", whsec, fx.openAI, openAIBody), verified: true},
		{name: "openai body compacted by a framework", in: input("openai", whsec, fx.openAI, compactJSON(t, openAIBody)),
			code: CodeBodyChanged, confirmed: true, message: "Python's json.dumps spacing"},
		{name: "standard body pretty-printed", in: input("standard", whsec, fx.standard, fx.indented),
			code: CodeBodyChanged, confirmed: true, message: "written compactly, with no spaces"},
		{name: "standard body indented by 2 where 4 was signed",
			in:   input("standard", whsec, sign(t, "standard", whsec, reindent(t, compact, "    "), now), fx.indented),
			code: CodeBodyChanged, confirmed: true, message: "indented by 4 spaces"},
		{name: "stripe keys reordered", in: Input{Provider: "stripe", Secrets: []string{whsec}, Now: now,
			Header: sign(t, "stripe", whsec, `{"data":{"a":1},"id":"evt_1","type":"x"}`, now), Body: []byte(`{"type":"x","id":"evt_1","data":{"a":1}}`)},
			code: CodeBodyChanged, confirmed: true, message: "keys sorted"},
		{name: "github unicode unescaped", in: input("github", ghSecret, sign(t, "github", ghSecret, `{"name":"caf\u00e9"}`, now), `{"name":"café"}`),
			code: CodeBodyChanged, confirmed: true, message: "non-ASCII characters escaped"},
		{name: "shopify HTML characters unescaped", in: input("shopify", shopKey, sign(t, "shopify", shopKey, `{"note":"\u003cb\u003e"}`, now), `{"note":"<b>"}`),
			code: CodeBodyChanged, confirmed: true, message: "Go's encoding/json"},
		{name: "stripe trailing newline added", in: input("stripe", whsec, fx.stripe, compact+"\n"),
			code: CodeBodyChanged, confirmed: true, message: "without its trailing newline"},
		{name: "github trailing newline lost", in: input("github", ghSecret, sign(t, "github", ghSecret, compact+"\n", now), compact),
			code: CodeBodyChanged, confirmed: true, message: "with a trailing newline"},
		{name: "standard CRLF line endings", in: input("standard", whsec, sign(t, "standard", whsec, fx.indented, now), strings.ReplaceAll(fx.indented, "\n", "\r\n")),
			code: CodeBodyChanged, confirmed: true, message: "LF line endings"},
		{name: "shopify Latin-1 body", in: input("shopify", shopKey, sign(t, "shopify", shopKey, `{"name":"café"}`, now), "{\"name\":\"caf\xe9\"}"),
			code: CodeBodyChanged, confirmed: true, message: "encoded as UTF-8"},
		{name: "slack form re-encoded", in: input("slack", slackKey, fx.slack, strings.ReplaceAll(slackForm, "%20", "+")),
			code: CodeBodyChanged, confirmed: true, message: "spaces as %20"},
		{name: "stripe body emptied by a middleware", in: input("stripe", whsec, fx.stripe, ""),
			code: CodeBodyEmpty, also: []string{CodeNoMatch}},
	})
}

// TestExplainSecret puts a secret of the wrong encoding or kind in and wants its diagnosis out.
func TestExplainSecret(t *testing.T) {
	fx := newFixture(t)
	runCases(t, []diagCase{
		{name: "openai secret without whsec_", in: input("openai", strings.TrimPrefix(whsec, "whsec_"), fx.openAI, openAIBody),
			code: CodeSecretEncoding, confirmed: true, message: "decoded from base64"},
		{name: "standard sender used the whsec_ string as text", in: input("standard", whsec, stdSig([]byte(whsec), "msg_1", fx.ts, compact), compact),
			code: CodeSecretEncoding, confirmed: true, message: "used as text"},
		{name: "stripe secret without whsec_", in: input("stripe", strings.TrimPrefix(whsec, "whsec_"), fx.stripe, compact),
			code: CodeSecretEncoding, confirmed: true, message: "whsec_ prefix, which the configured secret lacks"},
		{name: "github secret with a newline", in: input("github", ghSecret+"\n", fx.github, compact),
			code: CodeSecretEncoding, confirmed: true, message: "whitespace or quotes"},
		{name: "slack secret in quotes", in: input("slack", `"`+slackKey+`"`, fx.slack, slackForm),
			code: CodeSecretEncoding, confirmed: true, message: "whitespace or quotes"},
		{name: "openai given a public key", in: input("openai", webhook.NewEd25519Key().Public().Reveal(), fx.openAI, openAIBody),
			code: CodeSecretKind, message: "Ed25519 public key"},
		{name: "stripe given an API key", in: input("stripe", "sk_test_51H8abcdefghijklmnop", fx.stripe, compact),
			code: CodeSecretKind, message: "Stripe API key", also: []string{CodeNoMatch}},
		{name: "slack given a bot token", in: input("slack", "xoxb-1234-5678-abcdef", fx.slack, slackForm),
			code: CodeSecretKind, message: "Slack token"},
		{name: "slack given a whsec_ secret", in: input("slack", whsec, fx.slack, slackForm),
			code: CodeNoMatch, also: []string{CodeSecretKind}},
		{name: "standard v1a only with an HMAC secret", in: input("standard", whsec, func() http.Header {
			p, _ := webhook.NewStandardKeys([]webhook.Secret{webhook.NewEd25519Key()})
			h, _ := p.Sign(webhook.Delivery{ID: "msg_1", Timestamp: now}, []byte(compact))
			return h
		}(), compact), code: CodeSecretKind, message: "Ed25519 only", also: []string{CodeNoMatch}},
	})
}

// TestExplainTimestamp puts a signed timestamp out of tolerance or of the wrong unit in and wants its diagnosis out.
func TestExplainTimestamp(t *testing.T) {
	fx := newFixture(t)
	runCases(t, []diagCase{
		{name: "openai 10 minutes old", in: input("openai", whsec, sign(t, "openai", whsec, openAIBody, now.Add(-10*time.Minute)), openAIBody),
			code: CodeTimestampSkew, confirmed: true, message: "10m0s in the past"},
		{name: "stripe an hour ahead", in: input("stripe", whsec, sign(t, "stripe", whsec, compact, now.Add(time.Hour)), compact),
			code: CodeTimestampSkew, confirmed: true, message: "1h0m0s in the future"},
		{name: "slack capture two days old", in: input("slack", slackKey, sign(t, "slack", slackKey, slackForm, now.Add(-50*time.Hour)), slackForm),
			code: CodeTimestampSkew, confirmed: true, message: "2 days in the past"},
		{name: "standard timestamp in milliseconds", in: input("standard", whsec, stdSig(decoded(whsec), "msg_1", fx.ts+"123", compact), compact),
			code: CodeMalformedHeader, confirmed: true, message: "milliseconds"},
		{name: "old and changed", in: input("openai", whsec, sign(t, "openai", whsec, openAIBody, now.Add(-time.Hour)), compactJSON(t, openAIBody)),
			code: CodeBodyChanged, confirmed: true, also: []string{CodeTimestampSkew}},
	})
}

// TestExplainHeaders puts headers missing, misnamed or of another provider in and wants its diagnosis out.
func TestExplainHeaders(t *testing.T) {
	fx := newFixture(t)
	runCases(t, []diagCase{
		{name: "openai-signature instead of webhook-signature", in: input("openai", whsec, rename(fx.openAI, "webhook-signature", "openai-signature"), openAIBody),
			code: CodeMisnamedHeader, confirmed: true, message: "openai-signature"},
		{name: "openai-signature with a hex HMAC (the tutorial mistake)", in: input("openai", whsec,
			http.Header{"Openai-Signature": {hex.EncodeToString(mac256([]byte(whsec), openAIBody))}}, openAIBody),
			code: CodeMisnamedHeader, also: []string{CodeMissingHeader}},
		{name: "stripe-signature under a lower-case key", in: input("stripe", whsec, http.Header{"stripe-signature": fx.stripe["Stripe-Signature"]}, compact),
			code: CodeHeaderCase, confirmed: true, message: "stripe-signature"},
		{name: "github SHA-1 header only", in: input("github", ghSecret, http.Header{"X-Hub-Signature": {"sha1=" + sha1Sig(ghSecret, compact)}}, compact),
			code: CodeMisnamedHeader, confirmed: true, message: "HMAC-SHA1"},
		{name: "stripe header missing", in: input("stripe", whsec, http.Header{"Content-Type": {"application/json"}}, compact),
			code: CodeMissingHeader, message: "stripe-signature"},
		{name: "openai source given a Stripe request", in: input("openai", whsec, fx.stripe, compact),
			code: CodeWrongProvider, confirmed: true, message: "verifies as stripe"},
		{name: "svix source given Standard Webhooks headers", in: input("svix", whsec, fx.standard, compact),
			code: CodeWrongProvider, confirmed: true, message: "verifies as standard"},
		{name: "shopify source given a GitHub request", in: input("shopify", ghSecret, fx.github, compact),
			code: CodeWrongProvider, confirmed: true, message: "verifies as github"},
		{name: "webhook-id with a dot", in: input("standard", whsec, stdSig(decoded(whsec), "msg.1", fx.ts, compact), compact),
			code: CodeMalformedHeader, message: "dot"},
	})
}

// TestExplainSignatureFormat puts a right signature written differently in and wants its diagnosis out.
func TestExplainSignatureFormat(t *testing.T) {
	fx := newFixture(t)
	runCases(t, []diagCase{
		{name: "shopify digest in hex", in: input("shopify", shopKey, with(fx.shopify, "X-Shopify-Hmac-Sha256", hex.EncodeToString(mac256([]byte(shopKey), compact))), compact),
			code: CodeSignatureFormat, confirmed: true, message: "hex where Shopify writes base64"},
		{name: "slack without v0=", in: input("slack", slackKey, with(fx.slack, "X-Slack-Signature", strings.TrimPrefix(fx.slack.Get("X-Slack-Signature"), "v0=")), slackForm),
			code: CodeSignatureFormat, confirmed: true, message: `lacks the "v0=" prefix`},
		{name: "standard digest in hex", in: input("standard", whsec, with(fx.standard, "Webhook-Signature",
			"v1,"+hex.EncodeToString(mac256(decoded(whsec), "msg_1."+fx.ts+"."+compact))), compact),
			code: CodeSignatureFormat, confirmed: true, message: "hex"},
		{name: "hmac source signed with SHA-1", in: Input{Provider: "hmac", HMAC: &webhook.HMACConfig{Header: "X-Signature"}, Secrets: []string{"k3y"}, Now: now,
			Header: http.Header{"X-Signature": {sha1Sig("k3y", compact)}}, Body: []byte(compact)},
			code: CodeSignatureFormat, confirmed: true, message: "HMAC-SHA1"},
	})
}

// TestExplainRotation puts rotated-out secrets, several signatures and configurations
// that cannot verify in, and wants their diagnosis out.
func TestExplainRotation(t *testing.T) {
	fx := newFixture(t)
	runCases(t, []diagCase{
		{name: "signed with a rotated-out secret", in: Input{Provider: "openai", Secrets: []string{whsec}, Retired: []string{"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32)), whsecOld},
			Header: sign(t, "openai", whsecOld, openAIBody, now), Body: []byte(openAIBody), Now: now},
			code: CodeRotatedSecret, confirmed: true, message: "retired secret 2"},
		{name: "three signatures, none matching", in: Input{Provider: "standard", Secrets: []string{whsec, whsecOld}, Now: now, Body: []byte(compact),
			Header: with(fx.standard, "Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))+" v1,"+base64.StdEncoding.EncodeToString(mac256([]byte("x"), "y"))+" v1a,"+base64.StdEncoding.EncodeToString(make([]byte, 64)))},
			code: CodeNoMatch, message: "None of the 3 signatures in webhook-signature (v1 ×2, v1a ×1) matches this body under any of the 2 configured secrets"},

		{name: "unknown provider", in: input("paypal", whsec, fx.openAI, openAIBody), code: CodeInvalidConfig},
		{name: "no secret", in: Input{Provider: "github", Header: fx.github, Body: []byte(compact), Now: now}, code: CodeInvalidConfig},
	})
}

// runCases runs Explain on each case and checks its first finding, the others it
// names, the shape of every finding, and that no secret shows.
func runCases(t *testing.T, cases []diagCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Explain(c.in)
			js, _ := json.MarshalIndent(r, "", "  ")
			if r.Verified != c.verified {
				t.Fatalf("verified = %v, want %v\n%s", r.Verified, c.verified, js)
			}
			checkNoSecret(t, c.in, string(js))
			if c.verified {
				if len(r.Findings) != 0 || r.Error != "" {
					t.Fatalf("a verified request has findings: %s", js)
				}
				return
			}
			if len(r.Findings) == 0 || r.Error == "" && c.code != CodeInvalidConfig && c.code != CodeSecretKind {
				t.Fatalf("no findings or no error:\n%s", js)
			}
			f := r.Findings[0]
			if f.Code != c.code || f.Confirmed != c.confirmed || !strings.Contains(f.Message, c.message) {
				t.Fatalf("first finding %s (confirmed %v) %q, want %s (confirmed %v) containing %q\n%s",
					f.Code, f.Confirmed, f.Message, c.code, c.confirmed, c.message, js)
			}
			for _, code := range c.also {
				if !hasCode(r, code) {
					t.Errorf("no %s finding:\n%s", code, js)
				}
			}
			for _, f := range r.Findings {
				if f.Message == "" || f.Hint == "" || !strings.HasSuffix(f.Message, ".") {
					t.Errorf("finding %s lacks a sentence or a hint: %+v", f.Code, f)
				}
			}
		})
	}
}

func hasCode(r Report, code string) bool {
	for _, f := range r.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

// checkNoSecret fails if the report shows a secret, a part of one, or the decoded key.
func checkNoSecret(t *testing.T, in Input, report string) {
	t.Helper()
	for _, s := range append(append([]string{}, in.Secrets...), in.Retired...) {
		parts := []string{strings.TrimSpace(s), strings.TrimPrefix(strings.TrimSpace(s), "whsec_")}
		if k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_")); err == nil {
			parts = append(parts, hex.EncodeToString(k))
		}
		for _, p := range parts {
			if len(p) >= 8 && strings.Contains(report, p[len(p)-8:]) {
				t.Fatalf("the report shows a secret (%q…):\n%s", p[:4], report)
			}
		}
	}
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
