package delivery

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/transform"
	"github.com/heraldhq/herald/webhook"
)

// withSandbox gives an engine a transformation sandbox whose runs may take limit.
func withSandbox(limit time.Duration) func(*Config) {
	return func(c *Config) { c.Transforms = transform.New(transform.Config{Timeout: limit}) }
}

// slackReceiver is a fake Slack incoming webhook: it accepts what Slack accepts (a JSON
// object with a non-empty text, blocks of known shape, nothing else at the top level)
// with 200 "ok", and answers anything else 400 invalid_payload, as Slack does. It
// keeps the accepted messages and the signatures they came with.
type slackReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	accepted []map[string]any
	rejected []string
	verified int // accepted messages whose webhook-signature covers the body Slack got
}

// slackFields are the top-level fields of a Slack incoming-webhook message.
var slackFields = map[string]bool{"text": true, "blocks": true, "attachments": true, "thread_ts": true, "mrkdwn": true,
	"unfurl_links": true, "unfurl_media": true, "username": true, "icon_emoji": true, "icon_url": true, "channel": true}

func newSlackReceiver(t *testing.T, verify *webhook.Standard) *slackReceiver {
	s := &slackReceiver{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg, reason := slackMessage(r, body)
		s.mu.Lock()
		defer s.mu.Unlock()
		if reason != "" {
			s.rejected = append(s.rejected, reason)
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		s.accepted = append(s.accepted, msg)
		if _, err := verify.Verify(body, r.Header); err == nil {
			s.verified++
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// slackMessage checks a request as Slack's incoming webhooks would; reason says what is
// wrong, "" when nothing is.
func slackMessage(r *http.Request, body []byte) (map[string]any, string) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return nil, "not a JSON POST: " + r.Method + " " + r.Header.Get("Content-Type")
	}
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil {
		return nil, "not a JSON object: " + err.Error()
	}
	for k := range msg {
		if !slackFields[k] {
			return nil, "unknown field " + k
		}
	}
	if text, _ := msg["text"].(string); text == "" {
		return nil, "no_text"
	}
	blocks, _ := msg["blocks"].([]any)
	if len(blocks) > 50 {
		return nil, "too many blocks"
	}
	for i, b := range blocks {
		block, _ := b.(map[string]any)
		if block == nil || block["type"] != "section" {
			return nil, fmt.Sprintf("block %d is not a section", i)
		}
		text, _ := block["text"].(map[string]any)
		s, _ := text["text"].(string)
		if text == nil || (text["type"] != "mrkdwn" && text["type"] != "plain_text") || s == "" || len([]rune(s)) > 3000 {
			return nil, fmt.Sprintf("block %d has no text of 1 to 3000 characters", i)
		}
	}
	return msg, ""
}

// bodyReceiver records each request as "METHOD body" and counts those whose signature
// does not cover the body it got.
type bodyReceiver struct {
	srv    *httptest.Server
	secret webhook.Secret
	mu     sync.Mutex
	got    []string
	bad    int
}

func newBodyReceiver(t *testing.T) *bodyReceiver {
	r := &bodyReceiver{secret: webhook.NewHMACSecret()}
	verify, _ := webhook.NewStandardKeys([]webhook.Secret{r.secret})
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		_, err := verify.Verify(body, req.Header)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, req.Method+" "+string(body))
		if err != nil {
			r.bad++
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *bodyReceiver) requests() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...), r.bad
}

