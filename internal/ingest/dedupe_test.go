package ingest

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/webhook"
)

// TestDedupeKey checks that only delivery ids the signature covers are trusted: for the
// others a replay with a new id must still be a duplicate, so the body's hash is the key.
func TestDedupeKey(t *testing.T) {
	body := []byte(`{"action":"opened"}`)
	hmacWith := func(template string) *domain.Source {
		return &domain.Source{ID: "src_1", Provider: "hmac", HMAC: &webhook.HMACConfig{Template: template, IDHeader: "X-Id"}}
	}
	for _, tc := range []struct {
		name   string
		src    *domain.Source
		byBody bool
	}{
		{"standard signs webhook-id", &domain.Source{ID: "src_1", Provider: "standard"}, false},
		{"openai signs webhook-id", &domain.Source{ID: "src_1", Provider: "openai"}, false},
		{"stripe's id is in the body", &domain.Source{ID: "src_1", Provider: "stripe"}, false},
		{"github's X-GitHub-Delivery is not signed", &domain.Source{ID: "src_1", Provider: "github"}, true},
		{"shopify's X-Shopify-Webhook-Id is not signed", &domain.Source{ID: "src_1", Provider: "shopify"}, true},
		{"hmac with {id} in the template", hmacWith("{id}.{body}"), false},
		{"hmac without", hmacWith("{body}"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k1, k2 := dedupeKey(tc.src, "d-1", body), dedupeKey(tc.src, "d-2", body)
			if !strings.HasPrefix(k1, KeyPrefix+"src_1:") {
				t.Fatalf("key %q is not in the gateway's namespace", k1)
			}
			if byBody := k1 == k2; byBody != tc.byBody {
				t.Fatalf("keys for two ids %q and %q; want equal (by body) %v", k1, k2, tc.byBody)
			}
		})
	}
}
