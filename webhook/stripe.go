package webhook

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/webhook/internal/jsonscan"
)

// stripeSignature is the canonical form of Stripe's signature header name.
const stripeSignature = "Stripe-Signature"

// Stripe verifies and signs Stripe webhook deliveries. The Stripe-Signature header is
// "t=<unix>,v1=<hex>[,v1=<hex>...]", each v1 the hex HMAC-SHA256 of "{t}.{raw body}" keyed
// with the whole "whsec_..." endpoint secret as raw bytes (it is not decoded). A Stripe is
// safe for concurrent use.
type Stripe struct {
	cfg  config
	keys []*hmacKey
}

var _ Provider = (*Stripe)(nil)

// NewStripe returns a Stripe verifier for an endpoint secret ("whsec_..."). Deliveries whose
// timestamp is more than the tolerance (default 5 minutes) from now are rejected. Use
// WithSecrets to accept more secrets during rotation; Sign then signs with all of them.
// Options: WithSecrets, WithTolerance, WithClock.
func NewStripe(secret string, opts ...Option) (*Stripe, error) {
	cfg, err := newConfigFor("stripe", optTolerance|optClock|optSecrets, opts)
	if err != nil {
		return nil, err
	}
	s := &Stripe{cfg: cfg}
	keys, err := rawHMACKeys("stripe", sha256.New, secret, s.cfg.extraSecrets)
	if err != nil {
		return nil, err
	}
	s.keys = keys
	return s, nil
}

// Name returns "stripe".
func (s *Stripe) Name() string { return "stripe" }

// Verify authenticates a Stripe delivery. It accepts the delivery if any v1 entry matches
// any secret and ignores other schemes (v0); Delivery.ID and Type are the event's top-level
// "id" (evt_...) and "type" from the body, and Timestamp is t.
func (s *Stripe) Verify(body []byte, header http.Header) (Delivery, error) {
	v := headerValue(header, stripeSignature)
	if v == "" {
		return Delivery{}, missingHeader(stripeSignature)
	}
	ts, hasV1, err := parseStripeSignature(v)
	if err != nil {
		return Delivery{}, err
	}
	unix, ok := parseUnix(ts)
	if !ok {
		return Delivery{}, malformedHeader(stripeSignature, "t: want unix seconds")
	}
	d := Delivery{Timestamp: time.Unix(unix, 0)}
	if err := s.cfg.checkTimestamp(d.Timestamp); err != nil {
		return Delivery{}, timestampError(stripeSignature, err)
	}
	if !hasV1 {
		return Delivery{}, noMatchingSignature(stripeSignature + " (no v1 entry)")
	}
	fill := func(st *macState) {
		st.text(ts, ".")
		st.write(body)
	}
	accept := func(want []byte) bool {
		found := false
		for rest, more := v, true; more; {
			var item string
			item, rest, more = strings.Cut(rest, ",")
			if sig, ok := strings.CutPrefix(trimOWS(item), "v1="); ok && equalSignature(want, sig, encodingHex) {
				found = true // keep scanning: time should not depend on which entry matched
			}
		}
		return found
	}
	if !matchAny(s.keys, encodingHex, fill, accept) {
		return Delivery{}, noMatchingSignature(stripeSignature)
	}
	d.ID, _ = jsonscan.TopLevelString(body, "id")
	d.Type, _ = jsonscan.TopLevelString(body, "type")
	return d, nil
}

// parseStripeSignature checks the structure of a Stripe-Signature value, a comma-separated
// list of key=value items, and returns the raw t value and whether any v1 item is present.
// Unknown keys (v0, future schemes) are ignored; a missing or repeated t is malformed.
func parseStripeSignature(v string) (ts string, hasV1 bool, err error) {
	seenT := false
	for rest, more := v, true; more; {
		var item string
		item, rest, more = strings.Cut(rest, ",")
		key, val, ok := strings.Cut(trimOWS(item), "=")
		if !ok || key == "" {
			return "", false, malformedHeader(stripeSignature, "want comma-separated key=value items")
		}
		switch key {
		case "t":
			if seenT {
				return "", false, malformedHeader(stripeSignature, "more than one t")
			}
			ts, seenT = val, true
		case "v1":
			hasV1 = true
		}
	}
	if !seenT {
		return "", false, malformedHeader(stripeSignature, "no t= timestamp")
	}
	return ts, hasV1, nil
}

// trimOWS removes the spaces and tabs HTTP allows around list items.
func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

// Sign returns a Stripe-Signature header for body at d.Timestamp (now if zero), with one v1
// entry per secret, plus the Content-Type and User-Agent Stripe sends. Stripe carries the
// event id and type in the body, so d.ID and d.Type are not used.
func (s *Stripe) Sign(d Delivery, body []byte) (http.Header, error) {
	if d.Timestamp.IsZero() {
		d.Timestamp = s.cfg.now()
	}
	ts := strconv.FormatInt(d.Timestamp.Unix(), 10)
	var b strings.Builder
	b.Grow(2 + len(ts) + len(s.keys)*(4+2*sha256.Size))
	b.WriteString("t=")
	b.WriteString(ts)
	for _, k := range s.keys {
		b.WriteString(",v1=")
		b.WriteString(k.signature(encodingHex, func(st *macState) {
			st.text(ts, ".")
			st.write(body)
		}))
	}
	return http.Header{
		stripeSignature: {b.String()},
		"Content-Type":  {"application/json; charset=utf-8"},
		"User-Agent":    {"Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
	}, nil
}
