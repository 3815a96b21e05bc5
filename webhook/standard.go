package webhook

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/webhook/internal/jsonscan"
)

// Standard Webhooks header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Signature version tags used in a webhook-signature header.
const (
	VersionHMAC    = "v1"
	VersionEd25519 = "v1a"
)

// Standard signs and verifies Standard Webhooks 1.0 deliveries (also used by OpenAI and Svix):
// the signed content is "{id}.{timestamp}.{raw body}", HMAC-SHA256 ("v1") or Ed25519 ("v1a"),
// one space-separated entry per key. A Standard is safe for concurrent use.
type Standard struct {
	name                   string
	cfg                    config
	idName, tsName, sgName string // as sent, lower case
	idKey, tsKey, sgKey    string // canonical form, for allocation-free lookups
	hmacKeys               []*hmacKey
	edPrivate              []ed25519.PrivateKey
	edPublic               []ed25519.PublicKey
}

// NewStandard returns a Standard Webhooks signer/verifier for secret: "whsec_" (HMAC,
// v1), "whsk_" (Ed25519 signing key, v1a) or "whpk_" (Ed25519 public key, v1a, verify
// only). A secret without a prefix is taken as base64 of an HMAC key, as the reference
// library does. Options: WithSecrets (rotation), WithTolerance, WithClock, WithHeaderNames.
func NewStandard(secret string, opts ...Option) (*Standard, error) {
	return newStandard("standard", secret, parseStandardSecret, optTolerance|optClock|optSecrets|optHeaderNames, opts)
}

// NewSvix returns a Standard verifier for Svix, which uses the headers svix-id,
// svix-timestamp and svix-signature. Secrets and options are as for NewStandard,
// except WithHeaderNames.
func NewSvix(secret string, opts ...Option) (*Standard, error) {
	s, err := newStandard("svix", secret, parseStandardSecret, optTolerance|optClock|optSecrets, opts)
	if err != nil {
		return nil, err
	}
	s.setHeaderNames("svix-id", "svix-timestamp", "svix-signature")
	return s, nil
}

// NewOpenAI returns a verifier for OpenAI webhooks. It follows the official SDK's secret
// handling: a "whsec_" secret is base64-decoded, a secret without the prefix is used as
// raw bytes. OpenAI signs with HMAC only, so Ed25519 keys are refused. Options:
// WithSecrets (rotation), WithTolerance, WithClock.
func NewOpenAI(secret string, opts ...Option) (*Standard, error) {
	return newStandard("openai", secret, parseOpenAISecret, optTolerance|optClock|optSecrets, opts)
}

// NewStandardKeys returns a Standard signer/verifier for already-parsed keys; it is the
// form a sender uses to sign with every active key of an endpoint, HMAC and Ed25519 alike.
// Options: WithTolerance, WithClock, WithHeaderNames.
func NewStandardKeys(keys []Secret, opts ...Option) (*Standard, error) {
	cfg, err := newConfigFor("standard", optTolerance|optClock|optHeaderNames, opts)
	if err != nil {
		return nil, err
	}
	s := &Standard{name: "standard", cfg: cfg}
	if err := s.init(keys); err != nil {
		return nil, err
	}
	return s, nil
}

func newStandard(name, secret string, parse func(string) (Secret, error), allowed optionSet, opts []Option) (*Standard, error) {
	cfg, err := newConfigFor(name, allowed, opts)
	if err != nil {
		return nil, err
	}
	s := &Standard{name: name, cfg: cfg}
	var keys []Secret
	for i, str := range append([]string{secret}, s.cfg.extraSecrets...) {
		k, err := parse(str)
		if err != nil {
			return nil, fmt.Errorf("%s secret %d: %w", name, i+1, err)
		}
		keys = append(keys, k)
	}
	if err := s.init(keys); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Standard) init(keys []Secret) error {
	if len(keys) == 0 {
		return configError(s.name, "no keys")
	}
	if s.cfg.idHeader == "" {
		s.setHeaderNames(HeaderID, HeaderTimestamp, HeaderSignature)
	} else {
		for _, h := range []string{s.cfg.idHeader, s.cfg.tsHeader, s.cfg.sigHeader} {
			if !validHeaderName(h) {
				return configError(s.name, "WithHeaderNames: %q is not a valid header name", h)
			}
		}
		s.setHeaderNames(s.cfg.idHeader, s.cfg.tsHeader, s.cfg.sigHeader)
	}
	for _, k := range keys {
		switch k.kind {
		case HMACKey:
			if len(k.key) == 0 {
				return configError(s.name, "empty hmac key")
			}
			s.hmacKeys = append(s.hmacKeys, newHMACKey(k.key))
		case Ed25519PrivateKey:
			s.edPrivate = append(s.edPrivate, ed25519.PrivateKey(k.key))
			s.edPublic = append(s.edPublic, ed25519.PrivateKey(k.key).Public().(ed25519.PublicKey))
		case Ed25519PublicKey:
			s.edPublic = append(s.edPublic, ed25519.PublicKey(k.key))
		default:
			return configError(s.name, "zero Secret")
		}
	}
	return nil
}

