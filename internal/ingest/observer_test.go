package ingest

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

type receivedLog struct {
	mu  sync.Mutex
	got []Received
}

func (l *receivedLog) Received(r Received) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, r)
}

// TestObserverHearsEveryAnswer checks that the observer hears of accepted and rejected
// requests to a source, even past the rate at which rejections are recorded, and of
// nothing for an unknown source.
func TestObserverHearsEveryAnswer(t *testing.T) {
	key := make([]byte, crypt.KeySize)
	rand.Read(key)
	box, _ := crypt.NewBox(key)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"), sqlite.Options{Cipher: box})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now().UTC()
	app := &domain.App{ID: ids.New("app"), Name: "a", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	secret := webhook.NewHMACSecret()
	src := &domain.Source{ID: ids.New("src"), AppID: app.ID, Provider: "standard", Secrets: []string{secret.Reveal()}, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	log := &receivedLog{}
	h, err := New(Config{Sources: st, Publisher: storePublisher{st}, Observer: log, RejectionRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := webhook.NewStandard(secret.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	signed := func() *http.Request {
		return webhooktest.NewRequest(signer, webhook.Delivery{}, "/in/"+src.ID, []byte(`{"type":"a.b"}`))
	}
	serve := func(r *http.Request) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if code := serve(signed()); code != http.StatusOK {
		t.Fatalf("signed request answered %d", code)
	}
	for range 60 { // past the rejection recording budget (burst 50)
		bad := httptest.NewRequest(http.MethodPost, "/in/"+src.ID, strings.NewReader(`{}`))
		if code := serve(bad); code != http.StatusBadRequest {
			t.Fatalf("unsigned request answered %d", code)
		}
	}
	serve(httptest.NewRequest(http.MethodPost, "/in/src_missing", strings.NewReader(`{}`)))

	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.got) != 61 {
		t.Fatalf("observer heard %d answers, want 61", len(log.got))
	}
	if r := log.got[0]; r.Rejected || r.Source.ID != src.ID || r.At.IsZero() {
		t.Errorf("accepted request heard as %+v", r)
	}
	if r := log.got[60]; !r.Rejected || r.Status != http.StatusBadRequest || r.Code == "" || r.Message == "" || r.Source.AppID != app.ID {
		t.Errorf("rejected request heard as %+v", r)
	}
}
