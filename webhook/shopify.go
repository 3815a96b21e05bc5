package webhook

import (
	"net/http"
	"time"
)

// shopifyTriggeredAt is the canonical form of the header with Shopify's (unsigned) send time.
const shopifyTriggeredAt = "X-Shopify-Triggered-At"

// Shopify verifies and signs Shopify webhook deliveries: X-Shopify-Hmac-Sha256 is the
// base64 HMAC-SHA256 of the raw body, keyed with the app's client secret as raw bytes.
//
// Shopify signs no timestamp, so a captured delivery can be replayed; deduplicate on
// Delivery.ID (X-Shopify-Webhook-Id), which, like the topic, is not itself signed.
// A Shopify is safe for concurrent use.
type Shopify struct {
	h *HMAC
}

var _ Provider = (*Shopify)(nil)

// NewShopify returns a Shopify verifier for a client secret. Use WithSecrets to accept more
// secrets during rotation; Sign uses secret. Shopify signs no timestamp, so WithTolerance
// is refused; WithClock sets the unsigned X-Shopify-Triggered-At that Sign sends.
func NewShopify(secret string, opts ...Option) (*Shopify, error) {
	h, err := newHMAC(HMACConfig{
		Name:       "shopify",
		Secret:     secret,
		Header:     "X-Shopify-Hmac-Sha256",
		Encoding:   "base64",
		IDHeader:   "X-Shopify-Webhook-Id",
		TypeHeader: "X-Shopify-Topic",
	}, optSecrets|optClock, opts)
	if err != nil {
		return nil, err
	}
	return &Shopify{h: h}, nil
}

// Name returns "shopify".
func (s *Shopify) Name() string { return "shopify" }

// Verify authenticates a Shopify delivery and returns its X-Shopify-Webhook-Id id and
// X-Shopify-Topic type ("orders/create", ...), each empty if the header is absent.
// The timestamp is zero: X-Shopify-Triggered-At is not signed.
func (s *Shopify) Verify(body []byte, header http.Header) (Delivery, error) {
	return s.h.Verify(body, header)
}

// Sign returns the headers Shopify sends with body: X-Shopify-Hmac-Sha256,
// X-Shopify-Webhook-Id (d.ID, or a fresh UUID if empty), X-Shopify-Topic (d.Type, if set),
// X-Shopify-Triggered-At (d.Timestamp, or now if zero), Content-Type and User-Agent.
func (s *Shopify) Sign(d Delivery, body []byte) (http.Header, error) {
	if d.ID == "" {
		d.ID = newUUID()
	}
	if d.Timestamp.IsZero() {
		d.Timestamp = s.h.cfg.now()
	}
	h, err := s.h.Sign(d, body)
	if err != nil {
		return nil, err
	}
	h[shopifyTriggeredAt] = []string{d.Timestamp.UTC().Format(time.RFC3339Nano)}
	h["User-Agent"] = []string{"Shopify-Captain-Hook"}
	return h, nil
}
