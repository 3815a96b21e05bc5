package webhook

import (
	"errors"
	"net/http"
	"regexp"
	"testing"
)

// githubVector is GitHub's documented example (webhook-facts.md).
var githubVector = struct{ secret, body, sig string }{
	secret: "It's a Secret to Everybody",
	body:   "Hello, World!",
	sig:    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
}

func githubHeader(sig, delivery, event string) http.Header {
	return provHeader("X-Hub-Signature-256", sig, "X-GitHub-Delivery", delivery, "X-GitHub-Event", event)
}

func TestGitHubVector(t *testing.T) {
	v := githubVector
	g, err := NewGitHub(v.secret)
	if err != nil {
		t.Fatal(err)
	}
	d, err := g.Verify([]byte(v.body), githubHeader(v.sig, "72d3162e-cc78-11e3-81ab-4c9367dc0958", "push"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Delivery{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Type: "push"}); d != want {
		t.Errorf("delivery = %+v, want %+v", d, want)
	}
	// The id and event headers are labels: absent, they are empty, not an error.
	if d, err := g.Verify([]byte(v.body), githubHeader(v.sig, "", "")); err != nil || d != (Delivery{}) {
		t.Errorf("without labels: %+v, %v", d, err)
	}
	h, err := g.Sign(Delivery{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Type: "push"}, []byte(v.body))
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{
		"X-Hub-Signature-256": {v.sig},
		"X-Github-Delivery":   {"72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		"X-Github-Event":      {"push"},
		"Content-Type":        {"application/json"},
		"User-Agent":          {"GitHub-Hookshot/herald"},
	}
	if len(h) != len(want) {
		t.Errorf("Sign headers = %v, want %v", h, want)
	}
	for k, vs := range want {
		if h.Get(k) != vs[0] {
			t.Errorf("Sign: %s = %q, want %q", k, h.Get(k), vs[0])
		}
	}
}

func TestGitHubRejects(t *testing.T) {
	v := githubVector
	g, _ := NewGitHub(v.secret, WithSecrets("previous secret"))
	const id = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	runRejects(t, g, []provReject{
		{"missing signature", v.body, githubHeader("", id, "push"), ErrMissingHeader},
		{"only legacy sha1 header", v.body, provHeader("X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"), ErrMissingHeader},
		{"no prefix", v.body, githubHeader(v.sig[7:], id, "push"), ErrMalformedHeader},
		{"sha1 prefix", v.body, githubHeader("sha1="+v.sig[7:], id, "push"), ErrMalformedHeader},
		{"wrong signature", v.body, githubHeader("sha256=057107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", id, "push"), ErrNoMatchingSignature},
		{"short signature", v.body, githubHeader(v.sig[:len(v.sig)-2], id, "push"), ErrNoMatchingSignature},
		{"empty signature", v.body, githubHeader("sha256=", id, "push"), ErrNoMatchingSignature},
		{"tampered body", "Hello, World?", githubHeader(v.sig, id, "push"), ErrNoMatchingSignature},
		{"re-serialised body", "Hello, World!\n", githubHeader(v.sig, id, "push"), ErrNoMatchingSignature},
	})
	if _, err := NewGitHub(""); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("empty secret: err = %v", err)
	}
}

func TestGitHubRoundTrip(t *testing.T) {
	g, _ := NewGitHub("new", WithSecrets("old"))
	old, _ := NewGitHub("old")
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, body := range provBodies(t) {
		h, err := g.Sign(Delivery{Type: "issues"}, body)
		if err != nil {
			t.Fatal(err)
		}
		d, err := g.Verify(body, h)
		if err != nil {
			t.Fatalf("Verify(Sign(%d bytes)): %v", len(body), err)
		}
		if !uuid.MatchString(d.ID) || d.Type != "issues" || !d.Timestamp.IsZero() {
			t.Errorf("delivery = %+v", d)
		}
		// Rotation: a delivery signed with the old secret still verifies.
		oh, _ := old.Sign(Delivery{}, body)
		if _, err := g.Verify(body, oh); err != nil {
			t.Errorf("old secret: %v", err)
		}
		for _, b := range provTamper(body) {
			if _, err := g.Verify(b, h); !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("tampered %d-byte body: err = %v", len(b), err)
			}
		}
	}
}
