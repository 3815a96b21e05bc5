package clients_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/heraldhq/herald/webhook"
)

// TestGitHubReplayWithNewDeliveryID replays a captured GitHub webhook with another
// X-GitHub-Delivery, which the signature does not cover: it is a duplicate, not a
// second event.
func TestGitHubReplayWithNewDeliveryID(t *testing.T) {
	h := start(t, nil)
	app := h.app(t)
	src := h.source(t, app, "github", "s3cret")
	gh, err := webhook.NewProvider("github", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"action":"opened","issue":{"number":1}}`)
	hdr, err := gh.Sign(webhook.Delivery{ID: "d-1", Type: "issues"}, body)
	if err != nil {
		t.Fatal(err)
	}
	hdr.Set("Content-Type", "application/json")
	var first string
	for i, id := range []string{"d-1", "d-1", "replayed-with-a-new-id"} {
		hdr.Set("X-GitHub-Delivery", id)
		st, _, out := h.do(t, "POST", "/in/"+src, "", body, hdr)
		var got struct {
			ID        string `json:"id"`
			Duplicate bool   `json:"duplicate"`
		}
		if err := json.Unmarshal(out, &got); err != nil || st != http.StatusOK {
			t.Fatalf("delivery %d: %d %s", i, st, out)
		}
		if i == 0 {
			first = got.ID
			continue
		}
		if !got.Duplicate || got.ID != first {
			t.Fatalf("delivery %d (id %s): %s, want a duplicate of %s", i, id, out, first)
		}
	}
}
