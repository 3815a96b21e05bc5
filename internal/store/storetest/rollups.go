package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

// statsCases are the AttemptStats filters checkStats compares with the attempts: hours
// on hour boundaries (counted per hour), days, 3 and 2 hours from times that cut hours,
// and minutes (counted from the attempts).
func statsCases(ep string) []store.AttemptStatsFilter {
	return []store.AttemptStatsFilter{
		{EndpointID: ep, Since: base.Add(-3 * time.Hour), Until: base.Add(48 * time.Hour), Bucket: time.Hour},
		{EndpointID: ep, Since: base.Add(-2*time.Hour + 17*time.Minute + 3*time.Second), Until: base.Add(52 * time.Hour), Bucket: 24 * time.Hour},
		{EndpointID: ep, Since: base.Add(-time.Hour + 41*time.Minute), Until: base.Add(30*time.Hour + 5*time.Minute), Bucket: 3 * time.Hour},
		{EndpointID: ep, Since: base.Add(30 * time.Minute), Until: base.Add(20 * time.Hour), Bucket: 2 * time.Hour},
		{EndpointID: ep, Since: base.Add(-90 * time.Minute), Until: base.Add(90 * time.Minute), Bucket: 10 * time.Minute},
	}
}

// testAttemptHours checks that an endpoint's stats, which whole hours read from the
// per-hour counts, equal the attempts themselves: after attempts are recorded, after
// retention deletes some, and after the endpoint is deleted.
func testAttemptHours(t *testing.T, s store.Store) {
	a := newApp(t, s)
	e1, e2 := newEndpoint(t, s, a.ID, nil), newEndpoint(t, s, a.ID, nil)
	for i := range 30 {
		publish(t, s, a.ID, "t", base.Add(time.Duration(i)*time.Minute-3*time.Hour), nil)
	}
	claimed := claim(t, s, "n", base.Add(time.Hour), 100)
	if len(claimed) != 60 {
		t.Fatalf("claimed %d, want 60", len(claimed))
	}
	// Attempts spread over 2 days, some at the first and last millisecond of an hour.
	next := base.Add(100 * time.Hour)
	for i, c := range claimed {
		for k := range 1 + i%3 {
			at := base.Add(time.Duration((i*7919+k*104729)%(50*3600))*time.Second - 2*time.Hour)
			switch (i + k) % 5 {
			case 0:
				at = at.Truncate(time.Hour)
			case 1:
				at = at.Truncate(time.Hour).Add(time.Hour - time.Millisecond)
			}
			status := []string{domain.DeliverySucceeded, domain.DeliveryPending, domain.DeliveryFailed}[(i*3+k)%3]
			r := result(c, at, status, &next, 500)
			r.Attempt.Number = k + 1
			if i%4 == 0 {
				r.Attempt.Error = fmt.Sprintf("attempt %d of %d", k, i)
			}
			if (i+k)%7 == 3 {
				r.Attempt.Outcome = "cancelled" // a transformation cancelled it: no request was made
			}
			must(t, s.Complete(ctx, []*store.AttemptResult{r}))
		}
	}
	checkStats(t, s, a.ID, e1.ID, "after recording")
	checkStats(t, s, a.ID, e2.ID, "after recording")

	res, err := s.Purge(ctx, base.Add(10*time.Hour), base, 1000)
	must(t, err)
	if res.Attempts == 0 {
		t.Fatal("the purge removed no attempt; the test needs some removed")
	}
	checkStats(t, s, a.ID, e1.ID, "after retention")
	checkStats(t, s, a.ID, e2.ID, "after retention")

	must(t, s.DeleteEndpoint(ctx, a.ID, e2.ID))
	for _, f := range statsCases(e2.ID) {
		st, err := s.AttemptStats(ctx, f)
		must(t, err)
		if st.Succeeded+st.Failed != 0 {
			t.Errorf("a deleted endpoint still counts %d attempts for %+v", st.Succeeded+st.Failed, f)
		}
	}
	checkStats(t, s, a.ID, e1.ID, "after deleting another endpoint")
}

