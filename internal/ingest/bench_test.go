package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/webhook"
)

// reusedBody is a request body that can be read again without allocating.
type reusedBody struct{ bytes.Reader }

func (*reusedBody) Close() error { return nil }

// discardWriter is an http.ResponseWriter that reuses its header map and its buffer.
type discardWriter struct {
	h      http.Header
	status int
	last   []byte // the last answer's body
}

func (w *discardWriter) Header() http.Header    { return w.h }
func (w *discardWriter) WriteHeader(status int) { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) {
	w.last = append(w.last[:0], p...)
	return len(p), nil
}

// BenchmarkIngest measures POST /in/{source} with a 1 KB OpenAI webhook: reading the
// body, verifying its Standard Webhooks signature, storing it as a message in SQLite
// (synchronous=NORMAL: the CPU path, not the disk's fsync) and answering, one request
// after another, each with its own webhook-id. The requests are signed beforehand.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	box, err := crypt.NewBox(key)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"), sqlite.Options{Cipher: box, Logger: slog.New(slog.DiscardHandler), Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	app := &domain.App{ID: ids.New("app"), Name: "bench", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(ctx, app); err != nil {
		b.Fatal(err)
	}
	secret := webhook.NewHMACSecret().Reveal()
	src := &domain.Source{ID: ids.New("src"), AppID: app.ID, Name: "openai", Provider: "openai", Secrets: []string{secret}, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateSource(ctx, src); err != nil {
		b.Fatal(err)
	}
	h, err := New(Config{Sources: st, Publisher: storePublisher{st}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	signer, err := webhook.NewProvider("openai", secret)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":"evt_1","object":"event","type":"response.completed","created_at":1733000000,"data":{"id":"resp_1","text":"` +
		strings.Repeat("x", 1024-110) + `"}}`)
	type signed struct {
		r    *http.Request
		body *reusedBody
	}
	reqs := make([]signed, b.N)
	for i := range reqs {
		hdr, err := signer.Sign(webhook.Delivery{ID: fmt.Sprintf("bench_%d", i), Type: "response.completed"}, body)
		if err != nil {
			b.Fatal(err)
		}
		rb := &reusedBody{}
		rb.Reset(body)
		r, _ := http.NewRequest("POST", "/in/"+src.ID, rb)
		r.Header = hdr
		r.Header.Set("User-Agent", "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)")
		r.ContentLength = int64(len(body))
		r.SetPathValue("source", src.ID)
		reqs[i] = signed{r, rb}
	}
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		clear(w.h)
		h.ServeHTTP(w, reqs[i].r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.StopTimer()
	if !strings.Contains(string(w.last), `"received":true`) || strings.Contains(string(w.last), "duplicate") {
		b.Fatalf("last answer %s", w.last)
	}
	msgs, _, err := st.ListMessages(ctx, store.MessageFilter{AppID: app.ID, Page: store.Page{Limit: 1}})
	if err != nil || len(msgs) != 1 || msgs[0].SourceID != src.ID {
		b.Fatalf("stored messages: %v, %v", msgs, err)
	}
}
