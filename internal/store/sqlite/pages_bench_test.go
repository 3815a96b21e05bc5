package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// BenchmarkPagesPerDelivery counts the database pages one delivery writes, which no
// load on the machine changes: each op publishes a 1 KB message to one endpoint,
// claims its delivery and records a succeeded attempt, each step committed alone, and
// the pages are the frames these commits append to the write-ahead log (checkpoints
// off). Every b-tree a step changes costs at least one page, so this counts the
// b-trees (tables and indexes) behind a delivery; the time per op means nothing here.
//
//	go test ./internal/store/sqlite -run '^$' -bench PagesPerDelivery -benchtime 2000x
func BenchmarkPagesPerDelivery(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "herald.db")
	s := openDriver(b, path, "", store.RejectionLimits{})
	defer s.Close()
	appID, _ := benchApp(b, s)
	var pageSize int64
	if err := s.read.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		b.Fatal(err)
	}
	if err := s.do(ctx, func(w *writer) error {
		_, err := w.exec(`PRAGMA wal_autocheckpoint = 0`)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			b.Fatal(err)
		}
		return fi.Size()
	}
	payload := make([]byte, 1024)
	for i := range payload {
		payload[i] = 'x'
	}
	payload[0], payload[len(payload)-1] = '"', '"'
	var steps [3]int64 // the log's growth in publishes, claims and completions
	last := walSize()
	step := func(i int) {
		size := walSize()
		steps[i] += size - last
		last = size
	}
	b.ResetTimer()
	for range b.N {
		now := time.Now().UTC()
		if _, err := s.Publish(ctx, &store.PublishInput{Message: &domain.Message{
			ID: ids.New("msg"), AppID: appID, Type: "response.completed", Payload: payload, CreatedAt: now,
		}}); err != nil {
			b.Fatal(err)
		}
		step(0)
		claimed, err := s.Claim(ctx, store.ClaimRequest{Owner: "bench", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1})
		if err != nil || len(claimed) != 1 {
			b.Fatalf("claimed %d deliveries (%v), want 1", len(claimed), err)
		}
		step(1)
		d := claimed[0].Delivery
		if err := s.Complete(ctx, []*store.AttemptResult{{Status: domain.DeliverySucceeded, Attempt: &domain.Attempt{
			ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
			Number: 1, StartedAt: now, Latency: time.Millisecond, StatusCode: 200,
			ResponseHeaders: map[string]string{"Content-Type": "text/plain"}, ResponseBody: []byte("ok"), Outcome: domain.OutcomeSucceeded,
		}}}); err != nil {
			b.Fatal(err)
		}
		step(2)
	}
	b.StopTimer()
	frame := float64(24 + pageSize) // a frame is a 24-byte header and a page
	for i, unit := range []string{"pages/publish", "pages/claim", "pages/complete"} {
		b.ReportMetric(float64(steps[i])/frame/float64(b.N), unit)
	}
	b.ReportMetric(float64(steps[0]+steps[1]+steps[2])/frame/float64(b.N), "pages/delivery")
}