// checkStats compares the endpoint's AttemptStats for every statsCases filter with the
// counts of its attempts as ListAttempts returns them.
func checkStats(t *testing.T, s store.Store, appID, ep, when string) {
	t.Helper()
	var all []*domain.Attempt
	for p := (store.Page{Limit: store.MaxPageSize}); ; {
		as, next, err := s.ListAttempts(ctx, store.AttemptFilter{AppID: appID, EndpointID: ep, Page: p})
		must(t, err)
		all = append(all, as...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	for _, f := range statsCases(ep) {
		st, err := s.AttemptStats(ctx, f)
		must(t, err)
		want := make([]store.StatsBucket, len(st.Buckets))
		var last, lastFailed *domain.Attempt
		for _, a := range all {
			if a.StartedAt.Before(f.Since) || !a.StartedAt.Before(f.Until) {
				continue
			}
			if last == nil || a.StartedAt.After(last.StartedAt) {
				last = a // the latest attempt, cancelled or not
			}
			if a.Outcome == "cancelled" {
				continue // a transformation cancelled it: neither a success nor a failure
			}
			b := &want[a.StartedAt.Sub(f.Since)/f.Bucket]
			if a.Outcome == domain.OutcomeSucceeded {
				b.Succeeded++
			} else {
				b.Failed++
				if lastFailed == nil || a.StartedAt.After(lastFailed.StartedAt) {
					lastFailed = a
				}
			}
		}
		for i := range want {
			want[i].Start = f.Since.Add(time.Duration(i) * f.Bucket)
			if st.Buckets[i] != want[i] {
				t.Errorf("%s, %v buckets from %v: bucket %d = %+v, want %+v", when, f.Bucket, f.Since, i, st.Buckets[i], want[i])
			}
		}
		if (last == nil) != (st.Last == nil) || (last != nil && !st.Last.StartedAt.Equal(last.StartedAt)) {
			t.Errorf("%s, %v buckets from %v: last attempt %v, want %v", when, f.Bucket, f.Since, st.Last, last)
		}
		if (lastFailed == nil) != (st.LastFailure == nil) || (lastFailed != nil && !st.LastFailure.StartedAt.Equal(lastFailed.StartedAt)) {
			t.Errorf("%s, %v buckets from %v: last failure %v, want %v", when, f.Bucket, f.Since, st.LastFailure, lastFailed)
		}
	}
}

// SeedAttemptHoursMigration prepares an empty database for CheckAttemptHoursMigration:
// exec runs a statement with $n parameters on a raw connection, versions creates the
// backend's schema_migrations table, schema holds every migration before version 10
// (recorded there), and timeArg encodes a time as the backend stores it. It
// stores attempts the way an older herald did, before attempts were counted per hour.
func SeedAttemptHoursMigration(t *testing.T, exec func(query string, args ...any) error, versions string, schema []sqlstore.Migration, timeArg func(time.Time) any) {
	t.Helper()
	run := func(query string, args ...any) {
		t.Helper()
		if err := exec(query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	run(versions)
	for _, m := range schema {
		run(m.SQL)
		run(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.Version, timeArg(base))
	}
	run(`INSERT INTO apps (id, name, created_at, updated_at) VALUES ('app_1', 'a', $1, $1)`, timeArg(base))
	run(`INSERT INTO endpoints (id, app_id, url, state, created_at, updated_at) VALUES ('ep_1', 'app_1', 'https://x', 'enabled', $1, $1)`, timeArg(base))
	run(`INSERT INTO messages (id, app_id, type, created_at) VALUES ('msg_1', 'app_1', 't', $1)`, timeArg(base))
	run(`INSERT INTO deliveries (id, app_id, message_id, endpoint_id, seq, status, created_at, updated_at)
		VALUES ('dlv_1', 'app_1', 'msg_1', 'ep_1', 1, 'failed', $1, $1)`, timeArg(base))
	for i, at := range migratedAttempts {
		outcome := domain.OutcomeRetrying
		if i%2 == 0 {
			outcome = domain.OutcomeSucceeded
		}
		run(`INSERT INTO attempts (id, delivery_id, app_id, endpoint_id, message_id, number, started_at, latency_us, outcome)
			VALUES ($1, 'dlv_1', 'app_1', 'ep_1', 'msg_1', $2, $3, 1000, $4)`, fmt.Sprintf("att_%d", i), i+1, timeArg(base.Add(at)), outcome)
	}
}

// migratedAttempts are when SeedAttemptHoursMigration's attempts started, after base;
// even ones succeeded.
var migratedAttempts = []time.Duration{0, time.Minute, time.Hour - time.Millisecond, time.Hour, 3*time.Hour + 5*time.Minute, 3 * time.Hour}

// CheckAttemptHoursMigration checks that migration 10 counted the attempts stored before
// it, and that attempts recorded after it are counted too.
func CheckAttemptHoursMigration(t *testing.T, s store.Store) {
	t.Helper()
	f := store.AttemptStatsFilter{EndpointID: "ep_1", Since: base, Until: base.Add(4 * time.Hour), Bucket: time.Hour}
	st, err := s.AttemptStats(ctx, f)
	must(t, err)
	want := []store.StatsBucket{{Start: base, Succeeded: 2, Failed: 1}, {Start: base.Add(time.Hour), Failed: 1}, {Start: base.Add(2 * time.Hour)}, {Start: base.Add(3 * time.Hour), Succeeded: 1, Failed: 1}}
	for i := range want {
		if st.Buckets[i] != want[i] {
			t.Errorf("after the migration, bucket %d = %+v, want %+v", i, st.Buckets[i], want[i])
		}
	}
}
