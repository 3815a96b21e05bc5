package diagnose

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// wrongKinds are secrets that are not webhook signing secrets at all, by prefix.
var wrongKinds = []struct {
	prefixes []string
	what     string
	hint     string
}{
	{[]string{"whpk_"}, "a Standard Webhooks Ed25519 public key (whpk_)",
		"An HMAC scheme needs the shared secret both sides hold, not a public key: use the sender's whsec_ secret, or choose provider standard if the sender signs with Ed25519 (v1a)."},
	{[]string{"whsk_"}, "a Standard Webhooks Ed25519 signing key (whsk_)",
		"An HMAC scheme needs the shared secret both sides hold; an Ed25519 signing key belongs to the sender: use its whsec_ secret, or verify v1a signatures with provider standard and the public key (whpk_)."},
	{[]string{"-----BEGIN"}, "a PEM key",
		"An HMAC scheme needs the shared signing secret, not a public or private key."},
	{[]string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_"}, "a Stripe API key",
		"Use the endpoint's signing secret (whsec_...): Stripe Dashboard > Developers > Webhooks > the endpoint > Signing secret, or the one `stripe listen` prints."},
	{[]string{"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-"}, "an OpenAI API key",
		"Use the webhook's signing secret (whsec_...), shown once when the webhook endpoint was created in the OpenAI dashboard."},
	{[]string{"xoxb-", "xoxp-", "xoxa-", "xoxe", "xapp-"}, "a Slack token",
		"Use the app's Signing Secret: api.slack.com/apps > the app > Basic Information > App Credentials (the older verification token is not it either)."},
	{[]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, "a GitHub token",
		"Use the secret typed into the webhook's settings (the repository's or organisation's Settings > Webhooks > the webhook > Secret)."},
	{[]string{"shpat_", "shpca_", "shppa_"}, "a Shopify access token",
		"Use the app's client secret (API secret key): Shopify signs webhooks with it."},
}

// secretKind returns a finding for a secret that is not a signing secret for the scheme.
func (s *scheme) secretKind(secret string, name string) *Finding {
	t := strings.TrimSpace(secret)
	for _, k := range wrongKinds {
		if !hasAnyPrefix(t, k.prefixes...) {
			continue
		}
		if (s.provider == "standard" || s.provider == "svix") && (k.prefixes[0] == "whpk_" || k.prefixes[0] == "whsk_") {
			return nil // Ed25519 keys are right for v1a signatures
		}
		return &Finding{Code: CodeSecretKind, Message: fmt.Sprintf("%s is %s, not the webhook signing secret provider %s needs.", capitalize(name), k.what, s.provider), Hint: k.hint}
	}
	return nil
}

// secretFormat returns a weak finding for a secret that looks like another provider's:
// worth saying only when nothing better explains the failure.
func (s *scheme) secretFormat(secret, name string) *Finding {
	t := strings.TrimSpace(secret)
	hasPrefix := strings.HasPrefix(t, "whsec_")
	var msg, hint string
	switch s.provider {
	case "stripe":
		if !hasPrefix {
			msg = name + " does not start with whsec_, as Stripe's endpoint signing secrets do."
			hint = "Copy the endpoint's whole signing secret, whsec_ included: Stripe signs with the full string."
		}
	case "openai":
		if !hasPrefix {
			msg = name + " does not start with whsec_, as OpenAI's webhook signing secrets do."
			hint = "Copy the whole secret, whsec_ included: without the prefix it is used as text, not decoded."
		}
	case "slack":
		if !isHex(t) || len(t) != 32 {
			msg = name + " is not 32 hexadecimal digits, as Slack's signing secrets are."
			hint = "Use the app's Signing Secret from api.slack.com/apps > the app > Basic Information."
		}
	case "github", "shopify":
		if hasPrefix {
			msg = name + " looks like a Standard Webhooks or Stripe secret (whsec_), not one from " + s.label() + "."
			hint = "Check that it is the secret this " + s.label() + " webhook was set up with."
		}
	}
	if msg == "" {
		return nil
	}
	return &Finding{Code: CodeSecretKind, Message: capitalize(msg), Hint: hint}
}

// secretCandidate is a key the sender may have made from the configured secret.
type secretCandidate struct {
	key  []byte
	what string // completes "the signature was made with <secret> ..."
	hint string
}

// secretCandidates returns the keys a sender may have made from secret, other than
// the one the scheme makes (configured).
func (s *scheme) secretCandidates(secret string, configured []byte) []secretCandidate {
	var out []secretCandidate
	seen := [][]byte{configured}
	add := func(key []byte, what, hint string) {
		if len(key) == 0 {
			return
		}
		for _, k := range seen {
			if bytes.Equal(k, key) {
				return
			}
		}
		seen = append(seen, key)
		out = append(out, secretCandidate{key, what, hint})
	}
	trimmed := strings.Trim(strings.TrimSpace(secret), `"'`)
	if trimmed != secret {
		if k, ok := s.keyOf(trimmed); ok {
			add(k, "without the whitespace or quotes around it", "Remove the whitespace or quotes around the configured secret (a newline from a file, quotes from a .env file).")
		}
	}
	body, prefixed := strings.CutPrefix(trimmed, "whsec_")
	add([]byte(secret), "used as text, byte for byte, not decoded from base64",
		"The sender uses the secret string itself as the HMAC key, as Stripe, GitHub, Shopify and Slack do; Standard Webhooks decodes the part after whsec_. If the sender is Stripe, choose provider stripe; an OpenAI secret given without whsec_ needs provider openai.")
	if k, err := decodeBase64(body); err == nil {
		add(k, "decoded from base64", s.decodedHint(prefixed))
	} else if k, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(body, "=")); err == nil {
		add(k, "decoded from URL-safe base64", "The sender decodes the secret as URL-safe base64; use a verifier that does the same, or the sender's key in standard base64 (whsec_...).")
	}
	if prefixed {
		add([]byte(body), "without its whsec_ prefix, as text",
			"The sender signs with the secret minus its whsec_ prefix: configure the secret as the sender uses it, or fix the sender.")
	} else {
		add([]byte("whsec_"+trimmed), "plus a whsec_ prefix, which the configured secret lacks",
			"Copy the whole secret, whsec_ included: Stripe signs with the full string.")
	}
	if isHex(body) && len(body)%2 == 0 {
		k, _ := hex.DecodeString(body)
		add(k, "decoded from hexadecimal", "The sender hex-decodes the secret before using it; configure the verifier to do the same, or fix the sender.")
	}
	return out
}

// decodedHint says what to do when the sender decoded a secret the scheme uses as text.
func (s *scheme) decodedHint(prefixed bool) string {
	switch {
	case s.provider == "openai" && !prefixed:
		return "Give the secret with its whsec_ prefix, exactly as OpenAI shows it: without the prefix it is used as text."
	case s.provider == "stripe":
		return "Stripe signs with the whole whsec_ string as text; a sender that decodes it signs like Standard Webhooks: choose provider standard (or svix)."
	}
	return "The sender decodes the secret from base64, as Standard Webhooks does: if it is a Standard Webhooks sender, choose provider standard; otherwise configure the secret as the sender uses it."
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
