package webhook

import (
	"net/http"
	"time"
)

// Delivery describes one webhook delivery as its sender labelled it.
type Delivery struct {
	// ID is the sender's delivery or event id, the receiver's idempotency key
	// (webhook-id, X-GitHub-Delivery, the Stripe event id, ...). Empty if the provider has none.
	ID string
	// Type is the event type ("response.completed", "push", "orders/create", ...), empty if unknown.
	Type string
	// Timestamp is the signed send time; zero for providers that sign no timestamp.
	Timestamp time.Time
}

// Verifier checks that a raw request body and its headers were signed by the expected sender.
// Implementations never re-serialise the body: they verify exactly the bytes received.
type Verifier interface {
	// Verify authenticates body against header and returns what the sender said about the delivery.
	Verify(body []byte, header http.Header) (Delivery, error)
}

// Provider is a Verifier that can also produce the headers its sender would send,
// which is how herald's tests and `herald trigger` create realistic deliveries.
type Provider interface {
	Verifier
	// Name returns the provider's short name ("openai", "stripe", ...).
	Name() string
	// Sign returns the headers the provider sends with body for delivery d.
	// A zero d.Timestamp means now.
	Sign(d Delivery, body []byte) (http.Header, error)
}

// DefaultTolerance is how far a signed timestamp may be from now, in either direction.
const DefaultTolerance = 5 * time.Minute

// Option configures a verifier or provider. A constructor refuses, with an error
// wrapping ErrInvalidConfig, an option its provider has no use for (WithTolerance for
// a provider that signs no timestamp, for example), rather than ignoring it.
type Option func(*config)

// optionSet records which options were given, so that constructors can refuse the
// ones that do not apply.
type optionSet uint8

const (
	optTolerance optionSet = 1 << iota
	optClock
	optHeaderNames
	optSecrets
)

var optionNames = [...]string{"WithTolerance", "WithClock", "WithHeaderNames", "WithSecrets"}

type config struct {
	set          optionSet
	tolerance    time.Duration
	now          func() time.Time
	idHeader     string
	tsHeader     string
	sigHeader    string
	extraSecrets []string
}

func newConfig(opts []Option) config {
	c := config{tolerance: DefaultTolerance, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithTolerance sets how far the signed timestamp may be from now (default 5 minutes).
// Zero or negative disables the check; do that only for offline replay tooling.
func WithTolerance(d time.Duration) Option {
	return func(c *config) { c.tolerance, c.set = d, c.set|optTolerance }
}

// WithClock replaces time.Now, for tests and replays of recorded requests.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now, c.set = now, c.set|optClock }
}

// WithHeaderNames sets the id, timestamp and signature header names of NewStandard or
// NewStandardKeys, for Standard Webhooks senders that use other names.
func WithHeaderNames(id, timestamp, signature string) Option {
	return func(c *config) {
		c.idHeader, c.tsHeader, c.sigHeader = id, timestamp, signature
		c.set |= optHeaderNames
	}
}

// WithSecrets adds more accepted secrets, for rotation: a delivery verifies if any secret matches.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.extraSecrets, c.set = append(c.extraSecrets, secrets...), c.set|optSecrets }
}

// newConfigFor applies opts and refuses any option outside allowed, naming provider.
func newConfigFor(provider string, allowed optionSet, opts []Option) (config, error) {
	c := newConfig(opts)
	for i, name := range optionNames {
		if bit := optionSet(1) << i; c.set&bit != 0 && allowed&bit == 0 {
			return c, configError(provider, "%s does not apply to this provider", name)
		}
	}
	return c, nil
}

// checkTimestamp applies the tolerance window in both directions.
func (c *config) checkTimestamp(ts time.Time) error {
	if c.tolerance <= 0 {
		return nil
	}
	now := c.now()
	if now.Sub(ts) > c.tolerance {
		return ErrTimestampTooOld
	}
	if ts.Sub(now) > c.tolerance {
		return ErrTimestampTooNew
	}
	return nil
}

// headerValue returns the first value of an already-canonical header key without
// the allocation http.Header.Get spends canonicalising the name.
func headerValue(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}
