package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/store"
)

// batchItems returns the data array of a batch publish answer, checking that the answer
// has nothing else and that it holds n items.
func batchItems(t *testing.T, got map[string]any, n int) []map[string]any {
	t.Helper()
	wantFields(t, got, "data")
	data, ok := got["data"].([]any)
	if !ok || len(data) != n {
		t.Fatalf("data %v, want an array of %d", got["data"], n)
	}
	out := make([]map[string]any, n)
	for i, d := range data {
		out[i] = d.(map[string]any)
	}
	return out
}

// wantStored checks that message id of app is stored with exactly the payload bytes
// and that it has n deliveries.
func wantStored(t *testing.T, s store.Store, app, id, payload string, n int) {
	t.Helper()
	ctx := context.Background()
	m, err := s.GetMessage(ctx, app, id)
	if err != nil {
		t.Fatalf("message %s: %v", id, err)
	}
	if string(m.Payload) != payload {
		t.Errorf("message %s: stored payload %q, want %q byte for byte", id, m.Payload, payload)
	}
	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AppID: app, MessageID: id})
	if err != nil || len(ds) != n {
		t.Errorf("message %s: %d deliveries stored (%v), want %d", id, len(ds), err, n)
	}
}

// batchSteps is the happy path of POST /v1/apps/{app}/messages/batch, for TestHappyPaths:
// app A has ep1 and ep2 (every type) and, for these steps, an endpoint for invoice.* only.
func batchSteps(f *fixture) []step {
	// The payloads as sent, with their spacing, key order and escapes, to be stored byte for byte.
	payloads := []string{
		`{ "b": 1,  "a": [1, 2], "html": "<b>&</b>" }`,
		`{"n":2,"u":"\u00e9"}`,
		"{\n  \"n\": 3\n}",
	}
	types := []string{"invoice.paid", "invoice.failed", "response.completed"}
	deliveries := []float64{3, 3, 2}
	batch := `{"messages":[
		{"type":"` + types[0] + `","payload":` + payloads[0] + `},
		{"type":"` + types[1] + `","payload":` + payloads[1] + `,"idempotency_key":"batch-1"},
		{"payload":` + payloads[2] + `,"type":"` + types[2] + `"}
	]}`
	names := []string{"BM0", "BM1", "BM2"}

	steps := []step{
		{name: "batch/create an endpoint for invoices", method: "POST", path: "/v1/apps/acme/endpoints", key: "keyA", status: 201, save: "BE",
			body: `{"url":"https://invoices.example.com/hook","event_types":["invoice.*"]}`},
		{name: "batch/publish", method: "POST", path: "/v1/apps/acme/messages/batch", key: "keyA", body: batch, status: 202,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				items := batchItems(t, got, 3)
				seen := map[string]bool{}
				for i, m := range items {
					if i == 1 {
						wantFields(t, m, "id", "app_id", "type", "payload", "idempotency_key", "created_at", "deliveries", "duplicate")
						wantValue(t, m, "idempotency_key", "batch-1")
					} else {
						wantFields(t, m, "id", "app_id", "type", "payload", "created_at", "deliveries", "duplicate")
					}
					wantPrefix(t, m, "id", "msg_")
					wantValue(t, m, "app_id", v["A"])
					wantValue(t, m, "type", types[i]) // in request order
					wantValue(t, m, "deliveries", deliveries[i])
					wantValue(t, m, "duplicate", false)
					wantTime(t, m, "created_at")
					var want any
					if err := json.Unmarshal([]byte(payloads[i]), &want); err != nil {
						t.Fatal(err)
					}
					wantValue(t, m, "payload", want)
					id, _ := m["id"].(string)
					if seen[id] {
						t.Errorf("item %d has the id %s of another item", i, id)
					}
					seen[id] = true
					v[names[i]] = id
					wantStored(t, f.store, v["A"], id, payloads[i], int(deliveries[i]))
				}
			}},
	}
	for i, name := range names {
		steps = append(steps, step{name: "batch/get message " + fmt.Sprint(i), method: "GET", path: "/v1/apps/acme/messages/{" + name + "}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				if i == 1 {
					wantFields(t, got, "id", "app_id", "type", "payload", "idempotency_key", "created_at")
				} else {
					wantFields(t, got, "id", "app_id", "type", "payload", "created_at")
				}
				wantValue(t, got, "id", v[name])
				wantValue(t, got, "type", types[i])
				var want any
				if err := json.Unmarshal([]byte(payloads[i]), &want); err != nil {
					t.Fatal(err)
				}
				wantValue(t, got, "payload", want)
				wantStored(t, f.store, v["A"], v[name], payloads[i], int(deliveries[i]))
			}})
	}
	steps = append(steps, []step{
		{name: "batch/publish again", method: "POST", path: "/v1/apps/{A}/messages/batch", key: "admin", body: batch, status: 202,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				items := batchItems(t, got, 3)
				// The keyed message is the original, and nothing new.
				wantFields(t, items[1], "id", "app_id", "type", "payload", "idempotency_key", "created_at", "duplicate")
				wantValue(t, items[1], "id", v["BM1"])
				wantValue(t, items[1], "duplicate", true)
				wantValue(t, items[1], "type", types[1])
				wantAbsent(t, items[1], "deliveries")
				// The others are new messages.
				for _, i := range []int{0, 2} {
					m := items[i]
					wantFields(t, m, "id", "app_id", "type", "payload", "created_at", "deliveries", "duplicate")
					wantPrefix(t, m, "id", "msg_")
					if m["id"] == v[names[i]] {
						t.Errorf("item %d is the message of the first batch, %s", i, v[names[i]])
					}
					wantValue(t, m, "type", types[i])
					wantValue(t, m, "duplicate", false)
					wantValue(t, m, "deliveries", deliveries[i])
					wantStored(t, f.store, v["A"], m["id"].(string), payloads[i], int(deliveries[i]))
				}
				if items[0]["id"] == items[2]["id"] {
					t.Errorf("items 0 and 2 are one message, %v", items[0]["id"])
				}
				wantStored(t, f.store, v["A"], v["BM1"], payloads[1], int(deliveries[1]))
			}},
		{name: "batch/a key of a single publish", method: "POST", path: "/v1/apps/acme/messages/batch", key: "keyA", status: 202,
			body: `{"messages":[{"type":"other.type","payload":{"n":9},"idempotency_key":"idem-1"}]}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				items := batchItems(t, got, 1)
				wantValue(t, items[0], "id", v["M3"])
				wantValue(t, items[0], "payload", map[string]any{"n": 1.0})
				wantValue(t, items[0], "duplicate", true)
				wantAbsent(t, items[0], "deliveries")
			}},
		{name: "batch/a batch key in a single publish", method: "POST", path: "/v1/apps/acme/messages", key: "keyA", status: 200,
			body: `{"type":"invoice.failed","payload":{},"idempotency_key":"batch-1"}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantValue(t, got, "id", v["BM1"])
				if resp.header.Get("Idempotent-Replayed") != "true" {
					t.Error("no Idempotent-Replayed: true")
				}
			}},
		{name: "batch/the same key in another app is new", method: "POST", path: "/v1/apps/{Z}/messages/batch", key: "admin", status: 202,
			body: `{"messages":[{"type":"invoice.failed","payload":{},"idempotency_key":"batch-1"}]}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				items := batchItems(t, got, 1)
				if items[0]["id"] == v["BM1"] {
					t.Error("the message of app A was answered in app Z")
				}
				wantValue(t, items[0], "app_id", v["Z"])
				wantValue(t, items[0], "duplicate", false)
				wantValue(t, items[0], "deliveries", 0.0)
			}},
		{name: "batch/delete the endpoint for invoices", method: "DELETE", path: "/v1/apps/acme/endpoints/{BE}", key: "keyA", status: 204, changed: 1},
	}...)
	return steps
}

// TestBatchRepeatedKeys checks a batch that repeats an idempotency key: the first
// message with it (in request order) is stored, the later ones are duplicates of it.
func TestBatchRepeatedKeys(t *testing.T) {
	f := newFixture(t)
	var items []string
	for i := range 40 {
		items = append(items, fmt.Sprintf(`{"type":"a.b","payload":{"i":%d},"idempotency_key":"k%d"}`, i, i%4))
	}
	for round := range 5 {
		// Keys of each round are new (k<round>-<n>).
		body := strings.ReplaceAll(`{"messages":[`+strings.Join(items, ",")+`]}`, `"idempotency_key":"k`, fmt.Sprintf(`"idempotency_key":"r%d-k`, round))
		got := batchItems(t, f.must(202, req{method: "POST", path: "/v1/apps/acme/messages/batch", key: f.keyA, body: body}), len(items))
		for i, m := range got {
			first := got[i%4]
			if i < 4 {
				if m["duplicate"] != false || m["deliveries"] != 2.0 {
					t.Errorf("round %d: item %d, the first with its key, is %v", round, i, m)
				}
				continue
			}
			if m["duplicate"] != true || m["id"] != first["id"] || m["deliveries"] != nil {
				t.Errorf("round %d: item %d repeats the key of item %d (%s) but is %v", round, i, i%4, first["id"], m)
			}
			wantValue(t, m, "payload", map[string]any{"i": float64(i % 4)})
		}
	}
}

// TestBatchBodyLimit checks that a batch body may be over the 1 MiB limit of other
// bodies, up to 16 MiB, with every payload within the payload limit.
func TestBatchBodyLimit(t *testing.T) {
	f := newFixture(t)
	payload := `{"x":"` + strings.Repeat("x", 200<<10) + `"}`
	var items []string
	for range 20 { // 4 MiB
		items = append(items, `{"type":"a.b","payload":`+payload+`}`)
	}
	got := batchItems(t, f.must(202, req{method: "POST", path: "/v1/apps/acme/messages/batch", key: f.keyA, body: `{"messages":[` + strings.Join(items, ",") + `]}`}), len(items))
	for _, m := range got {
		wantStored(t, f.store, f.appA, m["id"].(string), payload, 2)
	}

	// 1,000 messages, the most a batch holds.
	items = items[:0]
	for i := range maxBatch {
		items = append(items, fmt.Sprintf(`{"type":"a.b","payload":{"i":%d}}`, i))
	}
	got = batchItems(t, f.must(202, req{method: "POST", path: "/v1/apps/" + f.appA + "/messages/batch", key: f.admin, body: `{"messages":[` + strings.Join(items, ",") + `]}`}), maxBatch)
	for i, m := range got {
		if want := map[string]any{"i": float64(i)}; fmt.Sprint(m["payload"]) != fmt.Sprint(want) {
			t.Fatalf("item %d is %v, want the payload %v", i, m, want)
		}
	}
}

// TestBatchInternalErrors checks a failing engine: 503 while shutting down, else 500.
func TestBatchInternalErrors(t *testing.T) {
	f := newFixture(t)
	publish := req{method: "POST", path: "/v1/apps/acme/messages/batch", key: f.keyA, body: `{"messages":[{"type":"a","payload":{}},{"type":"b","payload":{}}]}`}
	f.engine.PublishErr = fmt.Errorf("publish: %w", store.ErrClosed)
	if resp := f.do(publish); resp.status != 503 || resp.code() != "unavailable" {
		t.Errorf("batch while shutting down: %d %s, want 503 unavailable", resp.status, resp.body)
	}
	f.engine.PublishErr = errors.New("disk on fire")
	if resp := f.do(publish); resp.status != 500 || resp.code() != "internal" || strings.Contains(string(resp.body), "disk") {
		t.Errorf("batch failing: %d %s, want 500 internal", resp.status, resp.body)
	}
}
