package diagnose

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// scheme is what the diagnosis knows of one provider's signature scheme: its headers,
// how its digests are written, and how it turns a secret into an HMAC key.
type scheme struct {
	provider string              // a webhook.NewProvider name or "hmac"
	hmac     *webhook.HMACConfig // for "hmac"
	standard bool                // Standard Webhooks: "v1,<base64>" entries, an id and a timestamp header
	sig      string              // canonical signature header
	ts       string              // canonical timestamp header; "" if none, or inside sig (Stripe)
	id       string              // canonical id header, when the scheme signs it
	prefix   string              // before the digest (GitHub "sha256=", Slack "v0="); "v1," for Standard
	hexSig   bool                // digests are hex (else base64)
	digest   int                 // digest length in bytes
	timed    bool                // the scheme signs a timestamp
}

// schemes are the providers webhook.NewProvider knows, by name.
var schemes = map[string]scheme{
	"openai":   {standard: true, sig: "Webhook-Signature", ts: "Webhook-Timestamp", id: "Webhook-Id", prefix: "v1,", digest: 32, timed: true},
	"standard": {standard: true, sig: "Webhook-Signature", ts: "Webhook-Timestamp", id: "Webhook-Id", prefix: "v1,", digest: 32, timed: true},
	"svix":     {standard: true, sig: "Svix-Signature", ts: "Svix-Timestamp", id: "Svix-Id", prefix: "v1,", digest: 32, timed: true},
	"stripe":   {sig: "Stripe-Signature", prefix: "v1=", hexSig: true, digest: 32, timed: true},
	"github":   {sig: "X-Hub-Signature-256", prefix: "sha256=", hexSig: true, digest: 32},
	"shopify":  {sig: "X-Shopify-Hmac-Sha256", digest: 32},
	"slack":    {sig: "X-Slack-Signature", ts: "X-Slack-Request-Timestamp", prefix: "v0=", hexSig: true, digest: 32, timed: true},
}

// newScheme returns the scheme of a provider name, or an error saying why there is none.
func newScheme(provider string, cfg *webhook.HMACConfig) (scheme, error) {
	name := strings.ToLower(strings.TrimSpace(provider))
	if s, ok := schemes[name]; ok {
		s.provider = name
		return s, nil
	}
	if name != "hmac" {
		return scheme{}, fmt.Errorf("unknown provider %q, want one of %s or hmac", provider, strings.Join(webhook.ProviderNames(), ", "))
	}
	if cfg == nil || cfg.Header == "" {
		return scheme{}, fmt.Errorf("provider hmac needs a configuration with at least the signature header")
	}
	s := scheme{
		provider: "hmac", hmac: cfg, sig: textproto.CanonicalMIMEHeaderKey(cfg.Header), prefix: cfg.Prefix,
		hexSig: !strings.EqualFold(cfg.Encoding, "base64"), digest: digestLen(cfg.Algorithm),
	}
	if cfg.TimestampHeader != "" {
		s.ts, s.timed = textproto.CanonicalMIMEHeaderKey(cfg.TimestampHeader), true
	}
	if strings.Contains(cfg.Template, "{id}") && cfg.IDHeader != "" {
		s.id = textproto.CanonicalMIMEHeaderKey(cfg.IDHeader)
	}
	return s, nil
}

// digestLen is the digest length of a webhook.HMACConfig algorithm.
func digestLen(algorithm string) int {
	switch strings.ToLower(algorithm) {
	case "sha1":
		return 20
	case "sha512":
		return 64
	}
	return 32
}

// algorithmOf names the hash whose digest is n bytes long.
func algorithmOf(n int) string {
	switch n {
	case 20:
		return "sha1"
	case 32:
		return "sha256"
	case 64:
		return "sha512"
	}
	return ""
}

// displayNames are the providers' own names, for messages.
var displayNames = map[string]string{
	"openai": "OpenAI", "standard": "Standard Webhooks", "svix": "Svix", "stripe": "Stripe",
	"github": "GitHub", "shopify": "Shopify", "slack": "Slack", "hmac": "the sender",
}

// label is how messages name who signs: "Stripe", "the sender" for the hmac scheme.
func (s *scheme) label() string { return displayNames[s.provider] }

// writes completes "the digest is hex where ... base64".
func (s *scheme) writes() string {
	if s.provider == "hmac" {
		return "the hmac configuration expects"
	}
	return s.label() + " writes"
}

// required returns the canonical names of the headers Verify needs, signature first.
func (s *scheme) required() []string {
	names := []string{s.sig}
	if s.id != "" {
		names = append(names, s.id)
	}
	if s.ts != "" {
		names = append(names, s.ts)
	}
	return names
}

// verifier builds the scheme's verifier for secrets. tolerance <= 0 disables the
// timestamp check.
func (s *scheme) verifier(secrets []string, tolerance time.Duration, now time.Time) (webhook.Verifier, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("no secret is configured")
	}
	var opts []webhook.Option
	if len(secrets) > 1 {
		opts = append(opts, webhook.WithSecrets(secrets[1:]...))
	}
	if s.timed {
		opts = append(opts, webhook.WithTolerance(tolerance), webhook.WithClock(func() time.Time { return now }))
	}
	if s.provider == "hmac" {
		cfg := *s.hmac
		cfg.Secret = secrets[0]
		return webhook.NewHMAC(cfg, opts...)
	}
	return webhook.NewProvider(s.provider, secrets[0], opts...)
}