// setHeaderNames sets the id, timestamp and signature header names.
func (s *Standard) setHeaderNames(id, ts, sig string) {
	s.idName, s.tsName, s.sgName = strings.ToLower(id), strings.ToLower(ts), strings.ToLower(sig)
	s.idKey = textproto.CanonicalMIMEHeaderKey(s.idName)
	s.tsKey = textproto.CanonicalMIMEHeaderKey(s.tsName)
	s.sgKey = textproto.CanonicalMIMEHeaderKey(s.sgName)
}

func parseStandardSecret(s string) (Secret, error) {
	if strings.HasPrefix(s, prefixHMAC) || strings.HasPrefix(s, prefixPrivateKey) || strings.HasPrefix(s, prefixPublicKey) {
		return ParseSecret(s)
	}
	key, err := decodeBase64(strings.TrimSpace(s))
	if err != nil || len(key) == 0 {
		return Secret{}, configError("secret", "want whsec_, whsk_, whpk_ or base64")
	}
	return Secret{kind: HMACKey, key: key}, nil
}

func parseOpenAISecret(s string) (Secret, error) {
	if strings.HasPrefix(s, prefixHMAC) {
		return ParseSecret(s)
	}
	if err := refuseEd25519Key("openai", s); err != nil {
		return Secret{}, err
	}
	if s == "" {
		return Secret{}, configError("secret", "empty")
	}
	return hmacSecretFromBytes([]byte(s)), nil
}

// Name returns "standard", "svix" or "openai".
func (s *Standard) Name() string { return s.name }

// Verify authenticates a Standard Webhooks delivery and returns its id, timestamp and
// the body's top-level "type" member. At least one signature entry must match one key.
func (s *Standard) Verify(body []byte, header http.Header) (Delivery, error) {
	id := headerValue(header, s.idKey)
	if id == "" {
		return Delivery{}, missingHeader(s.idName)
	}
	if strings.IndexByte(id, '.') >= 0 {
		return Delivery{}, malformedHeader(s.idName, "must not contain '.'")
	}
	tsRaw := headerValue(header, s.tsKey)
	if tsRaw == "" {
		return Delivery{}, missingHeader(s.tsName)
	}
	sigs := headerValue(header, s.sgKey)
	if sigs == "" {
		return Delivery{}, missingHeader(s.sgName)
	}
	unix, ok := parseUnix(tsRaw)
	if !ok {
		return Delivery{}, malformedHeader(s.tsName, "want unix seconds")
	}
	ts := time.Unix(unix, 0)
	if err := s.cfg.checkTimestamp(ts); err != nil {
		return Delivery{}, err
	}
	if !s.match(id, tsRaw, body, sigs) {
		return Delivery{}, ErrNoMatchingSignature
	}
	d := Delivery{ID: id, Timestamp: ts}
	d.Type, _ = jsonscan.TopLevelString(body, "type")
	return d, nil
}

