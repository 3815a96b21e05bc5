package openai

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	whopenai "github.com/heraldhq/herald/webhook/openai"
)

func TestExpandFilter(t *testing.T) {
	all := whopenai.EventTypes()
	for _, tc := range []struct {
		filter, want []string
	}{
		{nil, all},
		{[]string{}, all},
		{[]string{"*"}, all},
		{[]string{"batch.*"}, []string{"batch.completed", "batch.cancelled", "batch.failed", "batch.expired"}},
		{[]string{"response.completed", "response.*"}, []string{"response.completed", "response.cancelled", "response.failed", "response.incomplete"}},
		{[]string{"invoice.paid", "safety.warning_issued"}, []string{"invoice.paid", "safety.warning_issued"}},
		{[]string{"nothing.*"}, []string{}},
	} {
		if got := expandFilter(tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("expandFilter(%q) = %q, want %q", tc.filter, got, tc.want)
		}
	}
}

func TestIDsAndHints(t *testing.T) {
	for _, tc := range []struct{ id, herald string }{
		{"whe_01M8CMKR9V27VEJ8DHC9CGM5KJ", "ep_01M8CMKR9V27VEJ8DHC9CGM5KJ"},
		{"ep_01M8CMKR9V27VEJ8DHC9CGM5KJ", ""},
		{"whe_", ""},
		{"whe_../apps", ""},
		{"whe_a?b", ""},
		{"", ""},
	} {
		if got := heraldID(tc.id); got != tc.herald {
			t.Errorf("heraldID(%q) = %q, want %q", tc.id, got, tc.herald)
		}
		if tc.herald != "" && openAIID(tc.herald) != tc.id {
			t.Errorf("openAIID(%q) = %q, want %q", tc.herald, openAIID(tc.herald), tc.id)
		}
	}
	for secret, want := range map[string]string{
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw": "whsec_...LaSw",
		"whsec_short":                            "whsec_...",
		"whsk_0123456789abcdefghij":              "whsk_...ghij",
	} {
		if got := secretHint(secret); got != want {
			t.Errorf("secretHint(%q) = %q, want %q", secret, got, want)
		}
	}
	if got := truncate(strings.Repeat("é", 10), 5); got != "éé..." {
		t.Errorf("truncate = %q", got)
	}
}

// TestWebhookEndpointsWithoutHerald: without a herald app behind it, the emulator
// says it cannot manage endpoints, and still lists the event types it knows.
func TestWebhookEndpointsWithoutHerald(t *testing.T) {
	srv := httptest.NewServer(New(Config{}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/webhook_endpoints", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("create without herald: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/v1/webhook_event_types")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("event types: %d", resp.StatusCode)
	}
}
