package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// stripeVector was computed independently (Python hmac) with the documented scheme:
// hex HMAC-SHA256, keyed with the whole "whsec_" string, over "{t}.{body}".
var stripeVector = struct {
	secret, oldSecret, t, body, sig, oldSig string
}{
	secret:    "whsec_test_9mDr2xQhzHt1dEouSpjcbc0O",
	oldSecret: "whsec_old_secret_value",
	t:         "1700000000",
	body:      "{\n  \"id\": \"evt_1OaBcD2eZvKYlo2C\",\n  \"object\": \"event\",\n  \"type\": \"invoice.paid\"\n}",
	sig:       "1053a88c7a709bbf4e1d86e0af047c23e79281229efb4ffb31998627fd090afb",
	oldSig:    "36b66faee654ee41883d1e4486ac564099db6340953b583dade126d40db5bf49",
}

func stripeHeader(v string) http.Header { return provHeader("Stripe-Signature", v) }

func TestStripeVector(t *testing.T) {
	v := stripeVector
	s, err := NewStripe(v.secret, provClock(1700000000+60))
	if err != nil {
		t.Fatal(err)
	}
	want := Delivery{ID: "evt_1OaBcD2eZvKYlo2C", Type: "invoice.paid", Timestamp: time.Unix(1700000000, 0)}
	for _, hv := range []string{
		"t=" + v.t + ",v1=" + v.sig,
		"t=" + v.t + ",v1=" + v.sig + ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
		"v1=" + v.oldSig + ",t=" + v.t + ",v1=" + v.sig, // rotation: any v1 may match; order does not matter
		"t=" + v.t + ", v1=" + strings.ToUpper(v.sig),   // stripe-go decodes hex, so case does not matter
		"t=" + v.t + ",v1=,v1=" + v.sig + ",scheme=x=y",
	} {
		d, err := s.Verify([]byte(v.body), stripeHeader(hv))
		if err != nil {
			t.Errorf("Verify(%q): %v", hv, err)
			continue
		}
		if d != want {
			t.Errorf("delivery = %+v, want %+v", d, want)
		}
	}
	signed, err := s.Sign(Delivery{Timestamp: time.Unix(1700000000, 0)}, []byte(v.body))
	if err != nil {
		t.Fatal(err)
	}
	if got := signed.Get("Stripe-Signature"); got != "t="+v.t+",v1="+v.sig {
		t.Errorf("Sign = %q", got)
	}
}

func TestStripeRotationSign(t *testing.T) {
	v := stripeVector
	s, err := NewStripe(v.secret, WithSecrets(v.oldSecret), provClock(1700000000))
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Sign(Delivery{Timestamp: time.Unix(1700000000, 0)}, []byte(v.body))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("Stripe-Signature"), "t="+v.t+",v1="+v.sig+",v1="+v.oldSig; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
	for _, secret := range []string{v.secret, v.oldSecret} {
		only, _ := NewStripe(secret, provClock(1700000000))
		if _, err := only.Verify([]byte(v.body), h); err != nil {
			t.Errorf("verifier with %s: %v", secret, err)
		}
	}
	stranger, _ := NewStripe("whsec_someone_else", provClock(1700000000))
	if _, err := stranger.Verify([]byte(v.body), h); !errors.Is(err, ErrNoMatchingSignature) {
		t.Errorf("stranger: err = %v", err)
	}
}

func TestStripeRejects(t *testing.T) {
	v := stripeVector
	const now = 1700000000
	s, err := NewStripe(v.secret, provClock(now))
	if err != nil {
		t.Fatal(err)
	}
	signAt := func(ts int64) string {
		h, err := s.Sign(Delivery{Timestamp: time.Unix(ts, 0)}, []byte(v.body))
		if err != nil {
			t.Fatal(err)
		}
		return h.Get("Stripe-Signature")
	}
	good := "t=" + v.t + ",v1=" + v.sig
	runRejects(t, s, []provReject{
		{"missing header", v.body, http.Header{}, ErrMissingHeader},
		{"empty header", v.body, http.Header{"Stripe-Signature": {""}}, ErrMissingHeader},
		{"no t", v.body, stripeHeader("v1=" + v.sig), ErrMalformedHeader},
		{"two t", v.body, stripeHeader(good + ",t=" + v.t), ErrMalformedHeader},
		{"t not a number", v.body, stripeHeader("t=now,v1=" + v.sig), ErrMalformedHeader},
		{"t with sign", v.body, stripeHeader("t=+" + v.t + ",v1=" + v.sig), ErrMalformedHeader},
		{"empty t", v.body, stripeHeader("t=,v1=" + v.sig), ErrMalformedHeader},
		{"item without =", v.body, stripeHeader(good + ",v1"), ErrMalformedHeader},
		{"trailing comma", v.body, stripeHeader(good + ","), ErrMalformedHeader},
		{"not key=value", v.body, stripeHeader(v.sig), ErrMalformedHeader},
		{"stale", v.body, stripeHeader(signAt(now - 301)), ErrTimestampTooOld},
		{"future", v.body, stripeHeader(signAt(now + 301)), ErrTimestampTooNew},
		{"only v0", v.body, stripeHeader("t=" + v.t + ",v0=" + v.sig), ErrNoMatchingSignature},
		{"wrong signature", v.body, stripeHeader("t=" + v.t + ",v1=" + v.oldSig), ErrNoMatchingSignature},
		{"several wrong signatures", v.body, stripeHeader("t=" + v.t + ",v1=" + v.oldSig + ",v1=00,v1=" + v.sig[1:]), ErrNoMatchingSignature},
		{"tampered body", v.body + "\n", stripeHeader(good), ErrNoMatchingSignature},
		{"other timestamp", v.body, stripeHeader("t=1700000001,v1=" + v.sig), ErrNoMatchingSignature},
		{"upper-case V1 key", v.body, stripeHeader("t=" + v.t + ",V1=" + v.sig), ErrNoMatchingSignature},
	})
	for _, ts := range []int64{now - 300, now + 300} {
		if _, err := s.Verify([]byte(v.body), stripeHeader(signAt(ts))); err != nil {
			t.Errorf("ts %d at the edge: %v", ts, err)
		}
	}
	if _, err := NewStripe(""); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("empty secret: err = %v", err)
	}
}

func TestStripeRoundTrip(t *testing.T) {
	s, err := NewStripe("whsec_"+NewHMACSecret().Reveal()[6:], WithSecrets("whsec_second"))
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range provBodies(t) {
		h, err := s.Sign(Delivery{}, body)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.Verify(body, h)
		if err != nil {
			t.Fatalf("Verify(Sign(%d bytes)): %v", len(body), err)
		}
		if time.Since(d.Timestamp) > time.Minute {
			t.Errorf("timestamp = %v, want about now", d.Timestamp)
		}
		for _, b := range provTamper(body) {
			if _, err := s.Verify(b, h); !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("tampered %d-byte body: err = %v", len(b), err)
			}
		}
	}
}

func TestStripeVerifyAllocs(t *testing.T) {
	v := stripeVector
	s, _ := NewStripe(v.secret, provClock(1700000000))
	h := stripeHeader("t=" + v.t + ",v1=" + v.oldSig + ",v1=" + v.sig)
	body := []byte(v.body)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.Verify(body, h); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 { // the id and type strings
		t.Errorf("Stripe Verify allocates %.0f times, want at most 2", allocs)
	}
}
