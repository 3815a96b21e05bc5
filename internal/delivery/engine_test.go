package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
	"github.com/heraldhq/herald/webhook"
)

type harness struct {
	t     *testing.T
	store *sqlite.Store
	eng   *Engine
	app   *domain.App
}

// newHarness starts an engine on a new SQLite store, with a short retry schedule and an
// app to publish to; mutate (if not nil) changes its configuration first.
func newHarness(t *testing.T, mutate func(c *Config)) *harness {
	t.Helper()
	s := sqlitetest.Open(t, sqlite.Options{})
	cfg := Config{
		Store:  s,
		Logger: discardLogger(),
		Guard:  loopbackGuard(),
		Policy: Policy{Schedule: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}},
		Lease:  3 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	return &harness{t: t, store: s, eng: startEngine(t, cfg), app: createApp(t, s)}
}

// receiver is a webhook endpoint on loopback that verifies every request and records it.
type receiver struct {
	srv      *httptest.Server
	secret   webhook.Secret
	verifier *webhook.Standard
	mu       sync.Mutex
	got      []webhook.Delivery
	bad      int
	respond  func(n int, w http.ResponseWriter) // n: 1-based request count
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter)) *receiver {
	r := &receiver{secret: webhook.NewHMACSecret(), respond: respond}
	r.verifier, _ = webhook.NewStandardKeys([]webhook.Secret{r.secret})
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d, err := r.verifier.Verify(body, req.Header)
		r.mu.Lock()
		if err != nil {
			r.bad++
		}
		r.got = append(r.got, d)
		n := len(r.got)
		r.mu.Unlock()
		if r.respond != nil {
			r.respond(n, w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got), r.bad
}

func (h *harness) endpoint(r *receiver, mutate func(e *domain.Endpoint)) *domain.Endpoint {
	h.t.Helper()
	return createEndpoint(h.t, h.store, h.app.ID, r.srv.URL, r.secret, mutate)
}

// resume enables the paused endpoint e and tells the engine, as the service does.
func (h *harness) resume(e *domain.Endpoint) {
	h.t.Helper()
	e.State = domain.EndpointEnabled
	if err := h.store.UpdateEndpoint(bg, e); err != nil {
		h.t.Fatal(err)
	}
	h.eng.EndpointChanged(e.ID)
	h.eng.Wake()
}

func (h *harness) publish(typ string, n int) []string {
	h.t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		m := newMessage(h.app.ID, typ, fmt.Sprintf(`{"type":%q,"n":%d}`, typ, i))
		if _, err := h.eng.Publish(bg, m); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, m.ID)
	}
	return out
}

func (h *harness) deliveries(epID, status string) []*domain.Delivery {
	h.t.Helper()
	var all []*domain.Delivery
	cursor := ""
	for {
		ds, next, err := h.store.ListDeliveries(bg, store.DeliveryFilter{AppID: h.app.ID, EndpointID: epID, Status: status, Page: store.Page{Limit: 1000, Cursor: cursor}})
		if err != nil {
			h.t.Fatal(err)
		}
		all = append(all, ds...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func TestEngineDeliversSigned(t *testing.T) {
	h := newHarness(t, nil)
	r1, r2 := newReceiver(t, nil), newReceiver(t, nil)
	e1 := h.endpoint(r1, nil)
	h.endpoint(r2, func(e *domain.Endpoint) { e.EventTypes = []string{"batch.*"} })
	h.publish("response.completed", 200)
	h.publish("batch.completed", 50)
	eventually(t, "all deliveries to succeed", func() bool {
		return len(h.deliveries("", domain.DeliverySucceeded)) == 300
	})
	if n, bad := r1.count(); n != 250 || bad != 0 {
		t.Errorf("receiver 1 got %d requests (%d bad signatures), want 250 and 0", n, bad)
	}
	if n, bad := r2.count(); n != 50 || bad != 0 {
		t.Errorf("receiver 2 got %d requests (%d bad signatures), want 50 and 0", n, bad)
	}
	atts, _, _ := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, EndpointID: e1.ID, Page: store.Page{Limit: 1000}})
	if len(atts) != 250 {
		t.Fatalf("%d attempts recorded, want 250", len(atts))
	}
	for _, a := range atts {
		if a.StatusCode != 204 || a.Outcome != domain.OutcomeSucceeded || a.Number != 1 {
			t.Fatalf("attempt %+v", a)
		}
	}
}

func TestEngineRetriesUntilRecovery(t *testing.T) {
	h := newHarness(t, nil)
	r := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "database unavailable")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e := h.endpoint(r, nil)
	ids := h.publish("response.completed", 1)
	eventually(t, "the delivery to succeed", func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == 1 })
	atts, _, _ := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, MessageID: ids[0]})
	if len(atts) != 3 {
		t.Fatalf("%d attempts, want 3", len(atts))
	}
	// Newest first: success, then two failures with the body recorded.
	if atts[0].Outcome != domain.OutcomeSucceeded || atts[1].Outcome != domain.OutcomeRetrying || atts[2].StatusCode != 500 ||
		string(atts[2].ResponseBody) != "database unavailable" || atts[2].Error != "HTTP 500" {
		t.Fatalf("attempts: %+v / %+v / %+v", atts[0], atts[1], atts[2])
	}
	if got, _ := h.store.GetEndpoint(bg, "", e.ID); got.FailingSince != nil {
		t.Error("failing_since not cleared after recovery")
	}
}

