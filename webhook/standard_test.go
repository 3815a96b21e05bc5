package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Official vectors from ../shared/reference/webhook-facts.md.
var standardVectors = []struct {
	name, secret, id, ts, body, sig string
	newVerifier                     func(string, ...Option) (*Standard, error)
}{
	{
		name:        "standard-webhooks reference",
		secret:      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		id:          "msg_p5jXN8AQM9LWM0D4loKWxJek",
		ts:          "1614265330",
		body:        `{"test": 2432232314}`,
		sig:         "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		newVerifier: NewStandard,
	},
	{
		name:        "openai-go sdk",
		secret:      "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=",
		id:          "wh_685c059ae39c8190af8c71ed1022a24d",
		ts:          "1750861210",
		body:        `{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}`,
		sig:         "v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=",
		newVerifier: NewOpenAI,
	},
}

func vectorHeader(id, ts, sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", sig)
	return h
}

func TestStandardVectors(t *testing.T) {
	for _, v := range standardVectors {
		t.Run(v.name, func(t *testing.T) {
			ts, _ := parseUnix(v.ts)
			clock := WithClock(func() time.Time { return time.Unix(ts, 0).Add(30 * time.Second) })
			wh, err := v.newVerifier(v.secret, clock)
			if err != nil {
				t.Fatal(err)
			}
			d, err := wh.Verify([]byte(v.body), vectorHeader(v.id, v.ts, v.sig))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if d.ID != v.id || d.Timestamp.Unix() != ts {
				t.Errorf("delivery = %+v", d)
			}
			got, err := wh.SignatureHeader(v.id, time.Unix(ts, 0), []byte(v.body))
			if err != nil || got != v.sig {
				t.Errorf("SignatureHeader = %q, %v; want %q", got, err, v.sig)
			}
			// Rotation: the right signature among others still verifies; a tampered body does not.
			multi := "v1,AAAA v1a,bm90IGEgc2ln " + v.sig + " v2,xyz"
			if _, err := wh.Verify([]byte(v.body), vectorHeader(v.id, v.ts, multi)); err != nil {
				t.Errorf("multi-entry Verify: %v", err)
			}
			if _, err := wh.Verify([]byte(v.body+" "), vectorHeader(v.id, v.ts, v.sig)); !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("tampered body: err = %v", err)
			}
		})
	}
}