// TestEngineSlackTemplate sends events through the Slack template to a fake Slack: each
// arrives as a message Slack accepts, signed over the transformed body.
func TestEngineSlackTemplate(t *testing.T) {
	h := newHarness(t, withSandbox(5*time.Second))
	secret := webhook.NewHMACSecret()
	verify, _ := webhook.NewStandardKeys([]webhook.Secret{secret})
	slack := newSlackReceiver(t, verify)
	tpl, _ := transform.TemplateByName("slack")
	e := createEndpoint(t, h.store, h.app.ID, slack.srv.URL, secret, func(e *domain.Endpoint) { e.Transformation = tpl.Script })
	big := strings.Repeat("x", 10_000) // longer than a Slack section holds
	for _, p := range []string{`{"id": "in_1", "amount": 4200}`, `{"note": "` + big + `"}`} {
		if _, err := h.eng.Publish(bg, newMessage(h.app.ID, "invoice.paid", p)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "two deliveries to finish", func() bool {
		return len(h.deliveries(e.ID, domain.DeliverySucceeded))+len(h.deliveries(e.ID, domain.DeliveryFailed)) == 2
	})
	slack.mu.Lock()
	defer slack.mu.Unlock()
	if len(slack.rejected) > 0 || len(slack.accepted) != 2 || slack.verified != 2 {
		t.Fatalf("Slack accepted %d (%d signed over what it got) and rejected %q", len(slack.accepted), slack.verified, slack.rejected)
	}
	if text := slack.accepted[0]["text"]; text != "Event invoice.paid" {
		t.Errorf("text = %v", text)
	}
}

// TestEngineRunawayTransformation gives one endpoint a script that never ends: its
// attempts stop at the time limit and are recorded as such, while the deliveries of an
// endpoint with a working script and of one without any all arrive.
func TestEngineRunawayTransformation(t *testing.T) {
	h := newHarness(t, withSandbox(300*time.Millisecond))
	runaway, good, plain := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	slow := []time.Duration{time.Second, time.Second}
	loop := h.endpoint(runaway, func(e *domain.Endpoint) {
		e.Transformation = "function handler(webhook) {\n  while (true) {}\n}"
		e.RetrySchedule = slow
	})
	goodEp := h.endpoint(good, func(e *domain.Endpoint) {
		e.Transformation = "function handler(w) { w.payload = {n: w.payload.n}; return w }"
		e.RetrySchedule = slow
	})
	plainEp := h.endpoint(plain, nil)
	const n = 20
	h.publish("load.test", n)
	eventually(t, "every delivery of the good endpoints", func() bool {
		g, _ := good.count()
		p, _ := plain.count()
		return g == n && p == n
	})
	for _, ep := range []*domain.Endpoint{goodEp, plainEp} {
		eventually(t, "the good endpoints' deliveries to be recorded", func() bool {
			return len(h.deliveries(ep.ID, domain.DeliverySucceeded)) == n
		})
	}
	eventually(t, "the runaway endpoint's first attempts", func() bool {
		atts, _, _ := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, EndpointID: loop.ID})
		return len(atts) >= n
	})
	atts, _, _ := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, EndpointID: loop.ID})
	for _, a := range atts {
		if !strings.HasPrefix(a.Error, "transformation timeout error") || !strings.Contains(a.Error, "time limit") ||
			a.StatusCode != 0 || len(a.RequestHeaders) != 0 || a.Outcome == domain.OutcomeSucceeded {
			t.Fatalf("runaway attempt: %+v; want the time limit and no request", a)
		}
	}
	if got, _ := runaway.count(); got != 0 {
		t.Errorf("the runaway endpoint's receiver got %d requests", got)
	}
	if ep, _ := h.store.GetEndpoint(bg, h.app.ID, loop.ID); ep.FailingSince != nil {
		t.Error("a failing transformation marked the receiver as failing")
	}
}