func TestEngineGivesUpAfterSchedule(t *testing.T) {
	h := newHarness(t, nil)
	r := newReceiver(t, func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
	e := h.endpoint(r, nil)
	h.publish("t", 1)
	eventually(t, "the delivery to fail", func() bool { return len(h.deliveries(e.ID, domain.DeliveryFailed)) == 1 })
	if n, _ := r.count(); n != 4 {
		t.Errorf("%d attempts made, want 4 (first + 3 retries)", n)
	}
}

func TestEngineGoneDisablesEndpoint(t *testing.T) {
	h := newHarness(t, nil)
	r := newReceiver(t, func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) })
	e := h.endpoint(r, nil)
	h.publish("t", 1)
	eventually(t, "the endpoint to be disabled", func() bool {
		got, _ := h.store.GetEndpoint(bg, "", e.ID)
		return got.State == domain.EndpointDisabled
	})
	if ds := h.deliveries(e.ID, domain.DeliveryFailed); len(ds) != 1 || ds[0].Attempts != 1 {
		t.Fatalf("delivery after 410: %+v", ds)
	}
	// A disabled endpoint receives nothing new.
	h.publish("t", 3)
	if ds := h.deliveries(e.ID, ""); len(ds) != 1 {
		t.Fatalf("%d deliveries for a disabled endpoint, want the 1 from before", len(ds))
	}
}

func TestEnginePausedEndpointQueuesUntilResumed(t *testing.T) {
	h := newHarness(t, nil)
	r := newReceiver(t, nil)
	e := h.endpoint(r, func(e *domain.Endpoint) { e.State = domain.EndpointPaused })
	h.publish("t", 5)
	time.Sleep(200 * time.Millisecond)
	if n, _ := r.count(); n != 0 {
		t.Fatalf("paused endpoint received %d requests", n)
	}
	h.resume(e)
	eventually(t, "queued deliveries after resume", func() bool { n, _ := r.count(); return n == 5 })
}

// TestEngineEndpointChangedIsNotStale checks that once EndpointChanged is called (as the
// API does after an update), no delivery goes out with the old copy of the endpoint.
func TestEngineEndpointChangedIsNotStale(t *testing.T) {
	h := newHarness(t, nil)
	before, after := newReceiver(t, nil), newReceiver(t, nil)
	after.secret = before.secret
	after.verifier = before.verifier
	e := h.endpoint(before, nil)
	h.publish("t", 1)
	eventually(t, "the first delivery", func() bool { n, _ := before.count(); return n == 1 })
	for i := 0; i < 20; i++ { // the cached copy is fresh: only a changed one must not be used
		e.URL = []string{after.srv.URL, before.srv.URL}[i%2]
		if err := h.store.UpdateEndpoint(bg, e); err != nil {
			t.Fatal(err)
		}
		h.eng.EndpointChanged(e.ID)
		h.publish("t", 1)
		want := 1 + (i+2)/2 // before's count after this round, when every delivery follows the URL
		if i%2 == 0 {
			eventually(t, "a delivery to the new URL", func() bool { n, _ := after.count(); return n == i/2+1 })
		} else {
			eventually(t, "a delivery to the URL set back", func() bool { n, _ := before.count(); return n == want })
		}
	}
	nb, badB := before.count()
	na, badA := after.count()
	if nb != 11 || na != 10 || badB+badA != 0 {
		t.Errorf("received %d (old URL) and %d (new URL), %d bad signatures; want 11 and 10, none bad", nb, na, badB+badA)
	}
}

