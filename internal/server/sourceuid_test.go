package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api/apitest"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/webhook"
)

func ptr[T any](v T) *T { return &v }

// TestSourceUIDRouting receives webhooks at /in/{uid} as at /in/{id}, and checks that a
// uid reaches only its own source: not another source of the app, not another app's,
// and that malformed and unknown uids are answered 404.
func TestSourceUIDRouting(t *testing.T) {
	c, srv := testServer(t, func(cfg *server.Config) { cfg.PublicURL = "https://hooks.example.com/" })
	ctx := context.Background()
	base := strings.TrimSuffix(c.BaseURL(), "/")
	appA := servertest.NewApp(t, c, client.AppInput{Name: "a"})
	appB := servertest.NewApp(t, c, client.AppInput{Name: "b"})
	secretA, secretB := webhook.NewHMACSecret().Reveal(), webhook.NewHMACSecret().Reveal()
	srcA, err := c.CreateSource(ctx, appA.ID, client.SourceInput{UID: ptr("stripe-live"), Provider: "standard", Secret: secretA})
	if err != nil {
		t.Fatal(err)
	}
	if srcA.UID != "stripe-live" || srcA.IngestPath != "/in/stripe-live" || srcA.IngestURL != "https://hooks.example.com/in/stripe-live" {
		t.Fatalf("created source: uid %q, ingest_path %q, ingest_url %q", srcA.UID, srcA.IngestPath, srcA.IngestURL)
	}
	plain, err := c.CreateSource(ctx, appA.ID, client.SourceInput{Provider: "standard", Secret: secretA})
	if err != nil {
		t.Fatal(err)
	}
	if plain.UID != "" || plain.IngestPath != "/in/"+plain.ID || plain.IngestURL != "https://hooks.example.com/in/"+plain.ID {
		t.Fatalf("a source without a uid: %+v", plain)
	}
	srcB, err := c.CreateSource(ctx, appB.ID, client.SourceInput{UID: ptr("github-b"), Provider: "standard", Secret: secretB})
	if err != nil {
		t.Fatal(err)
	}

	signed := func(secret, id string) ([]byte, http.Header) {
		s, err := webhook.NewStandard(secret)
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"type":"invoice.paid","data":{"n":"` + id + `"}}`)
		h, err := s.Sign(webhook.Delivery{ID: id}, body)
		if err != nil {
			t.Fatal(err)
		}
		h.Set("Content-Type", "application/json")
		return body, h
	}
	received := func(path, secret, id string, want *client.Source) {
		t.Helper()
		body, h := signed(secret, id)
		status, out := postInbound(t, base+path, body, h)
		if status != 200 || out["received"] != true {
			t.Fatalf("POST %s: %d %v", path, status, out)
		}
		m, err := srv.Store().GetMessage(ctx, want.AppID, out["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if m.SourceID != want.ID {
			t.Fatalf("POST %s: message of source %q, want %q", path, m.SourceID, want.ID)
		}
	}
	received("/in/stripe-live", secretA, "msg_1", srcA)
	received("/in/"+srcA.ID, secretA, "msg_2", srcA)
	received("/in/github-b", secretB, "msg_3", srcB)

	// A's webhook sent to B's uid is verified with B's secret: refused, and recorded on B.
	body, h := signed(secretA, "msg_4")
	if status, out := postInbound(t, base+"/in/github-b", body, h); status != 401 || errorCode(out) != "invalid_signature" {
		t.Errorf("A's webhook at B's uid: %d %v", status, out)
	}
	if rs, _, err := c.ListRejections(ctx, appB.ID, "github-b", client.ListParams{}); err != nil || len(rs) != 1 || rs[0].SourceID != srcB.ID {
		t.Errorf("B's rejections by uid: %v, %v", rs, err)
	}

	// Malformed and unknown uids: 404, like an unknown id.
	for _, path := range []string{"/in/Stripe-Live", "/in/stripe", "/in/-stripe-live", "/in/stripe-live-", "/in/stripe%2Flive",
		"/in/" + strings.Repeat("a", domain.MaxSourceUIDLen+1), "/in/%00", "/in/src_nope", "/in/" + ids.New("src")} {
		body, h := signed(secretA, "msg_x")
		if status, out := postInbound(t, base+path, body, h); status != 404 || errorCode(out) != "not_found" {
			t.Errorf("POST %s: %d %v, want 404 not_found", path, status, out)
		}
	}

	// An app's key reaches its own sources by uid, and no other app's.
	keyA, err := c.CreateAPIKey(ctx, appA.ID, client.APIKeyInput{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	ca := client.New(c.BaseURL(), keyA.Key, apitest.HTTPClient(t))
	if got, err := ca.GetSource(ctx, appA.ID, "stripe-live"); err != nil || got.ID != srcA.ID {
		t.Errorf("A's source by uid: %v, %v", got, err)
	}
	if got, err := ca.GetSourceByID(ctx, "stripe-live"); err != nil || got.ID != srcA.ID {
		t.Errorf("A's source by uid alone: %v, %v", got, err)
	}
	if _, err := ca.GetSourceByID(ctx, "github-b"); client.ErrorCode(err) != client.CodeNotFound {
		t.Errorf("B's source by uid with A's key: %v, want not_found", err)
	}
	listen, _ := http.NewRequest(http.MethodGet, base+"/v1/listen?source=github-b", nil)
	listen.Header.Set("Authorization", "Bearer "+keyA.Key)
	if resp, err := http.DefaultClient.Do(listen); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || strings.Contains(string(b), appB.ID) {
			t.Errorf("listen to B's source by uid with A's key: %d %s (must not name B's app)", resp.StatusCode, b)
		}
	}
	if _, err := c.GetSource(ctx, appA.ID, "github-b"); client.ErrorCode(err) != client.CodeNotFound {
		t.Errorf("B's source by uid under app A: %v, want not_found", err)
	}
	if err := c.DeleteSource(ctx, appA.ID, "github-b"); client.ErrorCode(err) != client.CodeNotFound {
		t.Errorf("deleting B's source under app A: %v, want not_found", err)
	}

	// Uids are unique on the server and validated.
	if _, err := c.CreateSource(ctx, appB.ID, client.SourceInput{UID: ptr("stripe-live"), Provider: "standard", Secret: secretB}); client.ErrorCode(err) != client.CodeConflict {
		t.Errorf("a taken uid: %v, want conflict", err)
	}
	for _, bad := range []string{"Stripe", "src_x", "a b", "a_b", strings.Repeat("a", 65), "-a"} {
		if _, err := c.CreateSource(ctx, appA.ID, client.SourceInput{UID: ptr(bad), Provider: "standard", Secret: secretA}); client.ErrorCode(err) != client.CodeInvalidField {
			t.Errorf("uid %q: %v, want invalid_field", bad, err)
		}
	}

	// A new uid moves the ingest path at once: the old one is 404 (it was cached).
	up, err := c.UpdateSource(ctx, appA.ID, "stripe-live", client.SourceInput{UID: ptr("stripe-eu")})
	if err != nil || up.IngestPath != "/in/stripe-eu" {
		t.Fatalf("rename: %+v, %v", up, err)
	}
	body, h = signed(secretA, "msg_5")
	if status, _ := postInbound(t, base+"/in/stripe-live", body, h); status != 404 {
		t.Errorf("the old uid after a rename: %d, want 404", status)
	}
	received("/in/stripe-eu", secretA, "msg_6", srcA)
	if up, err = c.UpdateSource(ctx, appA.ID, "stripe-eu", client.SourceInput{UID: ptr("")}); err != nil || up.UID != "" || up.IngestPath != "/in/"+srcA.ID {
		t.Fatalf("removing the uid: %+v, %v", up, err)
	}
	if status, _ := postInbound(t, base+"/in/stripe-eu", body, h); status != 404 {
		t.Errorf("a removed uid: %d, want 404", status)
	}

	// Deleting by uid deletes the source it names.
	if err := c.DeleteSource(ctx, appB.ID, "github-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSource(ctx, appB.ID, srcB.ID); client.ErrorCode(err) != client.CodeNotFound {
		t.Errorf("after delete by uid: %v", err)
	}
}
