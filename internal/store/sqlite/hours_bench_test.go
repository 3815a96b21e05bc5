package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
	"golang.org/x/sync/errgroup"
)

// BenchmarkCompleteAttempts measures recording attempts (Complete, in batches of 100,
// each committed), with the triggers that count them per endpoint and hour and, for
// comparison, with the triggers dropped: what the per-hour counts cost each attempt.
// With synchronous=NORMAL commits do not wait for the disk, which leaves the CPU's share.
//
//	go test ./internal/store/sqlite -run '^$' -bench CompleteAttempts -benchmem
func BenchmarkCompleteAttempts(b *testing.B) {
	for _, tc := range []struct {
		name, sync string
		hours      bool
	}{{"full/with_hour_counts", "FULL", true}, {"full/without", "FULL", false}, {"normal/with_hour_counts", "NORMAL", true}, {"normal/without", "NORMAL", false}} {
		b.Run(tc.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "herald.db")
			s, err := Open(context.Background(), path, Options{Cipher: crypttest.NewBox(b), Logger: slog.New(slog.DiscardHandler), Synchronous: tc.sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if !tc.hours {
				db, err := sql.Open("sqlite", "file:"+path)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := db.Exec(`DROP TRIGGER attempt_hours_insert; DROP TRIGGER attempt_hours_delete`); err != nil {
					b.Fatal(err)
				}
				db.Close()
			}
			claimed := claimN(b, s, b.N)
			now := time.Now().UTC().Truncate(time.Millisecond)
			b.ResetTimer()
			for lo := 0; lo < len(claimed); lo += 100 {
				var rs []*store.AttemptResult
				for i, c := range claimed[lo:min(lo+100, len(claimed))] {
					d := c.Delivery
					rs = append(rs, &store.AttemptResult{Status: domain.DeliverySucceeded, Attempt: &domain.Attempt{
						ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID, Number: 1,
						StartedAt: now.Add(time.Duration(lo+i) * time.Second), Latency: time.Millisecond, StatusCode: 200, Outcome: domain.OutcomeSucceeded}})
				}
				if err := s.Complete(context.Background(), rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// claimN publishes n messages to one endpoint and claims their deliveries.
func claimN(b testing.TB, s *Store, n int) []*store.Claimed {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := &domain.App{ID: ids.New("app"), Name: "bench", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateApp(ctx, app); err != nil {
		b.Fatal(err)
	}
	e := &domain.Endpoint{ID: ids.New("ep"), AppID: app.ID, URL: "https://example.com/hook", State: domain.EndpointEnabled,
		EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateEndpoint(ctx, e, &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	var g errgroup.Group
	g.SetLimit(64) // concurrent publishes share commits
	for range n {
		g.Go(func() error {
			m := &domain.Message{ID: ids.New("msg"), AppID: app.ID, Type: "t", Payload: json.RawMessage(`{}`), CreatedAt: now}
			_, err := s.Publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: time.Hour})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	var out []*store.Claimed
	for len(out) < n {
		cs, err := s.Claim(ctx, store.ClaimRequest{Owner: "bench", Now: now.Add(time.Second), LeaseUntil: now.Add(time.Hour), Limit: 1000})
		if err != nil || len(cs) == 0 {
			b.Fatalf("claimed %d of %d: %v", len(out), n, err)
		}
		out = append(out, cs...)
	}
	return out
}
