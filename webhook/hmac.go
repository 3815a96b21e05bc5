package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/webhook/internal/jsonscan"
)

// HMACConfig describes a generic HMAC signature scheme for NewHMAC: a header carrying
// Prefix followed by the encoded HMAC of a template over the raw body and, optionally,
// a timestamp and an id sent in their own headers.
//
// For example, GitHub's scheme is
//
//	HMACConfig{Header: "X-Hub-Signature-256", Prefix: "sha256=", IDHeader: "X-GitHub-Delivery", TypeHeader: "X-GitHub-Event"}
//
// and Slack's is
//
//	HMACConfig{Header: "X-Slack-Signature", Prefix: "v0=", Template: "v0:{timestamp}:{body}", TimestampHeader: "X-Slack-Request-Timestamp"}
type HMACConfig struct {
	// Name is what Name returns and what errors are prefixed with; default "hmac".
	Name string
	// Secret is the HMAC key, used as raw bytes (never decoded). Required; use WithSecrets
	// to accept more keys during rotation.
	Secret string
	// Header is the name of the header that carries the signature. Required.
	Header string
	// Prefix is the literal text that precedes the signature in Header, such as "sha256=";
	// a header value without it is malformed. Default none.
	Prefix string
	// Encoding is how the digest is written: "hex" (default, lower case; upper-case digits
	// are accepted when verifying) or "base64" (standard alphabet with padding).
	Encoding string
	// Algorithm is the hash: "sha256" (default), "sha1" or "sha512".
	Algorithm string
	// Template is the signed content: the placeholders {body} (the raw request body,
	// exactly once), {timestamp} and {id} (the raw values of TimestampHeader and IDHeader),
	// and literal text in between, such as "{timestamp}.{body}". Default "{body}".
	Template string
	// TimestampHeader names the header with the signed send time in decimal unix seconds.
	// Required if Template uses {timestamp}, and only allowed then: an unsigned timestamp
	// would not protect against replays. Deliveries outside the tolerance are rejected.
	TimestampHeader string
	// IDHeader names the header with the delivery id, returned as Delivery.ID. Required if
	// Template uses {id}; otherwise optional, and the id is then an unsigned label.
	IDHeader string
	// TypeHeader names the header with the event type, returned as Delivery.Type (unsigned).
	// If empty, the type is the body's top-level "type" string, if any.
	TypeHeader string
}

// HMAC verifies and signs deliveries for a configurable HMAC scheme (see HMACConfig), for
// senders without a dedicated verifier in this package. An HMAC is safe for concurrent use.
type HMAC struct {
	name   string
	cfg    config
	keys   []*hmacKey
	enc    sigEncoding
	prefix string
	parts  []templatePart

	sigName, sigKey   string // as configured, and canonical for lookups
	tsName, tsKey     string // empty unless the template signs a timestamp
	idName, idKey     string // empty if no id header
	typeName, typeKey string // empty if the type comes from the body

	signsID bool // the template uses {id}

	// labels, if set, derives Delivery.ID and Type from the body instead of the headers.
	labels func(body []byte) (id, typ string)
}

var _ Provider = (*HMAC)(nil)

// templateField is what one part of a parsed HMACConfig.Template stands for.
type templateField uint8

const (
	fieldLiteral templateField = iota
	fieldBody
	fieldTimestamp
	fieldID
)

type templatePart struct {
	field templateField
	lit   string // for fieldLiteral
}

// NewHMAC returns a verifier and signer for the scheme cfg describes. Options apply as
// for the other providers: WithTolerance and WithClock for the timestamp check, WithSecrets
// for rotation (Sign uses cfg.Secret); WithTolerance and WithClock only with a
// TimestampHeader. Every configuration error wraps ErrInvalidConfig.
func NewHMAC(cfg HMACConfig, opts ...Option) (*HMAC, error) {
	if cfg.Name == "" {
		cfg.Name = "hmac"
	}
	allowed := optSecrets
	if cfg.TimestampHeader != "" {
		allowed |= optTolerance | optClock
	}
	return newHMAC(cfg, allowed, opts)
}

