package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

// BenchmarkStoreDriver runs the store's delivery path on every SQLite driver of the build
// (modernc only, or mattn and modernc with -tags sqlite_cgo), each on a new database file
// with the same schema and pragmas (WAL, synchronous=FULL): concurrent publishers publish
// 1 KB messages to an app with one endpoint while one goroutine, as the engine does,
// records every delivery's successful attempt in batches of up to 256. One op is one
// message, from its publish to its recorded outcome.
//
//   - path=leased: the publish leases the delivery to the publisher (what the engine
//     does for an enabled endpoint), so the outcome needs no claim: Publish, Complete.
//   - path=claimed: the delivery is left for the claim loop: Publish, Claim, Complete.
//
// The names are benchstat's key=value form (benchstat -col /driver). The numbers
// compare drivers only when taken on a quiet machine, in one sitting, alternating;
// docs/benchmarks.md has the command.
func BenchmarkStoreDriver(b *testing.B) {
	for _, driver := range Drivers() {
		b.Run("driver="+driver, func(b *testing.B) {
			b.Run("path=leased/publishers=64", func(b *testing.B) { benchDeliveryPath(b, driver, 64, true) })
			b.Run("path=claimed/publishers=64", func(b *testing.B) { benchDeliveryPath(b, driver, 64, false) })
			b.Run("path=claimed/publishers=1", func(b *testing.B) { benchDeliveryPath(b, driver, 1, false) })
		})
	}
}

// benchDeliveryPath publishes b.N messages from publishers goroutines and waits until
// each one's delivery is recorded as succeeded; then it checks the database agrees.
func benchDeliveryPath(b *testing.B, driver string, publishers int, leased bool) {
	ctx := context.Background()
	s := openDriver(b, filepath.Join(b.TempDir(), "herald.db"), driver, store.RejectionLimits{})
	defer s.Close()
	if s.Driver() != driver {
		b.Fatalf("store runs on %s, want %s", s.Driver(), driver)
	}
	appID, _ := benchApp(b, s)
	payload := []byte(`{"id":"evt_1","object":"event","data":{"text":"` + strings.Repeat("x", 1024-48) + `"}}`)

	work := make(chan *domain.Delivery, 4096) // leased deliveries, for the recorder
	kick := make(chan struct{}, 1)            // a publish left a delivery for Claim
	var published, recorded atomic.Int64
	recDone := make(chan error, 1)

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() { recDone <- benchRecord(ctx, s, b.N, leased, work, kick, &recorded) }()
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for range publishers {
		wg.Go(func() {
			for published.Add(1) <= int64(b.N) {
				now := time.Now().UTC()
				in := &store.PublishInput{Message: &domain.Message{
					ID: ids.New("msg"), AppID: appID, Type: "response.completed", Payload: payload, CreatedAt: now,
				}}
				if leased {
					in.LeaseOwner, in.LeaseUntil = "bench", now.Add(time.Minute)
				}
				res, err := s.Publish(ctx, in)
				if err != nil {
					errs <- err
					return
				}
				if leased {
					for _, d := range res.Leased {
						work <- d
					}
				} else {
					select {
					case kick <- struct{}{}:
					default:
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("publish: %v", err)
	}
	close(work)
	if err := <-recDone; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = ?`, domain.DeliverySucceeded).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n != b.N || recorded.Load() != int64(b.N) {
		b.Fatalf("%d deliveries succeeded in the database and %d recorded, want %d", n, recorded.Load(), b.N)
	}
}

// benchRecord is the engine's side: it takes deliveries (leased ones from work, or by
// claiming them when kicked) and records a succeeded attempt for each, in batches, until
// n are recorded.
func benchRecord(ctx context.Context, s *Store, n int, leased bool, work <-chan *domain.Delivery, kick <-chan struct{}, recorded *atomic.Int64) error {
	batch := make([]*domain.Delivery, 0, 256)
	for recorded.Load() < int64(n) {
		batch = batch[:0]
		if leased {
			d, ok := <-work
			if !ok {
				return nil
			}
			batch = append(batch, d)
		fill:
			for len(batch) < cap(batch) {
				select {
				case d, ok := <-work:
					if !ok {
						break fill
					}
					batch = append(batch, d)
				default:
					break fill
				}
			}
		} else {
			now := time.Now()
			claimed, err := s.Claim(ctx, store.ClaimRequest{Owner: "bench", Now: now, LeaseUntil: now.Add(time.Minute), Limit: cap(batch)})
			if err != nil {
				return err
			}
			if len(claimed) == 0 {
				<-kick
				continue
			}
			for _, c := range claimed {
				batch = append(batch, c.Delivery)
			}
		}
		results := make([]*store.AttemptResult, len(batch))
		for i, d := range batch {
			started := time.Now().UTC()
			results[i] = &store.AttemptResult{Status: domain.DeliverySucceeded, Attempt: &domain.Attempt{
				ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
				Number: 1, StartedAt: started, Latency: time.Millisecond, StatusCode: 200,
				ResponseHeaders: map[string]string{"Content-Type": "text/plain"}, ResponseBody: []byte("ok"), Outcome: domain.OutcomeSucceeded,
			}}
		}
		if err := s.Complete(ctx, results); err != nil {
			return err
		}
		recorded.Add(int64(len(batch)))
	}
	return nil
}

// benchApp creates an app with one enabled endpoint.
func benchApp(tb testing.TB, s *Store) (appID, endpointID string) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	app := &domain.App{ID: ids.New("app"), Name: "bench", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateApp(ctx, app); err != nil {
		tb.Fatal(err)
	}
	e := &domain.Endpoint{ID: ids.New("ep"), AppID: app.ID, URL: "https://example.com/hook", State: domain.EndpointEnabled, CreatedAt: now, UpdatedAt: now}
	sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}
	if err := s.CreateEndpoint(ctx, e, sec); err != nil {
		tb.Fatal(err)
	}
	return app.ID, e.ID
}