// keyOf returns the HMAC key bytes the scheme derives from secret, and false if the
// secret is no HMAC secret for it.
func (s *scheme) keyOf(secret string) ([]byte, bool) {
	switch s.provider {
	case "standard", "svix":
		if strings.HasPrefix(secret, "whsk_") || strings.HasPrefix(secret, "whpk_") {
			return nil, false
		}
		k, err := decodeBase64(strings.TrimPrefix(strings.TrimSpace(secret), "whsec_"))
		return k, err == nil && len(k) > 0
	case "openai":
		if t := strings.TrimSpace(secret); strings.HasPrefix(t, "whsec_") {
			k, err := decodeBase64(t[len("whsec_"):])
			return k, err == nil && len(k) > 0
		}
	}
	return []byte(secret), secret != ""
}

// secretFor returns a secret string the scheme turns into the HMAC key, and false if
// the scheme cannot take that key.
func (s *scheme) secretFor(key []byte) (string, bool) {
	if len(key) == 0 {
		return "", false
	}
	b64 := base64.StdEncoding.EncodeToString(key)
	switch s.provider {
	case "standard", "svix":
		return b64, true
	case "openai":
		if len(key) >= 24 && len(key) <= 64 {
			return "whsec_" + b64, true
		}
	}
	str := string(key)
	if hasAnyPrefix(str, "whsk_", "whpk_") || (s.provider == "openai" && strings.HasPrefix(str, "whsec_")) {
		return "", false // refused, or decoded, by the constructor
	}
	return str, true
}

// timestamp returns the raw signed timestamp of a request and whether the scheme has one.
func (s *scheme) timestamp(h http.Header) (raw, header string, ok bool) {
	switch {
	case s.provider == "stripe":
		for _, item := range strings.Split(headerValue(h, s.sig), ",") {
			if k, v, found := strings.Cut(strings.TrimSpace(item), "="); found && k == "t" {
				return v, "the t= value of stripe-signature", true
			}
		}
		return "", "the t= value of stripe-signature", true
	case s.ts != "":
		return headerValue(h, s.ts), "the " + lower(s.ts) + " header", true
	}
	return "", "", false
}

// entry is one signature of a signature header.
type entry struct {
	version string // "v1", "v1a", "sha256", "v0", ... ; "" if none
	digest  string
}

// maxEntries bounds the signatures read from one header.
const maxEntries = 64

// entries splits a signature header value into its signatures: Standard Webhooks'
// space-separated "version,digest", Stripe's "key=value" items other than t, or the
// one "prefix digest" of the other schemes. total counts them all, past maxEntries.
func (s *scheme) entries(v string) (list []entry, total int) {
	add := func(e entry) {
		if total++; len(list) < maxEntries {
			list = append(list, e)
		}
	}
	switch {
	case s.standard:
		for _, f := range strings.Fields(v) {
			ver, dig, ok := strings.Cut(f, ",")
			if !ok {
				ver, dig = "", f
			}
			add(entry{ver, dig})
		}
	case s.provider == "stripe":
		for _, item := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
			if ok && k == "t" {
				continue
			}
			if !ok {
				k, val = "", item
			}
			add(entry{k, val})
		}
	default:
		if v = strings.TrimSpace(v); v == "" {
			return nil, 0
		}
		if s.prefix != "" && strings.HasPrefix(v, s.prefix) {
			add(entry{strings.TrimRight(s.prefix, "=,:"), v[len(s.prefix):]})
		} else {
			add(entry{"", v})
		}
	}
	return list, total
}

// version is the version tag a valid entry carries ("v1" for Standard and Stripe).
func (s *scheme) version() string { return strings.TrimRight(s.prefix, "=,:") }

// encode writes a digest as the scheme does.
func (s *scheme) encode(d []byte) string {
	if s.hexSig {
		return fmt.Sprintf("%x", d)
	}
	return base64.StdEncoding.EncodeToString(d)
}

// encodingName is the name of the scheme's digest encoding.
func (s *scheme) encodingName() string {
	if s.hexSig {
		return "hex"
	}
	return "base64"
}

// markers are headers only one provider family sends, to tell where a request came from.
var markers = []struct {
	provider string
	header   string
}{
	{"standard", "Webhook-Signature"},
	{"svix", "Svix-Signature"},
	{"stripe", "Stripe-Signature"},
	{"github", "X-Hub-Signature-256"},
	{"github", "X-Hub-Signature"},
	{"github", "X-Github-Event"},
	{"shopify", "X-Shopify-Hmac-Sha256"},
	{"shopify", "X-Shopify-Topic"},
	{"slack", "X-Slack-Signature"},
	{"slack", "X-Slack-Request-Timestamp"},
}

// family is the provider whose headers p's requests carry: OpenAI sends Standard Webhooks headers.
func family(p string) string {
	if p == "openai" {
		return "standard"
	}
	return p
}

func headerValue(h http.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// lower is a header name as messages show it: lower case, cut, printable.
func lower(s string) string { return strings.ToLower(cut(s, maxNameInText)) }

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// decodeBase64 decodes standard base64 with or without padding, as the webhook package does.
func decodeBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