// newHMAC is NewHMAC with the options a provider built on it accepts.
func newHMAC(cfg HMACConfig, allowed optionSet, opts []Option) (*HMAC, error) {
	c, err := newConfigFor(cfg.Name, allowed, opts)
	if err != nil {
		return nil, err
	}
	h := &HMAC{name: cfg.Name, cfg: c, prefix: cfg.Prefix}
	invalid := func(format string, args ...any) error { return configError(cfg.Name, format, args...) }

	var newHash func() hash.Hash
	switch strings.ToLower(cfg.Algorithm) {
	case "", "sha256":
		newHash = sha256.New
	case "sha1":
		newHash = sha1.New
	case "sha512":
		newHash = sha512.New
	default:
		return nil, invalid("algorithm %q, want sha256, sha1 or sha512", cfg.Algorithm)
	}
	switch strings.ToLower(cfg.Encoding) {
	case "", "hex":
		h.enc = encodingHex
	case "base64":
		h.enc = encodingBase64
	default:
		return nil, invalid("encoding %q, want hex or base64", cfg.Encoding)
	}

	if cfg.Template == "" {
		cfg.Template = "{body}"
	}
	parts, err := parseTemplate(cfg.Template)
	if err != nil {
		return nil, invalid("%v", err)
	}
	h.parts = parts
	var signsTS bool
	for _, p := range parts {
		signsTS = signsTS || p.field == fieldTimestamp
		h.signsID = h.signsID || p.field == fieldID
	}

	switch {
	case cfg.Header == "":
		return nil, invalid("Header is required")
	case signsTS && cfg.TimestampHeader == "":
		return nil, invalid("template %q needs TimestampHeader", cfg.Template)
	case !signsTS && cfg.TimestampHeader != "":
		return nil, invalid("TimestampHeader is set but template %q does not sign {timestamp}", cfg.Template)
	case h.signsID && cfg.IDHeader == "":
		return nil, invalid("template %q needs IDHeader", cfg.Template)
	}
	for _, hd := range [...]struct{ field, name string }{
		{"Header", cfg.Header},
		{"TimestampHeader", cfg.TimestampHeader},
		{"IDHeader", cfg.IDHeader},
		{"TypeHeader", cfg.TypeHeader},
	} {
		if hd.name != "" && !validHeaderName(hd.name) {
			return nil, invalid("%s %q is not a valid header name", hd.field, hd.name)
		}
	}
	h.sigName, h.sigKey = cfg.Header, textproto.CanonicalMIMEHeaderKey(cfg.Header)
	if cfg.TimestampHeader != "" {
		h.tsName, h.tsKey = cfg.TimestampHeader, textproto.CanonicalMIMEHeaderKey(cfg.TimestampHeader)
	}
	if cfg.IDHeader != "" {
		h.idName, h.idKey = cfg.IDHeader, textproto.CanonicalMIMEHeaderKey(cfg.IDHeader)
	}
	if cfg.TypeHeader != "" {
		h.typeName, h.typeKey = cfg.TypeHeader, textproto.CanonicalMIMEHeaderKey(cfg.TypeHeader)
	}
	if h.sigKey == h.tsKey || h.sigKey == h.idKey || (h.tsKey != "" && h.tsKey == h.idKey) {
		return nil, invalid("Header, TimestampHeader and IDHeader must differ")
	}

	h.keys, err = rawHMACKeys(cfg.Name, newHash, cfg.Secret, h.cfg.extraSecrets)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// parseTemplate splits an HMACConfig.Template into literal text and placeholders.
func parseTemplate(t string) ([]templatePart, error) {
	var parts []templatePart
	bodies := 0
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			parts = append(parts, templatePart{lit: t})
			break
		}
		if i > 0 {
			parts = append(parts, templatePart{lit: t[:i]})
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("template: unterminated placeholder %q", t[i:])
		}
		switch name := t[i+1 : i+j]; name {
		case "body":
			parts = append(parts, templatePart{field: fieldBody})
			bodies++
		case "timestamp":
			parts = append(parts, templatePart{field: fieldTimestamp})
		case "id":
			parts = append(parts, templatePart{field: fieldID})
		default:
			return nil, fmt.Errorf("template: unknown placeholder {%s}, want {body}, {timestamp} or {id}", name)
		}
		t = t[i+j+1:]
	}
	if bodies != 1 {
		return nil, fmt.Errorf("template must contain {body} exactly once, found %d", bodies)
	}
	return parts, nil
}

// validHeaderName reports whether s is a non-empty RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// Name returns the configured name ("hmac" by default).
func (h *HMAC) Name() string { return h.name }

