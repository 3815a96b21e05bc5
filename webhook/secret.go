package webhook

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
)

// SecretKind says what a Secret is used for.
type SecretKind uint8

const (
	// HMACKey is a symmetric Standard Webhooks secret ("whsec_"), used for v1 signatures.
	HMACKey SecretKind = iota + 1
	// Ed25519PrivateKey is an asymmetric signing key ("whsk_"), used for v1a signatures.
	Ed25519PrivateKey
	// Ed25519PublicKey is an asymmetric verification key ("whpk_"), used for v1a signatures.
	Ed25519PublicKey
)

// Secret prefixes defined by Standard Webhooks.
const (
	prefixHMAC       = "whsec_"
	prefixPrivateKey = "whsk_"
	prefixPublicKey  = "whpk_"
)

// Bounds on the decoded length of an HMAC secret, from the Standard Webhooks spec.
const (
	minHMACKeyLen = 24
	maxHMACKeyLen = 64
)

// String returns the prefix-free name of the kind ("hmac", "ed25519-private", "ed25519-public").
func (k SecretKind) String() string {
	switch k {
	case HMACKey:
		return "hmac"
	case Ed25519PrivateKey:
		return "ed25519-private"
	case Ed25519PublicKey:
		return "ed25519-public"
	}
	return fmt.Sprintf("SecretKind(%d)", uint8(k))
}

// Secret is one Standard Webhooks key: an HMAC secret or one half of an Ed25519 key pair.
// The zero Secret is invalid.
//
// A Secret never prints its key: fmt (every verb), log/slog and String show a redacted
// form such as "whsec_…a1b2". Reveal returns the full encoding, to store or to hand over.
type Secret struct {
	kind SecretKind
	key  []byte // HMAC key bytes, ed25519.PrivateKey (64 bytes) or ed25519.PublicKey (32 bytes)
}

// NewHMACSecret generates a random 32-byte HMAC secret.
func NewHMACSecret() Secret {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	return Secret{kind: HMACKey, key: key}
}

// NewEd25519Key generates a random Ed25519 signing key; Public returns its verification half.
func NewEd25519Key() Secret {
	_, priv, _ := ed25519.GenerateKey(rand.Reader) // never fails with crypto/rand
	return Secret{kind: Ed25519PrivateKey, key: priv}
}

// hmacSecretFromBytes wraps raw key bytes as an HMAC secret without length checks,
// for providers (such as OpenAI with an unprefixed secret) that use raw bytes as the key.
func hmacSecretFromBytes(key []byte) Secret {
	return Secret{kind: HMACKey, key: append([]byte(nil), key...)}
}

// ParseSecret parses a "whsec_", "whsk_" or "whpk_" secret.
// The body after the prefix is standard base64 (padding optional); errors wrap ErrInvalidConfig.
func ParseSecret(s string) (Secret, error) {
	s = strings.TrimSpace(s)
	var kind SecretKind
	var body string
	switch {
	case strings.HasPrefix(s, prefixHMAC):
		kind, body = HMACKey, s[len(prefixHMAC):]
	case strings.HasPrefix(s, prefixPrivateKey):
		kind, body = Ed25519PrivateKey, s[len(prefixPrivateKey):]
	case strings.HasPrefix(s, prefixPublicKey):
		kind, body = Ed25519PublicKey, s[len(prefixPublicKey):]
	default:
		return Secret{}, configError("secret", "want a whsec_, whsk_ or whpk_ prefix")
	}
	key, err := decodeBase64(body)
	if err != nil {
		return Secret{}, configError("secret", "%s body is not base64", kind)
	}
	switch kind {
	case HMACKey:
		if len(key) < minHMACKeyLen || len(key) > maxHMACKeyLen {
			return Secret{}, configError("secret", "hmac key is %d bytes, want %d to %d", len(key), minHMACKeyLen, maxHMACKeyLen)
		}
	case Ed25519PrivateKey:
		switch len(key) {
		case ed25519.SeedSize:
			key = ed25519.NewKeyFromSeed(key)
		case ed25519.PrivateKeySize:
			// Check that the public half matches the seed, so a corrupted key fails here, not at the receiver.
			if !ed25519.NewKeyFromSeed(key[:ed25519.SeedSize]).Equal(ed25519.PrivateKey(key)) {
				return Secret{}, configError("secret", "ed25519 private key halves do not match")
			}
		default:
			return Secret{}, configError("secret", "ed25519 private key is %d bytes, want 32 or 64", len(key))
		}
	case Ed25519PublicKey:
		if len(key) != ed25519.PublicKeySize {
			return Secret{}, configError("secret", "ed25519 public key is %d bytes, want 32", len(key))
		}
	}
	return Secret{kind: kind, key: key}, nil
}

// MustParseSecret is like ParseSecret but panics on error, for tests and constants.
func MustParseSecret(s string) Secret {
	sec, err := ParseSecret(s)
	if err != nil {
		panic(err)
	}
	return sec
}

// Kind reports what the secret is; zero for the zero Secret.
func (s Secret) Kind() SecretKind { return s.kind }

// IsZero reports whether s is the zero (invalid) Secret.
func (s Secret) IsZero() bool { return s.kind == 0 }

// Public returns the verification half of an Ed25519 key; other kinds are returned unchanged.
func (s Secret) Public() Secret {
	if s.kind != Ed25519PrivateKey {
		return s
	}
	pub := ed25519.PrivateKey(s.key).Public().(ed25519.PublicKey)
	return Secret{kind: Ed25519PublicKey, key: pub}
}

// Reveal returns the secret with its Standard Webhooks prefix and base64 key, the form
// ParseSecret reads and users paste into configuration. Keep it out of logs.
func (s Secret) Reveal() string {
	var prefix string
	switch s.kind {
	case HMACKey:
		prefix = prefixHMAC
	case Ed25519PrivateKey:
		prefix = prefixPrivateKey
	case Ed25519PublicKey:
		prefix = prefixPublicKey
	default:
		return ""
	}
	return prefix + base64.StdEncoding.EncodeToString(s.key)
}

// String returns the redacted form: the prefix, an ellipsis and the last four characters
// of the encoding ("whsec_…a1b2"), enough to tell keys apart. It is "" for the zero Secret.
func (s Secret) String() string {
	full := strings.TrimRight(s.Reveal(), "=")
	prefix, body, ok := strings.Cut(full, "_")
	if !ok {
		return ""
	}
	if len(body) > 4 {
		body = body[len(body)-4:]
	}
	return prefix + "_…" + body
}

// GoString returns the redacted form for %#v.
func (s Secret) GoString() string { return "webhook.Secret(" + s.String() + ")" }

// Format writes the redacted form for every fmt verb, so that no verb prints the key.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// LogValue implements slog.LogValuer with the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Equal reports whether two secrets are the same key.
func (s Secret) Equal(o Secret) bool {
	return s.kind == o.kind && string(s.key) == string(o.key)
}

func decodeBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