// match reports whether any entry in the signature header verifies under any key.
func (s *Standard) match(id, ts string, body []byte, sigs string) bool {
	for _, k := range s.hmacKeys {
		st := k.get()
		expected := st.sign(id, ts, body)
		found := false
		for rest := sigs; rest != ""; {
			var entry string
			entry, rest = nextField(rest)
			if sig, ok := strings.CutPrefix(entry, VersionHMAC+","); ok && constantTimeEqual(expected, sig) {
				found = true // keep scanning: time should not depend on which entry matched
			}
		}
		k.put(st)
		if found {
			return true
		}
	}
	if len(s.edPublic) == 0 || !strings.Contains(sigs, VersionEd25519+",") {
		return false
	}
	msg := signedContent(id, ts, body)
	var raw [ed25519.SignatureSize]byte
	for rest := sigs; rest != ""; {
		var entry string
		entry, rest = nextField(rest)
		sig, ok := strings.CutPrefix(entry, VersionEd25519+",")
		if !ok || base64.StdEncoding.DecodedLen(len(sig)) < ed25519.SignatureSize {
			continue
		}
		if n, err := base64.StdEncoding.Decode(raw[:], []byte(sig)); err != nil || n != ed25519.SignatureSize {
			continue
		}
		for _, pub := range s.edPublic {
			if ed25519.Verify(pub, msg, raw[:]) {
				return true
			}
		}
	}
	return false
}

// nextField returns the first space-separated field of s and what follows it, like one
// step of strings.Fields without the allocations an iterator costs before Go 1.25.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// SignatureHeader returns the webhook-signature value for one delivery: one entry per
// signing key, space-separated, HMAC entries first.
func (s *Standard) SignatureHeader(id string, ts time.Time, body []byte) (string, error) {
	if id == "" || strings.IndexByte(id, '.') >= 0 {
		return "", fmt.Errorf("sign: id %q must be non-empty and contain no '.'", id)
	}
	if len(s.hmacKeys) == 0 && len(s.edPrivate) == 0 {
		return "", configError(s.name, "cannot sign with only public (whpk_) keys")
	}
	tsRaw := strconv.FormatInt(ts.Unix(), 10)
	var b strings.Builder
	b.Grow((len(s.hmacKeys) + len(s.edPrivate)) * 92)
	for _, k := range s.hmacKeys {
		st := k.get()
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(VersionHMAC + ",")
		b.Write(st.sign(id, tsRaw, body))
		k.put(st)
	}
	if len(s.edPrivate) > 0 {
		msg := signedContent(id, tsRaw, body)
		for _, priv := range s.edPrivate {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(VersionEd25519 + ",")
			b.WriteString(base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg)))
		}
	}
	return b.String(), nil
}

// Sign returns the three Standard Webhooks headers for body. A zero d.Timestamp means now;
// an empty d.ID gets a fresh random "msg_" id.
func (s *Standard) Sign(d Delivery, body []byte) (http.Header, error) {
	if d.ID == "" {
		d.ID = NewMessageID()
	}
	if d.Timestamp.IsZero() {
		d.Timestamp = s.cfg.now()
	}
	sig, err := s.SignatureHeader(d.ID, d.Timestamp, body)
	if err != nil {
		return nil, err
	}
	h := make(http.Header, 4)
	h[s.idKey] = []string{d.ID}
	h[s.tsKey] = []string{strconv.FormatInt(d.Timestamp.Unix(), 10)}
	h[s.sgKey] = []string{sig}
	h["Content-Type"] = []string{"application/json"}
	return h, nil
}

// NewMessageID returns a random, URL-safe delivery id such as "msg_2Zk1...".
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "msg_" + base64.RawURLEncoding.EncodeToString(b[:])
}

func signedContent(id, ts string, body []byte) []byte {
	msg := make([]byte, 0, len(id)+len(ts)+2+len(body))
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = append(msg, ts...)
	msg = append(msg, '.')
	return append(msg, body...)
}

// parseUnix accepts only canonical decimal seconds (no sign, no leading zeros), so that
// every implementation that re-formats the integer signs the same bytes as one that
// signs the raw header string.
func parseUnix(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// constantTimeEqual compares a computed signature with a received one in time that
// depends only on their lengths.
func constantTimeEqual(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return subtle.ConstantTimeByteEq(v, 0) == 1
}

// sign returns base64(HMAC-SHA256(key, id.ts.body)); the result aliases s and is valid until put.
func (s *macState) sign(id, ts string, body []byte) []byte {
	s.reset()
	s.text(id, ".", ts, ".")
	s.write(body)
	return s.encoded(encodingBase64)
}