// Verify authenticates body against the configured signature header and returns the id,
// type and (signed) timestamp the headers carry.
func (h *HMAC) Verify(body []byte, header http.Header) (Delivery, error) {
	v := headerValue(header, h.sigKey)
	if v == "" {
		return Delivery{}, missingHeader(h.sigName)
	}
	sig, ok := strings.CutPrefix(v, h.prefix)
	if !ok {
		return Delivery{}, malformedHeader(h.sigName, fmt.Sprintf("want %q and a signature", h.prefix))
	}
	var d Delivery
	if h.idKey != "" {
		d.ID = headerValue(header, h.idKey)
		if d.ID == "" && h.signsID {
			return Delivery{}, missingHeader(h.idName)
		}
	}
	var ts string
	if h.tsKey != "" {
		if ts = headerValue(header, h.tsKey); ts == "" {
			return Delivery{}, missingHeader(h.tsName)
		}
		unix, ok := parseUnix(ts)
		if !ok {
			return Delivery{}, malformedHeader(h.tsName, "want unix seconds")
		}
		d.Timestamp = time.Unix(unix, 0)
		if err := h.cfg.checkTimestamp(d.Timestamp); err != nil {
			return Delivery{}, timestampError(h.tsName, err)
		}
	}
	fill := func(st *macState) { h.content(st, d.ID, ts, body) }
	if !matchAny(h.keys, h.enc, fill, func(want []byte) bool { return equalSignature(want, sig, h.enc) }) {
		return Delivery{}, noMatchingSignature(h.sigName)
	}
	switch {
	case h.labels != nil:
		d.ID, d.Type = h.labels(body)
	case h.typeKey != "":
		d.Type = headerValue(header, h.typeKey)
	default:
		d.Type, _ = jsonscan.TopLevelString(body, "type")
	}
	return d, nil
}

// content writes the signed content for one delivery into st.
func (h *HMAC) content(st *macState, id, ts string, body []byte) {
	for _, p := range h.parts {
		switch p.field {
		case fieldBody:
			st.write(body)
		case fieldTimestamp:
			st.text(ts)
		case fieldID:
			st.text(id)
		default:
			st.text(p.lit)
		}
	}
}

// Sign returns the signature header for body signed with the first secret, the id header
// (d.ID, or a fresh "msg_" id if empty), the timestamp header (d.Timestamp, or now if zero),
// the type header if d.Type is set, and Content-Type: application/json.
func (h *HMAC) Sign(d Delivery, body []byte) (http.Header, error) {
	hdr := make(http.Header, 5)
	if h.idKey != "" {
		if d.ID == "" {
			d.ID = NewMessageID()
		}
		hdr[h.idKey] = []string{d.ID}
	}
	var ts string
	if h.tsKey != "" {
		if d.Timestamp.IsZero() {
			d.Timestamp = h.cfg.now()
		}
		ts = strconv.FormatInt(d.Timestamp.Unix(), 10)
		hdr[h.tsKey] = []string{ts}
	}
	if h.typeKey != "" && d.Type != "" {
		hdr[h.typeKey] = []string{d.Type}
	}
	sig := h.keys[0].signature(h.enc, func(st *macState) { h.content(st, d.ID, ts, body) })
	hdr[h.sigKey] = []string{h.prefix + sig}
	hdr["Content-Type"] = []string{"application/json"}
	return hdr, nil
}

// Helpers shared by every HMAC-based verifier in the package.

// hmacKey keeps keyed HMAC states in a pool so that signing and verifying do not
// re-derive the inner and outer pads, nor allocate, on every call.
type hmacKey struct {
	key  []byte
	pool sync.Pool
}

// macState is one pooled HMAC computation: content is gathered in buf (header values,
// separators) and written to mac around the body, which is never copied.
type macState struct {
	mac hash.Hash
	buf []byte
	sum [sha512.Size]byte
	enc [2 * sha512.Size]byte // room for hex or base64 of the largest supported digest
}

// sigEncoding is how a digest is written in a header.
type sigEncoding uint8

const (
	encodingHex sigEncoding = iota
	encodingBase64
)

// newHMACKey returns a pooled HMAC-SHA256 key.
func newHMACKey(key []byte) *hmacKey { return newHMACKeyHash(sha256.New, key) }

