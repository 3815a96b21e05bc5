package opevents

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/ingest"
	"github.com/heraldhq/herald/internal/store"
)

// TestDocumentedPayloads checks docs/operational-webhooks.md against what herald sends:
// every event type has an example, and each example has exactly the fields of an event
// of its type as the Notifier publishes it.
func TestDocumentedPayloads(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operational-webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	for _, m := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1) {
		var ex map[string]any
		if err := json.Unmarshal(m[1], &ex); err != nil {
			t.Fatalf("an example is not JSON: %v\n%s", err, m[1])
		}
		typ, _ := ex["type"].(string)
		if _, dup := documented[typ]; dup {
			t.Errorf("%s is documented twice", typ)
		}
		documented[typ] = keys("", ex)
	}

	sent := map[string][]string{}
	for _, e := range everyEvent(t) {
		var ev map[string]any
		if err := json.Unmarshal(mustMarshal(t, e), &ev); err != nil {
			t.Fatal(err)
		}
		if _, seen := sent[e.Type]; !seen {
			sent[e.Type] = keys("", ev)
		}
	}
	for _, typ := range domain.OperationalEventTypes() {
		got, want := documented[typ], sent[typ]
		switch {
		case want == nil:
			t.Errorf("the scenario sent no %s", typ)
		case got == nil:
			t.Errorf("%s has no example in docs/operational-webhooks.md", typ)
		case !slices.Equal(got, want):
			t.Errorf("%s: the example has the fields\n  %v\nherald sends\n  %v", typ, got, want)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keys returns the dotted paths of every field of a decoded JSON object, sorted.
func keys(prefix string, v any) []string {
	var out []string
	if m, ok := v.(map[string]any); ok {
		for k, val := range m {
			out = append(out, prefix+k)
			out = append(out, keys(prefix+k+".", val)...)
		}
	}
	sort.Strings(out)
	return out
}

// everyEvent runs a Notifier through a scenario that sends each operational event
// type, as the doc's examples show it, and returns the events in order.
func everyEvent(t *testing.T) []event {
	f := newFixture(t)
	n := f.notifier(func(c *Config) { c.FailingAfter = 4; c.Spike = SpikeConfig{MinRejections: 1, Rate: 0.5} })
	ep := *f.ep
	n.EndpointCreated(&ep)
	next := ep
	next.URL, next.EventTypes = "https://example.com/v2", []string{"a.b"}
	n.EndpointUpdated(&ep, &next)
	for i := range 4 {
		n.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(i+1, 500, domain.DeliveryPending)})
	}
	last := f.attempt(10, 500, domain.DeliveryFailed)
	n.AttemptsRecorded([]delivery.RecordedAttempt{last})
	recordAttempt(t, f) // the latest attempt endpoint.disabled reports
	n.EndpointsDisabled([]*domain.Endpoint{withFailing(next)}, "failing continuously for 120h0m0s")
	disabled := next
	disabled.SetState(domain.EndpointDisabled, "failing continuously for 120h0m0s")
	enabled := disabled
	enabled.SetState(domain.EndpointEnabled, "")
	n.EndpointUpdated(&disabled, &enabled)
	n.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(1, 200, domain.DeliverySucceeded)})
	n.Received(ingest.Received{Source: &domain.Source{ID: "src_1", AppID: f.app.ID}, At: time.Now(), Rejected: true,
		Status: 401, Code: "invalid_signature", Message: "no signature matches"})
	n.EndpointDeleted(&enabled)
	flush(n)
	es := f.events()
	want := "endpoint.created endpoint.updated message.attempt.failing message.attempt.exhausted endpoint.disabled " +
		"endpoint.enabled message.attempt.recovered source.rejections.spiking endpoint.deleted"
	if got := strings.Join(types(es), " "); got != want {
		t.Fatalf("the scenario sent %s", got)
	}
	return es
}

func withFailing(e domain.Endpoint) *domain.Endpoint {
	since := time.Now().Add(-time.Hour)
	e.FailingSince = &since
	e.SetState(domain.EndpointDisabled, "failing continuously for 120h0m0s")
	return &e
}

// recordAttempt stores a failed attempt of the fixture's endpoint.
func recordAttempt(t *testing.T, f *fixture) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	m := &domain.Message{ID: ids.New("msg"), AppID: f.app.ID, Type: "a.b", Payload: json.RawMessage(`{}`), CreatedAt: now}
	if _, err := f.store.Publish(bg, &store.PublishInput{Message: m, IdempotencyTTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	cs, err := f.store.Claim(bg, store.ClaimRequest{Owner: "t", Now: now.Add(time.Second), LeaseUntil: now.Add(time.Minute), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cs, func(c *store.Claimed) bool { return c.Delivery.MessageID == m.ID })
	if i < 0 {
		t.Fatal("the message's delivery was not claimed")
	}
	d := cs[i].Delivery
	a := &domain.Attempt{ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
		Number: 1, StartedAt: now, StatusCode: 503, Error: "HTTP 503", Outcome: domain.OutcomeFailed}
	if err := f.store.Complete(bg, []*store.AttemptResult{{Attempt: a, Status: domain.DeliveryFailed, EndpointFailed: true}}); err != nil {
		t.Fatal(err)
	}
}
