package api

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
)

// TestRetryDeliveryOfInactiveEndpoint retries a finished delivery while its endpoint is
// in each state: a disabled endpoint's delivery is refused with its state and reason.
func TestRetryDeliveryOfInactiveEndpoint(t *testing.T) {
	tests := []struct {
		name, state, reason string
		status              int
		wantInMessage       []string
	}{
		{name: "enabled", state: domain.EndpointEnabled, status: 202},
		{name: "paused", state: domain.EndpointPaused, status: 202},
		{name: "disabled", state: domain.EndpointDisabled, reason: "410 Gone", status: 409,
			wantInMessage: []string{"disabled", "410 Gone"}},
		{name: "disabled without reason", state: domain.EndpointDisabled, status: 409,
			wantInMessage: []string{"disabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			ep, err := f.store.GetEndpoint(ctx, f.appA, f.ep1)
			if err != nil {
				t.Fatal(err)
			}
			ep.SetState(tt.state, tt.reason)
			if err := f.store.UpdateEndpoint(ctx, ep); err != nil {
				t.Fatal(err)
			}
			resp := f.do(req{method: "POST", path: "/v1/apps/acme/deliveries/" + f.dlvDone + "/retry", key: f.keyA})
			if resp.status != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.status, tt.status, resp.body)
			}
			if tt.status != 409 {
				return
			}
			if resp.code() != "conflict" {
				t.Errorf("code %q, want conflict", resp.code())
			}
			for _, w := range tt.wantInMessage {
				if !strings.Contains(string(resp.body), w) {
					t.Errorf("answer %s does not mention %q", resp.body, w)
				}
			}
			d, err := f.store.GetDelivery(ctx, f.appA, f.dlvDone)
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != domain.DeliveryFailed {
				t.Errorf("delivery status %q after a refused retry, want %q", d.Status, domain.DeliveryFailed)
			}
		})
	}
}
