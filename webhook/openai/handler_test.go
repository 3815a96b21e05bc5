package openai_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/openai"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

func TestEventsOption(t *testing.T) {
	secret := webhook.NewHMACSecret().Reveal()
	verifier, err := webhook.NewOpenAI(secret)
	if err != nil {
		t.Fatal(err)
	}
	var got *openai.Event
	h := webhook.NewHandler(verifier, openai.Events()).On(openai.EventResponseCompleted, func(_ context.Context, e *webhook.Event) error {
		got = e.Data.(*openai.Event)
		return nil
	})
	body, err := webhooktest.SampleEvent(openai.EventResponseCompleted, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		body   string
		status int
	}{
		{"openai event", string(body), http.StatusOK},
		{"not an event", `{"id":820982911946154508}`, http.StatusBadRequest},
		{"not JSON", "hello", http.StatusBadRequest},
	}
	for _, c := range cases {
		got = nil
		req := webhooktest.NewRequest(verifier, webhook.Delivery{}, "/webhooks", []byte(c.body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, w.Code, c.status, w.Body)
		}
		if c.status != http.StatusOK {
			if !strings.Contains(w.Body.String(), "invalid_body") || got != nil {
				t.Errorf("%s: answered %s and reached the function: %v", c.name, w.Body, got != nil)
			}
			continue
		}
		data, ok := got.Data.(*openai.ResponseEventData)
		if !ok || !strings.HasPrefix(data.ID, "resp_") || got.Type != openai.EventResponseCompleted {
			t.Errorf("%s: event %+v, want typed response data", c.name, got)
		}
	}
}