// newHMACKeyHash returns a pooled HMAC key for any hash.
func newHMACKeyHash(newHash func() hash.Hash, key []byte) *hmacKey {
	k := &hmacKey{key: key}
	k.pool.New = func() any {
		return &macState{mac: hmac.New(newHash, k.key), buf: make([]byte, 0, 64)}
	}
	return k
}

func (k *hmacKey) get() *macState  { return k.pool.Get().(*macState) }
func (k *hmacKey) put(s *macState) { k.pool.Put(s) }

// signature returns the encoded HMAC of the content fill writes.
func (k *hmacKey) signature(enc sigEncoding, fill func(*macState)) string {
	st := k.get()
	defer k.put(st)
	st.reset()
	fill(st)
	return string(st.encoded(enc))
}

// reset starts a new computation.
func (s *macState) reset() {
	s.mac.Reset()
	s.buf = s.buf[:0]
}

// text appends strings to the signed content.
func (s *macState) text(parts ...string) {
	for _, p := range parts {
		s.buf = append(s.buf, p...)
	}
}

// write appends b to the signed content without copying it.
func (s *macState) write(b []byte) {
	s.flush()
	s.mac.Write(b)
}

func (s *macState) flush() {
	if len(s.buf) > 0 {
		s.mac.Write(s.buf)
		s.buf = s.buf[:0]
	}
}

// encoded finishes the computation and returns the encoded digest; the result aliases s
// and is valid until the state is put back.
func (s *macState) encoded(enc sigEncoding) []byte {
	s.flush()
	sum := s.mac.Sum(s.sum[:0])
	if enc == encodingBase64 {
		n := base64.StdEncoding.EncodedLen(len(sum))
		base64.StdEncoding.Encode(s.enc[:n], sum)
		return s.enc[:n]
	}
	return s.enc[:hex.Encode(s.enc[:], sum)]
}

// matchAny computes the expected signature under every key, with fill writing the signed
// content, and reports whether accept takes any of them. Every key is tried, so the time
// taken does not depend on which one matched.
func matchAny(keys []*hmacKey, enc sigEncoding, fill func(*macState), accept func(want []byte) bool) bool {
	found := false
	for _, k := range keys {
		st := k.get()
		st.reset()
		fill(st)
		if accept(st.encoded(enc)) {
			found = true
		}
		k.put(st)
	}
	return found
}

// equalSignature compares a computed signature with a received one in time that depends
// only on their lengths. Hex digests are compared ignoring the case of the received digits.
func equalSignature(want []byte, got string, enc sigEncoding) bool {
	if enc != encodingHex {
		return constantTimeEqual(want, got)
	}
	if len(want) != len(got) {
		return false
	}
	var v byte
	for i := 0; i < len(want); i++ {
		c := got[i]
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		v |= want[i] ^ c
	}
	return subtle.ConstantTimeByteEq(v, 0) == 1
}

// rawHMACKeys returns pooled keys for secret and the WithSecrets extras, each used as raw bytes.
func rawHMACKeys(provider string, newHash func() hash.Hash, secret string, extra []string) ([]*hmacKey, error) {
	keys := make([]*hmacKey, 0, 1+len(extra))
	for i, s := range append([]string{secret}, extra...) {
		if s == "" {
			return nil, configError(provider, "secret %d is empty", i+1)
		}
		if err := refuseEd25519Key(provider, s); err != nil {
			return nil, err
		}
		keys = append(keys, newHMACKeyHash(newHash, []byte(s)))
	}
	return keys, nil
}

// refuseEd25519Key refuses a Standard Webhooks Ed25519 key given to a provider that
// signs with HMAC, naming the constructor that can use it.
func refuseEd25519Key(provider, secret string) error {
	if strings.HasPrefix(secret, prefixPrivateKey) || strings.HasPrefix(secret, prefixPublicKey) {
		return configError(provider, "%s signs with HMAC, so a %s Ed25519 key cannot verify it; use NewStandard for v1a (Ed25519) signatures, or pass the provider's HMAC secret",
			provider, secret[:strings.IndexByte(secret, '_')+1])
	}
	return nil
}

func noMatchingSignature(header string) error {
	return fmt.Errorf("%w in %s", ErrNoMatchingSignature, header)
}

func timestampError(header string, err error) error {
	return fmt.Errorf("%s: %w", header, err)
}

// newUUID returns a random (version 4) UUID, the form GitHub and Shopify use for delivery ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
