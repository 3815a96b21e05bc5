package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/api/apitest"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// newServer starts the real API over a SQLite store in a temporary directory and
// returns a client with an admin key, the store and the server's URL. Every answer
// is checked against openapi.yaml.
func newServer(t *testing.T) (*client.Client, store.Store, string) {
	t.Helper()
	srv := apitest.NewServer(t)
	return client.New(srv.URL+"/", srv.AdminKey, nil), srv.Store, srv.URL
}

// apiError returns err as an *client.Error, failing the test if it is not one.
func apiError(t *testing.T, err error) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *client.Error", err, err)
	}
	return e
}

func TestErrors(t *testing.T) {
	c, _, url := newServer(t)
	ctx := context.Background()

	_, err := c.GetApp(ctx, "nope")
	e := apiError(t, err)
	if e.Status != 404 || e.Code != "not_found" || !strings.Contains(e.Message, "nope") {
		t.Errorf("GetApp(nope) = %+v", e)
	}
	if want := "not_found: " + e.Message + " (HTTP 404)"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}

	_, err = c.CreateApp(ctx, client.AppInput{Name: ""})
	if e := apiError(t, err); e.Status != 400 || e.Code != "invalid_field" || !strings.Contains(e.Message, "name") {
		t.Errorf("CreateApp without a name = %+v", e)
	}

	key, _, _ := api.NewAPIKey()
	_, _, err = client.New(url, key, nil).ListApps(ctx, client.ListParams{})
	if e := apiError(t, err); e.Status != 401 || e.Code != "unauthorized" {
		t.Errorf("unknown key = %+v", e)
	}

	_, _, err = c.ListApps(ctx, client.ListParams{Limit: 5000})
	if e := apiError(t, err); e.Status != 400 || e.Code != "invalid_query" {
		t.Errorf("limit 5000 = %+v", e)
	}

	// An answer that is not the API's error JSON, such as a proxy's.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>upstream\n down</html>", http.StatusBadGateway)
	}))
	defer proxy.Close()
	_, err = client.New(proxy.URL, key, nil).GetApp(ctx, "acme")
	if e := apiError(t, err); e.Status != 502 || e.Code != "bad_gateway" || e.Message != "<html>upstream down</html>" {
		t.Errorf("502 from a proxy = %+v", e)
	}

	// Transport errors name the method and path.
	err = client.New("http://127.0.0.1:1", key, nil).DeleteApp(ctx, "a b")
	var ce *client.Error
	if err == nil || errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "DELETE /v1/apps/a%20b: ") {
		t.Errorf("connection refused: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.GetApp(cctx, "acme"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want context.Canceled", err)
	}

	// A 2xx answer that is not what was asked for.
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not json"))
	}))
	defer garbage.Close()
	if _, err := client.New(garbage.URL, key, nil).GetApp(ctx, "acme"); err == nil || !strings.Contains(err.Error(), "GET /v1/apps/acme: decode answer") {
		t.Errorf("undecodable answer: %v", err)
	}
}

