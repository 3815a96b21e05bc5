package webhook

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestProviderNames(t *testing.T) {
	want := []string{"openai", "standard", "svix", "stripe", "github", "shopify", "slack"}
	got := ProviderNames()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ProviderNames = %v, want %v", got, want)
	}
	got[0] = "changed"
	if ProviderNames()[0] != "openai" {
		t.Error("ProviderNames returns a shared slice")
	}
}

func TestNewProvider(t *testing.T) {
	secret := NewHMACSecret().Reveal() // valid for every provider (raw bytes for the non-Standard ones)
	for _, name := range ProviderNames() {
		t.Run(name, func(t *testing.T) {
			var opts []Option
			if name != "github" && name != "shopify" { // they sign no timestamp and refuse the option
				opts = append(opts, WithTolerance(time.Minute))
			}
			p, err := NewProvider(name, secret, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name() != name {
				t.Errorf("Name = %q", p.Name())
			}
			upper, err := NewProvider(" "+strings.ToUpper(name), secret)
			if err != nil || upper.Name() != name {
				t.Errorf("upper-case name: %v, %v", upper, err)
			}
			// Sign → Verify round trip with assorted bodies; a different secret never verifies.
			other, _ := NewProvider(name, NewHMACSecret().Reveal())
			for _, body := range provBodies(t) {
				h, err := p.Sign(Delivery{ID: "msg_registry", Type: "thing.happened"}, body)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.Verify(body, h); err != nil {
					t.Fatalf("Verify(Sign(%d bytes)): %v", len(body), err)
				}
				if _, err := other.Verify(body, h); !errors.Is(err, ErrNoMatchingSignature) {
					t.Errorf("other secret: err = %v", err)
				}
				for _, b := range provTamper(body) {
					if _, err := p.Verify(b, h); !errors.Is(err, ErrNoMatchingSignature) {
						t.Errorf("tampered %d-byte body: err = %v", len(b), err)
					}
				}
			}
			if _, err := NewProvider(name, ""); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("empty secret: err = %v", err)
			}
		})
	}
}

func TestNewProviderErrors(t *testing.T) {
	p, err := NewProvider("hmac", "secret")
	if !errors.Is(err, ErrInvalidConfig) || p != nil {
		t.Fatalf("NewProvider(hmac) = %v, %v", p, err)
	}
	for _, name := range ProviderNames() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list %q", err, name)
		}
	}
	// A constructor error yields a nil interface, not a typed nil pointer.
	if p, err := NewProvider("stripe", ""); p != nil || err == nil {
		t.Errorf("NewProvider(stripe, \"\") = %#v, %v", p, err)
	}
	for _, name := range []string{"stripe", "github", "shopify", "slack"} {
		if _, err := NewProvider(name, "s", WithHeaderNames("a", "b", "c")); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s with WithHeaderNames: err = %v", name, err)
		}
	}
}
