package webhook

import "net/http"

// GitHub verifies and signs GitHub webhook deliveries: X-Hub-Signature-256 is "sha256="
// followed by the hex HMAC-SHA256 of the raw body, keyed with the webhook secret as raw bytes.
// The legacy SHA-1 X-Hub-Signature header is neither checked nor sent.
//
// GitHub signs no timestamp, so a captured delivery can be replayed; deduplicate on
// Delivery.ID (X-GitHub-Delivery), which, like the event type, is not itself signed.
// A GitHub is safe for concurrent use.
type GitHub struct {
	h *HMAC
}

var _ Provider = (*GitHub)(nil)

// NewGitHub returns a GitHub verifier for a webhook secret. Use WithSecrets to accept more
// secrets during rotation; Sign uses secret. GitHub signs no timestamp, so WithTolerance
// and WithClock are refused.
func NewGitHub(secret string, opts ...Option) (*GitHub, error) {
	h, err := newHMAC(HMACConfig{
		Name:       "github",
		Secret:     secret,
		Header:     "X-Hub-Signature-256",
		Prefix:     "sha256=",
		IDHeader:   "X-GitHub-Delivery",
		TypeHeader: "X-GitHub-Event",
	}, optSecrets, opts)
	if err != nil {
		return nil, err
	}
	return &GitHub{h: h}, nil
}

// Name returns "github".
func (g *GitHub) Name() string { return "github" }

// Verify authenticates a GitHub delivery and returns its X-GitHub-Delivery id and
// X-GitHub-Event type, each empty if the header is absent.
func (g *GitHub) Verify(body []byte, header http.Header) (Delivery, error) {
	return g.h.Verify(body, header)
}

// Sign returns the headers GitHub sends with body: X-Hub-Signature-256, X-GitHub-Delivery
// (d.ID, or a fresh UUID if empty), X-GitHub-Event (d.Type, if set), Content-Type and
// User-Agent. GitHub signs no timestamp, so d.Timestamp is not used.
func (g *GitHub) Sign(d Delivery, body []byte) (http.Header, error) {
	if d.ID == "" {
		d.ID = newUUID()
	}
	h, err := g.h.Sign(d, body)
	if err != nil {
		return nil, err
	}
	h["User-Agent"] = []string{"GitHub-Hookshot/herald"}
	return h, nil
}
