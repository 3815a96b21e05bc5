package sqlite

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// TestStatementsPerCompletion counts the statements the writer runs to record a batch
// of attempt results (transaction control included): a batch costs a few statements,
// not a few per result. Triggers' statements are not counted (SQLite runs them inside
// the statement that fires them).
func TestStatementsPerCompletion(t *testing.T) {
	const n = 100
	s := openTest(t)
	claimed := claimN(t, s, n)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var rs []*store.AttemptResult
	for i, c := range claimed {
		d := c.Delivery
		r := &store.AttemptResult{Status: domain.DeliverySucceeded, Attempt: &domain.Attempt{
			ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID, Number: 1,
			StartedAt: now.Add(time.Duration(i) * time.Millisecond), Latency: time.Millisecond, StatusCode: 200,
			ResponseHeaders: map[string]string{"Content-Type": "text/plain"}, ResponseBody: []byte("ok"), Outcome: domain.OutcomeSucceeded}}
		if i%10 == 9 { // some fail and are retried
			next := now.Add(time.Minute)
			r.Status, r.NextAttemptAt, r.EndpointFailed = domain.DeliveryPending, &next, true
			r.Attempt.StatusCode, r.Attempt.Outcome, r.Attempt.Error = 500, domain.OutcomeFailed, "HTTP 500"
		}
		rs = append(rs, r)
	}
	var ran atomic.Int64
	s.observe = func(string, []any) { ran.Add(1) }
	if err := s.Complete(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	s.observe = nil
	t.Logf("%d statements to record %d results", ran.Load(), n)
	// BEGIN, COMMIT, an INSERT and an UPDATE per run of 64, 32 and 4, the streaks.
	if got, max := ran.Load(), int64(9); got > max {
		t.Errorf("recording %d results ran %d statements, want at most %d", n, got, max)
	}
}

// TestCompleteBatchEdges records in one batch a result whose delivery was deleted with
// its endpoint meanwhile (skipped, the others recorded) and two results of one delivery
// (both counted, the later one deciding its status), which a single multi-row statement
// could not tell apart.
func TestCompleteBatchEdges(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kept, gone := claimN(t, s, 2), claimN(t, s, 1)
	if err := s.DeleteEndpoint(ctx, gone[0].Delivery.AppID, gone[0].Delivery.EndpointID); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	result := func(d *domain.Delivery, status string) *store.AttemptResult {
		r := &store.AttemptResult{Status: status, Attempt: &domain.Attempt{
			ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID, Number: 1,
			StartedAt: now, Latency: time.Millisecond, StatusCode: 200, Outcome: domain.OutcomeSucceeded}}
		if status == domain.DeliveryPending {
			next := now.Add(time.Minute)
			r.NextAttemptAt, r.EndpointFailed = &next, true
			r.Attempt.StatusCode, r.Attempt.Outcome = 500, domain.OutcomeFailed
		}
		return r
	}
	a, b, g := kept[0].Delivery, kept[1].Delivery, gone[0].Delivery
	gr := result(g, domain.DeliveryFailed)
	gr.DisableEndpoint = "gone"
	if err := s.Complete(ctx, []*store.AttemptResult{
		result(a, domain.DeliveryPending), gr, result(b, domain.DeliverySucceeded), result(a, domain.DeliverySucceeded),
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		d        *domain.Delivery
		attempts int
	}{{a, 2}, {b, 1}} {
		got, err := s.GetDelivery(ctx, want.d.AppID, want.d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != domain.DeliverySucceeded || got.Attempts != want.attempts || got.NextAttemptAt != nil {
			t.Errorf("delivery %s: status %s, %d attempts, next %v; want succeeded, %d, none", got.ID, got.Status, got.Attempts, got.NextAttemptAt, want.attempts)
		}
	}
	ep, err := s.GetEndpoint(ctx, a.AppID, a.EndpointID)
	if err != nil {
		t.Fatal(err)
	}
	if ep.FailingSince != nil {
		t.Errorf("endpoint failing since %v after its last attempt succeeded", ep.FailingSince)
	}
	atts, _, err := s.ListAttempts(ctx, store.AttemptFilter{AppID: g.AppID})
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 0 {
		t.Errorf("%d attempts recorded for a deleted delivery", len(atts))
	}
}

// TestStatementsPerClaim counts the statements the writer runs to claim a batch of
// deliveries, messages read included: a few per claim, not one per delivery.
func TestStatementsPerClaim(t *testing.T) {
	const n = 100
	ctx := context.Background()
	s := openTest(t)
	appID, _ := benchApp(t, s)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range n {
		m := &domain.Message{ID: ids.New("msg"), AppID: appID, Type: "t", Payload: []byte(`{"i":` + strconv.Itoa(i) + `}`),
			Headers: map[string]string{"X-I": strconv.Itoa(i)}, CreatedAt: now}
		if _, err := s.Publish(ctx, &store.PublishInput{Message: m}); err != nil {
			t.Fatal(err)
		}
	}
	var ran atomic.Int64
	s.observe = func(string, []any) { ran.Add(1) }
	claimed, err := s.Claim(ctx, store.ClaimRequest{Owner: "test", Now: now.Add(time.Second), LeaseUntil: now.Add(time.Hour), Limit: 2 * n})
	s.observe = nil
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d deliveries (%v), want %d", len(claimed), err, n)
	}
	for _, c := range claimed {
		m, err := s.GetMessage(ctx, appID, c.Delivery.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		if string(c.Payload) != string(m.Payload) || c.Headers["X-I"] != m.Headers["X-I"] || c.Type != m.Type {
			t.Errorf("delivery %s claimed with %s %s %v, its message is %s %s %v", c.Delivery.ID, c.Type, c.Payload, c.Headers, m.Type, m.Payload, m.Headers)
		}
	}
	t.Logf("%d statements to claim %d deliveries", ran.Load(), n)
	if got, max := ran.Load(), int64(6); got > max {
		t.Errorf("claiming %d deliveries ran %d statements, want at most %d", n, got, max)
	}
}
