package webhook

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// shopifyVector was computed independently (Python hmac): base64 HMAC-SHA256 of the raw body.
var shopifyVector = struct{ secret, body, sig string }{
	secret: "hush_shopify_client_secret",
	body:   `{"id":820982911946154508,"email":"jon@example.com"}`,
	sig:    "DYx0wQcUwZPvGxVQXIU2bSbSkrv1w8cDDrzxxoK00oI=",
}

func shopifyHeader(sig, id, topic string) http.Header {
	return provHeader("X-Shopify-Hmac-Sha256", sig, "X-Shopify-Webhook-Id", id, "X-Shopify-Topic", topic,
		"X-Shopify-Triggered-At", "2024-01-02T03:04:05.123456789Z")
}

func TestShopifyVector(t *testing.T) {
	v := shopifyVector
	s, err := NewShopify(v.secret)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Verify([]byte(v.body), shopifyHeader(v.sig, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "orders/create"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Delivery{ID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", Type: "orders/create"}); d != want {
		t.Errorf("delivery = %+v, want %+v (the unsigned Triggered-At is not a timestamp)", d, want)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600))
	h, err := s.Sign(Delivery{ID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", Type: "orders/create", Timestamp: at}, []byte(v.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"X-Shopify-Hmac-Sha256":  v.sig,
		"X-Shopify-Webhook-Id":   "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
		"X-Shopify-Topic":        "orders/create",
		"X-Shopify-Triggered-At": "2024-01-02T02:04:05.123456789Z",
		"Content-Type":           "application/json",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("Sign: %s = %q, want %q", k, got, want)
		}
	}
}

func TestShopifyRejects(t *testing.T) {
	v := shopifyVector
	s, _ := NewShopify(v.secret, WithSecrets("older"))
	const id = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
	runRejects(t, s, []provReject{
		{"missing signature", v.body, shopifyHeader("", id, "orders/create"), ErrMissingHeader},
		{"wrong signature", v.body, shopifyHeader("EYx0wQcUwZPvGxVQXIU2bSbSkrv1w8cDDrzxxoK00oI=", id, "orders/create"), ErrNoMatchingSignature},
		{"unpadded signature", v.body, shopifyHeader(v.sig[:len(v.sig)-1], id, "orders/create"), ErrNoMatchingSignature},
		{"hex signature", v.body, shopifyHeader("0d8c74c10714c193ef1b1550"+"5c85366d26d292bbf5c3c7030ebcf1c682b4d282", id, "orders/create"), ErrNoMatchingSignature},
		{"tampered body", `{"id":820982911946154509,"email":"jon@example.com"}`, shopifyHeader(v.sig, id, "orders/create"), ErrNoMatchingSignature},
		{"re-serialised body", `{"id": 820982911946154508, "email": "jon@example.com"}`, shopifyHeader(v.sig, id, "orders/create"), ErrNoMatchingSignature},
	})
	if _, err := NewShopify(""); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("empty secret: err = %v", err)
	}
}

func TestShopifyRoundTrip(t *testing.T) {
	s, _ := NewShopify("current", WithSecrets("previous"))
	prev, _ := NewShopify("previous")
	for _, body := range provBodies(t) {
		h, err := s.Sign(Delivery{Type: "products/update"}, body)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.Verify(body, h)
		if err != nil {
			t.Fatalf("Verify(Sign(%d bytes)): %v", len(body), err)
		}
		if len(d.ID) != 36 || d.Type != "products/update" || !d.Timestamp.IsZero() {
			t.Errorf("delivery = %+v", d)
		}
		if _, err := time.Parse(time.RFC3339Nano, h.Get("X-Shopify-Triggered-At")); err != nil {
			t.Errorf("Triggered-At: %v", err)
		}
		ph, _ := prev.Sign(Delivery{}, body)
		if _, err := s.Verify(body, ph); err != nil {
			t.Errorf("previous secret: %v", err)
		}
		for _, b := range provTamper(body) {
			if _, err := s.Verify(b, h); !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("tampered %d-byte body: err = %v", len(b), err)
			}
		}
	}
}
