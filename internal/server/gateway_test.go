package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

// gatewayCase is one provider's webhook as that provider sends it.
type gatewayCase struct {
	provider   string
	secret     string
	hmac       *client.HMACConfig
	body       string
	delivery   webhook.Delivery // what the provider says: id, type
	wantType   string           // the message type herald gives it
	timestamps bool             // the provider signs a timestamp, so stale requests exist
}

func gatewayCases() []gatewayCase {
	openaiBody, _ := webhooktest.SampleEvent("response.completed", time.Now())
	return []gatewayCase{
		{provider: "openai", secret: webhook.NewHMACSecret().Reveal(), body: string(openaiBody),
			delivery: webhook.Delivery{ID: "wh_685c059ae39c8190af8c71ed1022a24d"}, wantType: "response.completed", timestamps: true},
		{provider: "standard", secret: webhook.NewHMACSecret().Reveal(), body: `{"type":"invoice.paid","timestamp":"2026-11-26T12:00:00Z","data":{"id":"in_1"}}`,
			delivery: webhook.Delivery{ID: "msg_2"}, wantType: "invoice.paid", timestamps: true},
		{provider: "svix", secret: webhook.NewHMACSecret().Reveal(), body: `{"type":"user.created","data":{"id":"u_1"}}`,
			delivery: webhook.Delivery{ID: "msg_3"}, wantType: "user.created", timestamps: true},
		{provider: "stripe", secret: "whsec_stripe_test_secret_0123456789", body: `{"id":"evt_1NG8Du2eZvKYlo2C","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}`,
			wantType: "payment_intent.succeeded", timestamps: true},
		{provider: "github", secret: "It's a Secret to Everybody", body: `{"action":"opened","number":7,"pull_request":{"id":1}}`,
			delivery: webhook.Delivery{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Type: "pull_request"}, wantType: "pull_request"},
		{provider: "shopify", secret: "shpss_0123456789abcdef", body: `{"id":820982911946154500,"email":"jon@example.com"}`,
			delivery: webhook.Delivery{ID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", Type: "orders/create"}, wantType: "orders.create"},
		{provider: "slack", secret: "8f742231b10e8888abcd99yyyzzz85a5", body: `{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"hi"}}`,
			wantType: "app_mention", timestamps: true},
		{provider: "hmac", secret: "generic-s3cret", body: `{"event":"build.finished","id":"b_1"}`,
			hmac:     &client.HMACConfig{Header: "X-Signature", Prefix: "sha256=", Template: "{timestamp}.{body}", TimestampHeader: "X-Timestamp", IDHeader: "X-Delivery", TypeHeader: "X-Event"},
			delivery: webhook.Delivery{ID: "d_1", Type: "build.finished"}, wantType: "build.finished", timestamps: true},
	}
}

// signer returns the provider's own signer for a case, as the provider's SDK would sign.
func (gc gatewayCase) signer(t *testing.T) webhook.Provider {
	t.Helper()
	if gc.provider == "hmac" {
		h := gc.hmac
		p, err := webhook.NewHMAC(webhook.HMACConfig{Secret: gc.secret, Header: h.Header, Prefix: h.Prefix, Template: h.Template,
			TimestampHeader: h.TimestampHeader, IDHeader: h.IDHeader, TypeHeader: h.TypeHeader})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := webhook.NewProvider(gc.provider, gc.secret)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func postInbound(t *testing.T, url string, body []byte, h http.Header) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header = h.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %q is not JSON", raw)
	}
	return resp.StatusCode, out
}

func errorCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// TestGatewayEveryProvider sends each provider's real signatures to a source: a valid
// webhook is forwarded once, byte for byte, re-signed by herald and with the provider's
// headers passed along; invalid, stale, replayed and oversized ones are not.
func TestGatewayEveryProvider(t *testing.T) {
	c, _ := testServer(t, nil)
	ctx := context.Background()
	base := strings.TrimSuffix(c.BaseURL(), "/")
	app := servertest.NewApp(t, c, client.AppInput{Name: "gateway"})
	dest := newHook(t, nil)
	ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: dest.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	secrets, _ := c.EndpointSecrets(ctx, app.ID, ep.ID)
	dest.useSecrets(t, secrets)

	type sent struct {
		gc   gatewayCase
		body []byte
	}
	forwarded := map[string]sent{} // message id -> what the provider sent
	for _, gc := range gatewayCases() {
		t.Run(gc.provider, func(t *testing.T) {
			src, err := c.CreateSource(ctx, app.ID, client.SourceInput{Provider: gc.provider, Secret: gc.secret, HMAC: gc.hmac, MaxBodyBytes: 4096})
			if err != nil {
				t.Fatal(err)
			}
			url := base + src.IngestPath
			signer := gc.signer(t)
			body := []byte(gc.body)
			h, err := signer.Sign(gc.delivery, body)
			if err != nil {
				t.Fatal(err)
			}
			if h.Get("Content-Type") == "" {
				h.Set("Content-Type", "application/json")
			}
			status, out := postInbound(t, url, body, h)
			if status != 200 || out["received"] != true || out["duplicate"] == true {
				t.Fatalf("valid webhook: %d %v", status, out)
			}
			msgID := out["id"].(string)
			forwarded[msgID] = sent{gc: gc, body: body}
			m, err := c.GetMessage(ctx, app.ID, msgID)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != gc.wantType || m.SourceID != src.ID {
				t.Errorf("message type %q source %q, want %q %q", m.Type, m.SourceID, gc.wantType, src.ID)
			}

			// The provider retries the same delivery: accepted, not forwarded again.
			status, out = postInbound(t, url, body, h)
			if status != 200 || out["duplicate"] != true || out["id"] != msgID {
				t.Errorf("retried webhook: %d %v, want 200 duplicate of %s", status, out, msgID)
			}

			type reject struct {
				name   string
				body   []byte
				header http.Header
				status int
				code   string
			}
			other := gc
			other.secret = "another secret entirely"
			if gc.provider == "openai" || gc.provider == "standard" || gc.provider == "svix" {
				other.secret = webhook.NewHMACSecret().Reveal()
			}
			forged, _ := other.signer(t).Sign(gc.delivery, body)
			tampered := bytes.Replace(body, []byte("}"), []byte(` }`), 1)
			missing := h.Clone()
			for k := range missing {
				if k != "Content-Type" && k != "User-Agent" {
					missing.Del(k)
				}
			}
			big := append(append([]byte(nil), body[:len(body)-1]...), []byte(`,"pad":"`+strings.Repeat("x", 5000)+`"}`)...)
			bigHeader, _ := signer.Sign(gc.delivery, big)
			cases := []reject{
				{"forged signature", body, forged, 401, "invalid_signature"},
				{"tampered body", tampered, h, 401, "invalid_signature"},
				{"no signature headers", body, missing, 400, "missing_header"},
				{"oversized", big, bigHeader, 413, "body_too_large"},
			}
			if gc.timestamps {
				d := gc.delivery
				d.ID += "-stale"
				d.Timestamp = time.Now().Add(-10 * time.Minute)
				stale, _ := signer.Sign(d, body)
				cases = append(cases, reject{"stale timestamp", body, stale, 401, "timestamp_too_old"})
			}
			for _, rc := range cases {
				status, out := postInbound(t, url, rc.body, rc.header)
				if status != rc.status || errorCode(out) != rc.code {
					t.Errorf("%s: %d %s, want %d %s (%v)", rc.name, status, errorCode(out), rc.status, rc.code, out)
				}
			}
			rs, _, err := c.ListRejections(ctx, app.ID, src.ID, client.ListParams{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != len(cases) {
				t.Errorf("%d rejections recorded, want %d", len(rs), len(cases))
			}
			msgs, _, _ := c.ListMessages(ctx, app.ID, client.ListMessagesParams{SourceID: src.ID})
			if len(msgs) != 1 {
				t.Errorf("%d messages from this source, want 1 (rejections and duplicates store nothing)", len(msgs))
			}
		})
	}

	waitFor(t, "every accepted webhook at the destination", func() bool {
		got, _ := dest.received()
		return len(got) >= len(forwarded)
	})
	time.Sleep(100 * time.Millisecond) // a duplicate forward would arrive by now
	got, bad := dest.received()
	if len(bad) > 0 {
		t.Fatalf("%d forwarded webhooks failed herald's signature check: %v", len(bad), bad[0])
	}
	if len(got) != len(forwarded) {
		t.Fatalf("destination got %d requests, want exactly %d", len(got), len(forwarded))
	}
	// Byte for byte, with the provider's headers under the documented prefix: stripped of
	// it, they still verify with the provider's own scheme.
	for _, r := range dest.requests() {
		s, ok := forwarded[r.header.Get("Webhook-Id")]
		if !ok {
			t.Errorf("unexpected forward %s", r.header.Get("Webhook-Id"))
			continue
		}
		if !bytes.Equal(r.body, s.body) {
			t.Errorf("%s: forwarded body differs from what the provider sent", s.gc.provider)
		}
		original := http.Header{}
		for k, v := range r.header {
			if name, ok := strings.CutPrefix(k, domain.ForwardedHeaderPrefix); ok {
				original[http.CanonicalHeaderKey(name)] = v
			}
		}
		if _, err := s.gc.signer(t).Verify(r.body, original); err != nil {
			t.Errorf("%s: the provider's headers, passed along, do not verify: %v (%v)", s.gc.provider, err, original)
		}
	}
	atts, _, _ := c.ListAttempts(ctx, app.ID, client.ListAttemptsParams{EndpointID: ep.ID})
	if len(atts) != len(forwarded) {
		t.Errorf("%d attempts, want %d", len(atts), len(forwarded))
	}
}
