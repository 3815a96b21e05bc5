package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
	"github.com/heraldhq/herald/webhook"
)

// storePublisher publishes straight into the store, as the engine does without queueing.
type storePublisher struct{ st store.Store }

func (p storePublisher) PublishWithTTL(ctx context.Context, m *domain.Message, ttl time.Duration) (*store.PublishResult, error) {
	return p.st.Publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: ttl})
}

// TestDiagnosisRate checks that accepted webhooks are never diagnosed and that
// rejections past the diagnosis rate, over all sources, are recorded without one.
func TestDiagnosisRate(t *testing.T) {
	st := sqlitetest.Open(t, sqlite.Options{})
	ctx, now := context.Background(), time.Now().UTC().Truncate(time.Millisecond)
	app := &domain.App{ID: ids.New("app"), Name: "a", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret-for-github"
	var sources []string
	for range 2 {
		src := &domain.Source{ID: ids.New("src"), AppID: app.ID, Provider: "github", Secrets: []string{secret}, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateSource(ctx, src); err != nil {
			t.Fatal(err)
		}
		sources = append(sources, src.ID)
	}
	h, err := New(Config{Sources: st, Publisher: storePublisher{st}, Logger: slog.New(slog.DiscardHandler),
		DiagnosisRate: 1e-6, DiagnosisBurst: 3}) // three diagnoses, then none for the test's life
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /in/{source}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	gh, _ := webhook.NewGitHub(secret)
	post := func(src, body string, signed bool) int {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/in/"+src, strings.NewReader(body))
		hdr, _ := gh.Sign(webhook.Delivery{Type: "push"}, []byte(body))
		for k, v := range hdr {
			req.Header[k] = v
		}
		if !signed {
			req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 5 { // accepted: they must not spend the diagnosis budget
		if st := post(sources[i%2], fmt.Sprintf(`{"n":%d}`, i), true); st != http.StatusOK {
			t.Fatalf("accepted webhook %d: %d", i, st)
		}
	}
	for i := range 5 { // forged, alternating between the sources
		if st := post(sources[i%2], fmt.Sprintf(`{"forged":%d}`, i), false); st != http.StatusUnauthorized {
			t.Fatalf("forged webhook %d: %d", i, st)
		}
	}
	var diagnosed, total int
	for _, src := range sources {
		rs, _, err := st.ListRejections(ctx, app.ID, src, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			total++
			if len(r.Diagnosis) > 0 {
				diagnosed++
				if r.Diagnosis[0].Code != "no_matching_signature" {
					t.Errorf("diagnosis %+v", r.Diagnosis)
				}
			}
		}
	}
	if total != 5 || diagnosed != 3 {
		t.Fatalf("%d rejections recorded, %d diagnosed; want 5, 3", total, diagnosed)
	}
}