func TestEngineFIFO(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	var order []int
	var active inflight
	r := newReceiver(t, nil)
	r.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		active.enter()
		var body struct{ N int }
		json.NewDecoder(req.Body).Decode(&body)
		mu.Lock()
		order = append(order, body.N)
		n := len(order)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		active.leave()
		if n == 3 { // one failure: FIFO must retry it before moving on
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	})
	e := h.endpoint(r, func(e *domain.Endpoint) { e.FIFO = true })
	h.publish("t", 20)
	eventually(t, "all FIFO deliveries", func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == 20 })
	mu.Lock()
	defer mu.Unlock()
	want := []int{0, 1, 2, 2}
	for i := 3; i < 20; i++ {
		want = append(want, i)
	}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
	if n := active.peak(); n != 1 {
		t.Fatalf("%d requests in flight at once on a FIFO endpoint", n)
	}
}

func TestEngineConcurrencyLimitAndSlowEndpoint(t *testing.T) {
	h := newHarness(t, nil)
	var active inflight
	slow := newReceiver(t, nil)
	slow.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		active.enter()
		time.Sleep(30 * time.Millisecond)
		active.leave()
	})
	fast := newReceiver(t, nil)
	se := h.endpoint(slow, func(e *domain.Endpoint) { e.MaxConcurrency = 3 })
	fe := h.endpoint(fast, nil)
	h.publish("t", 30)
	// The fast endpoint is not held back by the slow one.
	eventually(t, "fast endpoint", func() bool { return len(h.deliveries(fe.ID, domain.DeliverySucceeded)) == 30 })
	eventually(t, "slow endpoint", func() bool { return len(h.deliveries(se.ID, domain.DeliverySucceeded)) == 30 })
	if n := active.peak(); n > 3 {
		t.Fatalf("%d in flight on an endpoint limited to 3", n)
	}
}

func TestEngineTimeout(t *testing.T) {
	h := newHarness(t, nil)
	block := make(chan struct{})
	r := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			<-block
		}
	})
	t.Cleanup(func() { close(block) }) // runs before the receiver's Close, which waits for handlers
	e := h.endpoint(r, func(e *domain.Endpoint) { e.TimeoutMS = 200 })
	h.publish("t", 1)
	eventually(t, "retry after the timeout", func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == 1 })
	atts, _, _ := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, EndpointID: e.ID})
	if len(atts) != 2 || atts[1].StatusCode != 0 || atts[1].Error == "" {
		t.Fatalf("attempts = %+v", atts)
	}
}

func TestEngineRedirectIsFailure(t *testing.T) {
	h := newHarness(t, nil)
	target := newReceiver(t, nil)
	r := newReceiver(t, func(n int, w http.ResponseWriter) {
		w.Header().Set("Location", target.srv.URL)
		w.WriteHeader(http.StatusFound)
	})
	e := h.endpoint(r, nil)
	h.publish("t", 1)
	eventually(t, "first attempt", func() bool {
		atts, _, _ := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, EndpointID: e.ID})
		return len(atts) >= 1
	})
	if n, _ := target.count(); n != 0 {
		t.Fatal("the redirect was followed")
	}
}

func TestEngineSSRFGuard(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Guard = netguard.New(nil) })
	r := newReceiver(t, nil)
	e := h.endpoint(r, nil)
	h.publish("t", 1)
	eventually(t, "a refused attempt", func() bool {
		atts, _, _ := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, EndpointID: e.ID})
		return len(atts) >= 1 && atts[len(atts)-1].StatusCode == 0
	})
	if n, _ := r.count(); n != 0 {
		t.Fatal("the guard let a request to loopback through")
	}
}