func TestPagination(t *testing.T) {
	c, _, _ := newServer(t)
	ctx := context.Background()
	var created []string
	for i := range 5 {
		a, err := c.CreateApp(ctx, client.AppInput{Name: "app " + string(rune('A'+i))})
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, a.ID)
	}
	var got []string
	cursor, pages := "", 0
	for {
		apps, next, err := c.ListApps(ctx, client.ListParams{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(apps) > 2 {
			t.Fatalf("page of %d apps, want at most 2", len(apps))
		}
		for _, a := range apps {
			got = append(got, a.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if pages != 3 || len(got) != 5 {
		t.Fatalf("%d pages, %d apps; want 3 pages of 5 apps", pages, len(got))
	}
	for i, id := range got { // newest first
		if id != created[len(created)-1-i] {
			t.Errorf("apps in order %v, want newest first of %v", got, created)
			break
		}
	}
	if _, _, err := c.ListApps(ctx, client.ListParams{Cursor: "bogus"}); apiError(t, err).Code != "invalid_query" {
		t.Errorf("bogus cursor: %v", err)
	}
}

func TestAppsAndKeys(t *testing.T) {
	c, _, url := newServer(t)
	ctx := context.Background()
	a, err := c.CreateApp(ctx, client.AppInput{Name: "Acme", UID: "acme", Metadata: map[string]string{"plan": "pro"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ID, "app_") || a.UID != "acme" || a.Metadata["plan"] != "pro" || a.CreatedAt.IsZero() {
		t.Errorf("CreateApp = %+v", a)
	}
	name := "Acme Corp"
	u, err := c.UpdateApp(ctx, "acme", client.AppUpdate{Name: &name})
	if err != nil || u.Name != name || u.UID != "acme" || u.Metadata["plan"] != "pro" {
		t.Errorf("UpdateApp(name) = %+v, %v; want only the name changed", u, err)
	}
	if u, err := c.UpdateApp(ctx, a.ID, client.AppUpdate{Metadata: map[string]string{}}); err != nil || len(u.Metadata) != 0 {
		t.Errorf("UpdateApp(empty metadata) = %+v, %v; want the metadata cleared", u, err)
	}
	if _, err := c.CreateApp(ctx, client.AppInput{Name: "Again", UID: "acme"}); apiError(t, err).Code != "conflict" {
		t.Errorf("taken uid: %v", err)
	}

	k, err := c.CreateAPIKey(ctx, "acme", client.APIKeyInput{Name: "ci"})
	if err != nil || !strings.HasPrefix(k.Key, "hk_") || k.AppID != a.ID || !strings.HasPrefix(k.Key, k.Prefix) {
		t.Fatalf("CreateAPIKey = %+v, %v", k, err)
	}
	appClient := client.New(url, k.Key, nil)
	if got, err := appClient.GetApp(ctx, a.ID); err != nil || got.ID != a.ID {
		t.Errorf("app key GetApp = %+v, %v", got, err)
	}
	if _, _, err := appClient.ListApps(ctx, client.ListParams{}); apiError(t, err).Code != "forbidden" {
		t.Errorf("app key ListApps: %v", err)
	}
	keys, next, err := c.ListAPIKeys(ctx, a.ID, client.ListParams{})
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID || keys[0].Key != "" || next != "" {
		t.Errorf("ListAPIKeys = %+v, %q, %v", keys, next, err)
	}
	admin, err := c.CreateAPIKey(ctx, "", client.APIKeyInput{Name: "ops"})
	if err != nil || admin.AppID != "" {
		t.Fatalf("CreateAPIKey(admin) = %+v, %v", admin, err)
	}
	if keys, _, err := c.ListAPIKeys(ctx, "", client.ListParams{}); err != nil || len(keys) != 2 {
		t.Errorf("ListAPIKeys(admin) = %d keys, %v; want 2", len(keys), err)
	}
	if err := c.DeleteAPIKey(ctx, "", admin.ID); err != nil {
		t.Errorf("DeleteAPIKey(admin): %v", err)
	}
	if err := c.DeleteAPIKey(ctx, a.ID, k.ID); err != nil {
		t.Errorf("DeleteAPIKey: %v", err)
	}
	if err := c.DeleteApp(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetApp(ctx, a.ID); apiError(t, err).Code != "not_found" {
		t.Errorf("GetApp after DeleteApp: %v", err)
	}
}

func TestEndpoints(t *testing.T) {
	c, _, _ := newServer(t)
	ctx := context.Background()
	a, err := c.CreateApp(ctx, client.AppInput{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	in := client.EndpointInput{
		URL: "https://example.com/hook", Description: "d", EventTypes: []string{"invoice.*"},
		Headers: map[string]string{"X-Token": "t"}, TimeoutMS: 5000, RateLimit: 1.5, FIFO: true,
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}
	e, err := c.CreateEndpoint(ctx, a.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if e.AppID != a.ID || e.URL != in.URL || e.State != client.EndpointEnabled || e.TimeoutMS != 5000 || !e.FIFO ||
		e.RateLimit != 1.5 || len(e.EventTypes) != 1 || e.Headers["X-Token"] != "t" {
		t.Errorf("CreateEndpoint = %+v", e)
	}
	if _, err := c.CreateEndpoint(ctx, a.ID, client.EndpointInput{URL: "http://169.254.169.254/"}); apiError(t, err).Code != "url_not_allowed" {
		t.Errorf("metadata address: %v", err)
	}

	paused, fifo := client.EndpointPaused, false
	u, err := c.UpdateEndpoint(ctx, a.ID, e.ID, client.EndpointUpdate{State: &paused, FIFO: &fifo, EventTypes: []string{}})
	if err != nil || u.State != paused || u.FIFO || len(u.EventTypes) != 0 || u.TimeoutMS != 5000 || u.Description != "d" {
		t.Errorf("UpdateEndpoint = %+v, %v; want state, fifo and event types changed, the rest kept", u, err)
	}
	eps, _, err := c.ListEndpoints(ctx, a.ID, client.ListParams{})
	if err != nil || len(eps) != 1 || eps[0].ID != e.ID {
		t.Errorf("ListEndpoints = %+v, %v", eps, err)
	}
	if got, err := c.GetEndpoint(ctx, a.ID, e.ID); err != nil || got.State != paused {
		t.Errorf("GetEndpoint = %+v, %v", got, err)
	}

	secrets, err := c.EndpointSecrets(ctx, a.ID, e.ID)
	if err != nil || len(secrets) != 1 || secrets[0].Secret != in.Secret || secrets[0].ExpiresAt != nil {
		t.Errorf("EndpointSecrets = %+v, %v", secrets, err)
	}
	hour := 3600
	secrets, err = c.RotateEndpointSecret(ctx, a.ID, e.ID, client.RotateSecretInput{GracePeriodSeconds: &hour})
	if err != nil || len(secrets) != 2 || !strings.HasPrefix(secrets[0].Secret, "whsec_") || secrets[1].Secret != in.Secret ||
		secrets[1].ExpiresAt == nil || time.Until(*secrets[1].ExpiresAt) > time.Hour {
		t.Errorf("RotateEndpointSecret = %+v, %v", secrets, err)
	}

	if err := c.DeleteEndpoint(ctx, a.ID, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEndpoint(ctx, a.ID, e.ID); apiError(t, err).Code != "not_found" {
		t.Errorf("GetEndpoint after delete: %v", err)
	}
}

func TestMessagesAndDeliveries(t *testing.T) {
	c, st, _ := newServer(t)
	ctx := context.Background()
	a, e := newAppAndEndpoint(t, c)

	// The payload is sent byte for byte: not compacted, no HTML escaping.
	payload := "{\n  \"html\": \"<b>&</b>\"\n}"
	m, n, replayed, err := c.Publish(ctx, "acme", client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(payload), IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || replayed || !strings.HasPrefix(m.ID, "msg_") || m.AppID != a.ID || m.IdempotencyKey != "k1" {
		t.Errorf("Publish = %+v, %d, %v", m, n, replayed)
	}
	if stored, err := st.GetMessage(ctx, a.ID, m.ID); err != nil || string(stored.Payload) != payload {
		t.Errorf("stored payload %q, %v; want %q", stored.Payload, err, payload)
	}
	again, n, replayed, err := c.Publish(ctx, "acme", client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(`{}`), IdempotencyKey: "k1"})
	if err != nil || !replayed || again.ID != m.ID || n != 0 {
		t.Errorf("Publish with a seen key = %+v, %d, %v, %v; want the original, replayed", again, n, replayed, err)
	}
	if _, _, _, err := c.Publish(ctx, "acme", client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(`{nope`)}); err == nil || !strings.Contains(err.Error(), "POST /v1/apps/acme/messages: encode request") {
		t.Errorf("invalid payload: %v", err)
	}
	if _, _, _, err := c.Publish(ctx, "acme", client.MessageInput{Type: "invoice.paid"}); apiError(t, err).Code != "invalid_field" {
		t.Errorf("no payload: %v", err)
	}
	m2, _, _, err := c.Publish(ctx, "acme", client.MessageInput{Type: "customer.created", Payload: json.RawMessage(`{"id":"cus_1"}`)})
	if err != nil {
		t.Fatal(err)
	}

	msgs, _, err := c.ListMessages(ctx, "acme", client.ListMessagesParams{Type: "invoice.paid", Since: time.Now().Add(-time.Hour)})
	if err != nil || len(msgs) != 1 || msgs[0].ID != m.ID {
		t.Errorf("ListMessages(type, since) = %+v, %v", msgs, err)
	}
	if msgs, _, err := c.ListMessages(ctx, "acme", client.ListMessagesParams{Until: time.Now().Add(-time.Hour)}); err != nil || len(msgs) != 0 {
		t.Errorf("ListMessages(until an hour ago) = %+v, %v", msgs, err)
	}
	if got, err := c.GetMessage(ctx, "acme", m2.ID); err != nil || string(got.Payload) != `{"id":"cus_1"}` || got.Type != "customer.created" {
		t.Errorf("GetMessage = %+v, %v", got, err)
	}

	ds, _, err := c.ListDeliveries(ctx, "acme", client.ListDeliveriesParams{MessageID: m.ID})
	if err != nil || len(ds) != 1 || ds[0].EndpointID != e.ID || ds[0].Status != client.DeliveryPending {
		t.Fatalf("ListDeliveries(message) = %+v, %v", ds, err)
	}
	// Fail both deliveries through the store, as the engine would.
	now := time.Now()
	claimed, err := st.Claim(ctx, store.ClaimRequest{Owner: "test", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10})
	if err != nil || len(claimed) != 2 {
		t.Fatalf("Claim = %d, %v", len(claimed), err)
	}
	var results []*store.AttemptResult
	for _, cl := range claimed {
		d := cl.Delivery
		results = append(results, &store.AttemptResult{
			Attempt: &domain.Attempt{ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
				Number: 1, StartedAt: now, Latency: 1500 * time.Microsecond, StatusCode: 503, ResponseBody: []byte("busy"), Outcome: domain.OutcomeFailed},
			Status: domain.DeliveryFailed, EndpointFailed: true,
		})
	}
	if err := st.Complete(ctx, results); err != nil {
		t.Fatal(err)
	}
	d, err := c.GetDelivery(ctx, "acme", ds[0].ID)
	if err != nil || d.Status != client.DeliveryFailed || d.Attempts != 1 || d.LastStatusCode != 503 {
		t.Errorf("GetDelivery = %+v, %v", d, err)
	}
	atts, _, err := c.ListDeliveryAttempts(ctx, "acme", d.ID, client.ListParams{})
	if err != nil || len(atts) != 1 || atts[0].LatencyMS != 1.5 || atts[0].StatusCode != 503 || atts[0].ResponseBody != "busy" || atts[0].Outcome != client.OutcomeFailed {
		t.Errorf("ListDeliveryAttempts = %+v, %v", atts, err)
	}
	atts, _, err = c.ListAttempts(ctx, "acme", client.ListAttemptsParams{EndpointID: e.ID, Since: now.Add(-time.Minute)})
	if err != nil || len(atts) != 2 {
		t.Errorf("ListAttempts(endpoint) = %d, %v; want 2", len(atts), err)
	}
	if failing, err := c.GetEndpoint(ctx, "acme", e.ID); err != nil || failing.FailingSince == nil {
		t.Errorf("endpoint after failures = %+v, %v; want failing_since", failing, err)
	}

	r, err := c.RetryDelivery(ctx, "acme", d.ID)
	if err != nil || r.Status != client.DeliveryPending || r.NextAttemptAt == nil {
		t.Errorf("RetryDelivery = %+v, %v", r, err)
	}
	if _, err := c.RetryDelivery(ctx, "acme", "dlv_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C"); apiError(t, err).Code != "not_found" {
		t.Errorf("RetryDelivery(unknown): %v", err)
	}

	// Replay the other failed delivery, in batches of one.
	in := client.ReplayInput{Status: client.DeliveryFailed, Since: now.Add(-time.Hour), Limit: 1}
	res, err := c.Replay(ctx, "acme", e.ID, in)
	if err != nil || res.Replayed != 1 || res.Next == "" {
		t.Fatalf("Replay = %+v, %v", res, err)
	}
	in.After = res.Next
	if res, err := c.Replay(ctx, "acme", e.ID, in); err != nil || res.Replayed != 0 || res.Next != "" {
		t.Errorf("Replay(after) = %+v, %v; want the end", res, err)
	}
	if ds, _, err := c.ListDeliveries(ctx, "acme", client.ListDeliveriesParams{EndpointID: e.ID, Status: client.DeliveryPending}); err != nil || len(ds) != 2 {
		t.Errorf("pending deliveries after retry and replay = %d, %v; want 2", len(ds), err)
	}
	if _, err := c.Replay(ctx, "acme", e.ID, client.ReplayInput{Status: "pending"}); apiError(t, err).Code != "invalid_field" {
		t.Errorf("Replay(pending): %v", err)
	}
}

// newAppAndEndpoint creates the app acme and an endpoint of it.
func newAppAndEndpoint(t *testing.T, c *client.Client) (*client.App, *client.Endpoint) {
	t.Helper()
	ctx := context.Background()
	a, err := c.CreateApp(ctx, client.AppInput{Name: "Acme", UID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.CreateEndpoint(ctx, "acme", client.EndpointInput{URL: "https://example.com/hook"})
	if err != nil {
		t.Fatal(err)
	}
	return a, e
}

func TestReplayApp(t *testing.T) {
	c, st, _ := newServer(t)
	ctx := context.Background()
	a, e := newAppAndEndpoint(t, c)
	for range 3 {
		if _, _, _, err := c.Publish(ctx, "acme", client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	apitest.FinishDue(t, st, 500)
	j, err := c.ReplayApp(ctx, "acme", client.AppReplayInput{Status: []string{client.DeliveryFailed}, EventTypes: []string{"invoice.*"}, Since: time.Now().Add(-time.Hour)})
	if err != nil || j.AppID != a.ID || j.Since == nil || len(j.Status) != 1 {
		t.Fatalf("ReplayApp = %+v, %v", j, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for j.State == client.ReplayRunning && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if j, err = c.GetReplay(ctx, "acme", j.ID); err != nil {
			t.Fatal(err)
		}
	}
	if j.State != client.ReplayDone || j.Done != 3 || j.MessagesScanned != 3 || j.Progress != 1 || j.FinishedAt == nil {
		t.Errorf("finished replay = %+v", j)
	}
	if js, next, err := c.ListReplays(ctx, "acme", client.ListParams{}); err != nil || len(js) != 1 || next != "" || js[0].ID != j.ID {
		t.Errorf("ListReplays = %v, %q, %v", js, next, err)
	}
	if got, err := c.CancelReplay(ctx, "acme", j.ID); err != nil || got.State != client.ReplayDone {
		t.Errorf("CancelReplay of a finished replay = %+v, %v", got, err)
	}
	if _, err := c.ReplayApp(ctx, "acme", client.AppReplayInput{Status: []string{client.DeliveryPending}}); apiError(t, err).Code != client.CodeInvalidField {
		t.Errorf("ReplayApp(pending): %v", err)
	}
	if ds, _, err := c.ListDeliveries(ctx, "acme", client.ListDeliveriesParams{EndpointID: e.ID, Status: client.DeliveryPending}); err != nil || len(ds) != 3 {
		t.Errorf("pending deliveries after the replay = %d, %v; want 3", len(ds), err)
	}
}