func TestStandardRejects(t *testing.T) {
	v := standardVectors[0]
	now := time.Unix(1614265330, 0)
	wh, err := NewStandard(v.secret, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	other := NewHMACSecret().Reveal()
	cases := []struct {
		name   string
		id, ts string
		sig    string
		body   string
		want   error
		code   string
	}{
		{"missing id", "", v.ts, v.sig, v.body, ErrMissingHeader, "missing_header"},
		{"missing timestamp", v.id, "", v.sig, v.body, ErrMissingHeader, "missing_header"},
		{"missing signature", v.id, v.ts, "", v.body, ErrMissingHeader, "missing_header"},
		{"timestamp not a number", v.id, "yesterday", v.sig, v.body, ErrMalformedHeader, "malformed_header"},
		{"timestamp with sign", v.id, "+1614265330", v.sig, v.body, ErrMalformedHeader, "malformed_header"},
		{"timestamp leading zero", v.id, "01614265330", v.sig, v.body, ErrMalformedHeader, "malformed_header"},
		{"id with dot", "msg.1", v.ts, v.sig, v.body, ErrMalformedHeader, "malformed_header"},
		{"too old", v.id, "1614264929", v.sig, v.body, ErrTimestampTooOld, "timestamp_too_old"},
		{"too new", v.id, "1614265631", v.sig, v.body, ErrTimestampTooNew, "timestamp_too_new"},
		{"wrong signature", v.id, v.ts, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", v.body, ErrNoMatchingSignature, "invalid_signature"},
		{"no version", v.id, v.ts, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", v.body, ErrNoMatchingSignature, "invalid_signature"},
		{"other id", "msg_other", v.ts, v.sig, v.body, ErrNoMatchingSignature, "invalid_signature"},
		{"signed by other key", v.id, v.ts, signWith(t, other, v.id, now, v.body), v.body, ErrNoMatchingSignature, "invalid_signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := wh.Verify([]byte(c.body), vectorHeader(c.id, c.ts, c.sig))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if got := ErrorCode(err); got != c.code {
				t.Errorf("ErrorCode = %q, want %q", got, c.code)
			}
		})
	}
	// Exactly at the edge of the tolerance window is still accepted.
	for _, ts := range []int64{now.Unix() - 300, now.Unix() + 300} {
		h, err := wh.Sign(Delivery{ID: "msg_edge", Timestamp: time.Unix(ts, 0)}, []byte(v.body))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wh.Verify([]byte(v.body), h); err != nil {
			t.Errorf("ts %d at edge: %v", ts, err)
		}
	}
}

func signWith(t *testing.T, secret, id string, ts time.Time, body string) string {
	t.Helper()
	wh, err := NewStandard(secret)
	if err != nil {
		t.Fatal(err)
	}
	s, err := wh.SignatureHeader(id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStandardRotationAndEd25519(t *testing.T) {
	oldKey, newKey := NewHMACSecret(), NewHMACSecret()
	edKey := NewEd25519Key()
	sender, err := NewStandardKeys([]Secret{newKey, oldKey, edKey})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"invoice.paid","data":{}}`)
	h, err := sender.Sign(Delivery{ID: "msg_rot"}, body)
	if err != nil {
		t.Fatal(err)
	}
	entries := strings.Fields(h.Get(HeaderSignature))
	if len(entries) != 3 || !strings.HasPrefix(entries[2], "v1a,") {
		t.Fatalf("signature header = %q, want two v1 and one v1a entries", h.Get(HeaderSignature))
	}
	for name, secret := range map[string]string{"old": oldKey.Reveal(), "new": newKey.Reveal(), "ed25519 public": edKey.Public().Reveal()} {
		wh, err := NewStandard(secret)
		if err != nil {
			t.Fatal(err)
		}
		d, err := wh.Verify(body, h)
		if err != nil {
			t.Errorf("%s key: %v", name, err)
		}
		if d.Type != "invoice.paid" || d.ID != "msg_rot" {
			t.Errorf("%s key: delivery = %+v", name, d)
		}
	}
	pubOnly, _ := NewStandard(edKey.Public().Reveal())
	if _, err := pubOnly.Sign(Delivery{}, body); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("signing with a public key: err = %v", err)
	}
	// A v1a entry from another key does not verify.
	stranger, _ := NewStandardKeys([]Secret{NewEd25519Key()})
	h2, _ := stranger.Sign(Delivery{ID: "msg_rot"}, body)
	if _, err := pubOnly.Verify(body, h2); !errors.Is(err, ErrNoMatchingSignature) {
		t.Errorf("foreign ed25519 signature: err = %v", err)
	}
}

func TestSvixHeaders(t *testing.T) {
	v := standardVectors[0]
	ts, _ := parseUnix(v.ts)
	wh, err := NewSvix(v.secret, WithClock(func() time.Time { return time.Unix(ts, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("svix-id", v.id)
	h.Set("svix-timestamp", v.ts)
	h.Set("svix-signature", v.sig)
	if _, err := wh.Verify([]byte(v.body), h); err != nil {
		t.Fatal(err)
	}
	if _, err := wh.Verify([]byte(v.body), vectorHeader(v.id, v.ts, v.sig)); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("webhook-* headers on a svix verifier: err = %v", err)
	}
}

func TestVerifyAllocs(t *testing.T) {
	v := standardVectors[1]
	ts, _ := parseUnix(v.ts)
	wh, _ := NewOpenAI(v.secret, WithClock(func() time.Time { return time.Unix(ts, 0) }))
	h := vectorHeader(v.id, v.ts, v.sig)
	body := []byte(v.body)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := wh.Verify(body, h); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Verify allocates %.0f times, want at most 1", allocs)
	}
}