func TestEngineRetryAfterSlowsEndpoint(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	var times []time.Time
	r := newReceiver(t, nil)
	r.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	e := h.endpoint(r, nil)
	h.publish("t", 1)
	eventually(t, "the throttled delivery", func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == 1 })
	mu.Lock()
	defer mu.Unlock()
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Fatalf("retried %s after a 429 with Retry-After: 1", gap)
	}
}

func TestEngineStopReleasesQueued(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Workers = 1 })
	block := make(chan struct{})
	r := newReceiver(t, func(n int, w http.ResponseWriter) { <-block })
	h.endpoint(r, nil)
	h.publish("t", 10)
	eventually(t, "the first request", func() bool { n, _ := r.count(); return n == 1 })
	done := make(chan error)
	go func() { done <- h.eng.Stop(bg) }()
	// Answer only once Stop has taken the queue away, however late its goroutine runs.
	eventually(t, "Stop to begin", func() bool {
		h.eng.mu.Lock()
		defer h.eng.mu.Unlock()
		return h.eng.stopping
	})
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The attempt in flight finished and was recorded; the nine queued ones are claimable at once.
	if ds := h.deliveries("", domain.DeliverySucceeded); len(ds) != 1 {
		t.Fatalf("%d succeeded, want the one in flight", len(ds))
	}
	c, err := h.store.Claim(bg, store.ClaimRequest{Owner: "other", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 100})
	if err != nil || len(c) != 9 {
		t.Fatalf("another node could claim %d (err %v), want 9", len(c), err)
	}
}

// slowRecorder is the real store, but Complete returns only some time after it committed,
// as when the recording goroutine is starved of CPU.
type slowRecorder struct {
	*sqlite.Store
	delay time.Duration
}

func (s slowRecorder) Complete(ctx context.Context, results []*store.AttemptResult) error {
	err := s.Store.Complete(ctx, results)
	time.Sleep(s.delay)
	return err
}

// TestEngineRetryClaimedBeforeRecordReturns: a retry can fall due and be claimed between
// the commit of the failed attempt and the engine forgetting it; that claim must be sent,
// not dropped as a duplicate (which left the delivery leased and idle until the lease ran out).
func TestEngineRetryClaimedBeforeRecordReturns(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Store = slowRecorder{Store: c.Store.(*sqlite.Store), delay: 300 * time.Millisecond}
		c.Policy = Policy{Schedule: []time.Duration{10 * time.Millisecond}}
		c.Lease = time.Minute
	})
	r := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	e := h.endpoint(r, func(e *domain.Endpoint) { e.EventTypes = []string{"t"} })
	// Other traffic keeps the claim loop looking while the outcome is being recorded:
	// a FIFO endpoint's deliveries are claimed, not leased on publish.
	other := newReceiver(t, nil)
	h.endpoint(other, func(e *domain.Endpoint) { e.FIFO, e.EventTypes = true, []string{"other"} })
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				h.eng.Publish(bg, newMessage(h.app.ID, "other", `{}`))
			}
		}
	}()
	h.publish("t", 1)
	eventually(t, "the retry to be sent and succeed", func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == 1 })
}

// TestEngineSendsEndpointHeaders checks that a delivery carries the endpoint's custom
// header values in clear, though the store keeps them encrypted.
func TestEngineSendsEndpointHeaders(t *testing.T) {
	h := newHarness(t, nil)
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Clone():
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	const bearer = "Bearer tok_delivered_1"
	createEndpoint(t, h.store, h.app.ID, srv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
		e.Headers = map[string]string{"Authorization": bearer, "X-Team": "core"}
	})
	h.publish("headers.test", 1)
	select {
	case hdr := <-got:
		if hdr.Get("Authorization") != bearer || hdr.Get("X-Team") != "core" {
			t.Errorf("delivered Authorization %q, X-Team %q; want %q, %q", hdr.Get("Authorization"), hdr.Get("X-Team"), bearer, "core")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
}