// TestEngineTransformationErrorsAndCancel checks a script that throws (the delivery
// fails at once, the error and its line on the attempt) and one that cancels some
// deliveries (recorded as cancelled, nothing sent) and reshapes the others.
func TestEngineTransformationErrorsAndCancel(t *testing.T) {
	h := newHarness(t, withSandbox(5*time.Second))
	throws := newReceiver(t, nil)
	cancels := newBodyReceiver(t)
	thrower := h.endpoint(throws, func(e *domain.Endpoint) {
		e.EventTypes = []string{"throw.*"}
		e.Transformation = "function handler(webhook) {\n  throw new Error('boom ' + webhook.eventType);\n}"
	})
	canceller := createEndpoint(t, h.store, h.app.ID, cancels.srv.URL, cancels.secret, func(e *domain.Endpoint) {
		e.EventTypes = []string{"cancel.*"}
		e.Transformation = `function handler(w) {
  if (w.payload.n % 2 === 1) { w.cancel = true; return w; }
  w.payload = {even: w.payload.n};
  w.method = "PUT";
  return w;
}`
	})
	h.publish("throw.it", 1)
	h.publish("cancel.some", 4)
	eventually(t, "the thrower's delivery to fail", func() bool { return len(h.deliveries(thrower.ID, domain.DeliveryFailed)) == 1 })
	d := h.deliveries(thrower.ID, "")[0]
	want := "transformation runtime error at line 2: Error: boom throw.it"
	if d.Attempts != 1 || d.LastError != want {
		t.Errorf("thrower: %d attempts, last error %q; want 1 and %q", d.Attempts, d.LastError, want)
	}
	atts, _, _ := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, DeliveryID: d.ID})
	if len(atts) != 1 || atts[0].Outcome != domain.OutcomeFailed || atts[0].Error != want {
		t.Errorf("thrower's attempts: %+v", atts)
	}

	eventually(t, "the canceller's deliveries to end", func() bool {
		return len(h.deliveries(canceller.ID, domain.DeliveryCancelled)) == 2 && len(h.deliveries(canceller.ID, domain.DeliverySucceeded)) == 2
	})
	for _, d := range h.deliveries(canceller.ID, domain.DeliveryCancelled) {
		atts, _, _ := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, DeliveryID: d.ID})
		if d.Attempts != 1 || d.NextAttemptAt != nil || len(atts) != 1 || atts[0].Outcome != domain.OutcomeCancelled || len(atts[0].RequestHeaders) != 0 {
			t.Errorf("cancelled delivery %+v, attempts %+v", d, atts)
		}
	}
	got, bad := cancels.requests()
	if len(got) != 2 || bad != 0 {
		t.Fatalf("the canceller's receiver got %q, %d badly signed; want 2 signed ones", got, bad)
	}
	for _, r := range got {
		if !strings.HasPrefix(r, `PUT {"even":`) {
			t.Errorf("received %q, want the transformed request", r)
		}
	}
	if throwsGot, _ := throws.count(); throwsGot != 0 {
		t.Errorf("the thrower's receiver got %d requests", throwsGot)
	}
}

// TestEngineTransformationCache checks that a changed script is used from the next
// delivery on.
func TestEngineTransformationCache(t *testing.T) {
	h := newHarness(t, withSandbox(5*time.Second))
	rcv := newBodyReceiver(t)
	e := createEndpoint(t, h.store, h.app.ID, rcv.srv.URL, rcv.secret, func(e *domain.Endpoint) {
		e.Transformation = `function handler(w) { w.payload = {v: 1}; return w }`
	})
	received := func(n int) func() bool {
		return func() bool { got, _ := rcv.requests(); return len(got) == n }
	}
	h.publish("x.y", 1)
	eventually(t, "the first delivery", received(1))
	e.Transformation = `function handler(w) { w.payload = {v: 2}; w.method = "PATCH"; return w }`
	if err := h.store.UpdateEndpoint(bg, e); err != nil {
		t.Fatal(err)
	}
	h.eng.EndpointChanged(e.ID)
	h.publish("x.y", 1)
	eventually(t, "the second delivery", received(2))
	e.Transformation = ""
	if err := h.store.UpdateEndpoint(bg, e); err != nil {
		t.Fatal(err)
	}
	h.eng.EndpointChanged(e.ID)
	h.publish("x.y", 1)
	eventually(t, "the third delivery", received(3))
	got, bad := rcv.requests()
	want := []string{`POST {"v":1}`, `PATCH {"v":2}`, `POST {"type":"x.y","n":0}`}
	if fmt.Sprint(got) != fmt.Sprint(want) || bad != 0 {
		t.Errorf("received %q (%d badly signed), want %q", got, bad, want)
	}
}
