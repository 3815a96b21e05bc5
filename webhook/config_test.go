package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestConfigMistakes checks that every configuration mistake is refused at construction
// with an error wrapping ErrInvalidConfig that says what to do instead.
func TestConfigMistakes(t *testing.T) {
	pub := NewEd25519Key().Public().Reveal()
	priv := NewEd25519Key().Reveal()
	hmacCfg := HMACConfig{Secret: "s", Header: "X-Sig"}
	cases := []struct {
		name string
		new  func() error
		want string
	}{
		{"openai with a public key", func() error { _, err := NewOpenAI(pub); return err }, "use NewStandard"},
		{"openai with a signing key", func() error { _, err := NewOpenAI(priv); return err }, "use NewStandard"},
		{"openai rotation to a public key", func() error { _, err := NewOpenAI(NewHMACSecret().Reveal(), WithSecrets(pub)); return err }, "use NewStandard"},
		{"stripe with a public key", func() error { _, err := NewStripe(pub); return err }, "use NewStandard"},
		{"github with a signing key", func() error { _, err := NewGitHub(priv); return err }, "use NewStandard"},
		{"shopify with a public key", func() error { _, err := NewShopify(pub); return err }, "use NewStandard"},
		{"slack with a public key", func() error { _, err := NewSlack(pub); return err }, "use NewStandard"},
		{"hmac with a public key", func() error { c := hmacCfg; c.Secret = pub; _, err := NewHMAC(c); return err }, "use NewStandard"},
		{"standard with a bad key", func() error { _, err := NewStandard("whsec_c2hvcnQ="); return err }, "hmac key is 5 bytes"},
		{"empty secret", func() error { _, err := NewGitHub(""); return err }, "secret 1 is empty"},
		{"github with a tolerance", func() error { _, err := NewGitHub("s", WithTolerance(time.Minute)); return err }, "WithTolerance does not apply"},
		{"github with a clock", func() error { _, err := NewGitHub("s", WithClock(time.Now)); return err }, "WithClock does not apply"},
		{"shopify with a tolerance", func() error { _, err := NewShopify("s", WithTolerance(time.Minute)); return err }, "WithTolerance does not apply"},
		{"hmac without timestamp, with a tolerance", func() error { _, err := NewHMAC(hmacCfg, WithTolerance(time.Minute)); return err }, "WithTolerance does not apply"},
		{"openai with header names", func() error {
			_, err := NewOpenAI(NewHMACSecret().Reveal(), WithHeaderNames("a", "b", "c"))
			return err
		}, "WithHeaderNames does not apply"},
		{"svix with header names", func() error { _, err := NewSvix(NewHMACSecret().Reveal(), WithHeaderNames("a", "b", "c")); return err }, "WithHeaderNames does not apply"},
		{"stripe with header names", func() error { _, err := NewStripe("whsec_x", WithHeaderNames("a", "b", "c")); return err }, "WithHeaderNames does not apply"},
		{"standard with invalid header names", func() error {
			_, err := NewStandard(NewHMACSecret().Reveal(), WithHeaderNames("a b", "c", "d"))
			return err
		}, "not a valid header name"},
		{"keys with WithSecrets", func() error { _, err := NewStandardKeys([]Secret{NewHMACSecret()}, WithSecrets("x")); return err }, "WithSecrets does not apply"},
		{"keys, none", func() error { _, err := NewStandardKeys(nil); return err }, "no keys"},
		{"unknown provider", func() error { _, err := NewProvider("paypal", "s"); return err }, "unknown provider"},
		{"sign with a public key only", func() error {
			s, err := NewStandard(pub)
			if err != nil {
				return nil
			}
			_, err = s.Sign(Delivery{}, []byte("{}"))
			return err
		}, "only public"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.new()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want ErrInvalidConfig containing %q", err, c.want)
			}
			if err != nil && (strings.Contains(err.Error(), pub[6:]) || strings.Contains(err.Error(), priv[6:])) {
				t.Errorf("error %q shows a key", err)
			}
		})
	}
	// The options that do apply are accepted.
	for name, new := range map[string]func() error{
		"standard with header names": func() error { _, err := NewStandard(pub, WithHeaderNames("x-id", "x-ts", "x-sig")); return err },
		"shopify with a clock":       func() error { _, err := NewShopify("s", WithClock(time.Now)); return err },
		"github rotation":            func() error { _, err := NewGitHub("s", WithSecrets("t")); return err },
		"stripe with a tolerance": func() error {
			_, err := NewStripe("whsec_x", WithTolerance(time.Minute), WithClock(time.Now))
			return err
		},
		"keys with a tolerance": func() error {
			_, err := NewStandardKeys([]Secret{NewEd25519Key()}, WithTolerance(time.Minute))
			return err
		},
	} {
		if err := new(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestHandlerEd25519 checks that a receiver with only the whpk_ public key verifies v1a
// deliveries through Handler, alone and beside HMAC signatures during a rotation.
func TestHandlerEd25519(t *testing.T) {
	key, hmacKey := NewEd25519Key(), NewHMACSecret()
	body := []byte(`{"type":"invoice.paid","data":{"id":"in_1"}}`)
	for name, signing := range map[string][]Secret{
		"ed25519 only":                  {key},
		"rotation from hmac":            {hmacKey, key},
		"rotation from another ed25519": {NewEd25519Key(), key},
	} {
		t.Run(name, func(t *testing.T) {
			signer, err := NewStandardKeys(signing)
			if err != nil {
				t.Fatal(err)
			}
			receiver, err := NewStandard(key.Public().Reveal())
			if err != nil {
				t.Fatal(err)
			}
			var got *Event
			h := NewHandler(receiver).On("invoice.paid", func(_ context.Context, e *Event) error { got = e; return nil })
			hdr, err := signer.Sign(Delivery{ID: "msg_ed"}, body)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			req.Header = hdr
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK || got == nil || got.ID != "msg_ed" {
				t.Fatalf("status %d %s, event %+v", w.Code, w.Body, got)
			}
			if n := strings.Count(hdr.Get(HeaderSignature), VersionEd25519+","); n != len(signing)-strings.Count(name, "hmac") {
				t.Errorf("signature header %q has %d v1a entries", hdr.Get(HeaderSignature), n)
			}
		})
	}
}
