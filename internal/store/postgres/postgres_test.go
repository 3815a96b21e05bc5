package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/webhook"
)

// TestMain says plainly when there is no database to test against: go test then reports
// the package as having no tests to run.
func TestMain(m *testing.M) {
	if !pgtest.Available() {
		fmt.Println(pgtest.SkipReason)
		fmt.Println("testing: warning: no tests to run")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func openURL(t *testing.T, url string, box store.Cipher) *Store {
	t.Helper()
	return openWith(t, url, box, store.RejectionLimits{})
}

func openWith(t *testing.T, url string, box store.Cipher, rej store.RejectionLimits) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, Options{Cipher: box, Logger: slog.New(slog.DiscardHandler), Rejections: rej})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openURL(t, pgtest.URL(t), crypttest.NewBox(t)) })
}

func TestRejectionLimits(t *testing.T) {
	storetest.RunRejectionLimits(t, func(t *testing.T, l store.RejectionLimits) store.Store {
		return openWith(t, pgtest.URL(t), crypttest.NewBox(t), l)
	})
}

var bg = context.Background()

// TestTwoNodes runs two stores on one schema, as two herald nodes would.
func TestTwoNodes(t *testing.T) {
	url, box := pgtest.URL(t), crypttest.NewBox(t)
	n1, n2 := openURL(t, url, box), openURL(t, url, box)
	defer n1.Close()
	defer n2.Close()
	subCtx, cancel := context.WithCancel(bg)
	defer cancel()
	woken, err := n2.Subscribe(subCtx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	app := &domain.App{ID: ids.New("app"), Name: "a", CreatedAt: now, UpdatedAt: now}
	if err := n1.CreateApp(bg, app); err != nil {
		t.Fatal(err)
	}
	ep := &domain.Endpoint{ID: ids.New("ep"), AppID: app.ID, URL: "https://example.com", State: domain.EndpointEnabled, FIFO: true, CreatedAt: now, UpdatedAt: now}
	if err := n2.CreateEndpoint(bg, ep, &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: ep.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// Both nodes publish to the FIFO endpoint at once; the order is one sequence.
	var wg sync.WaitGroup
	for _, n := range []*Store{n1, n2} {
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := &domain.Message{ID: ids.New("msg"), AppID: app.ID, Type: "t", Payload: json.RawMessage(`{}`), CreatedAt: now}
				if _, err := n.Publish(bg, &store.PublishInput{Message: m, LeaseOwner: "x", LeaseUntil: now.Add(time.Minute), EndpointConcurrency: 8}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	select {
	case <-woken: // n1's publishes wake n2
	case <-time.After(30 * time.Second):
		t.Fatal("n2 was not notified of n1's publishes")
	}
	// One delivery in flight at a time, whichever node claims, in seq order.
	var last int64
	for i := 0; i < 40; i++ {
		claimer, other := n1, n2
		if i%2 == 1 {
			claimer, other = n2, n1
		}
		c, err := claimer.Claim(bg, store.ClaimRequest{Owner: fmt.Sprint(i), Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 10, EndpointConcurrency: 8})
		if err != nil || len(c) != 1 {
			t.Fatalf("claim %d: %d deliveries, %v", i, len(c), err)
		}
		if c[0].Delivery.Seq <= last {
			t.Fatalf("claim %d: seq %d after %d", i, c[0].Delivery.Seq, last)
		}
		last = c[0].Delivery.Seq
		if more, _ := other.Claim(bg, store.ClaimRequest{Owner: "y", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 10, EndpointConcurrency: 8}); len(more) != 0 {
			t.Fatalf("claim %d: the other node claimed a second delivery in flight", i)
		}
		a := &domain.Attempt{ID: ids.New("att"), DeliveryID: c[0].Delivery.ID, AppID: app.ID, EndpointID: ep.ID, MessageID: c[0].Delivery.MessageID,
			Number: 1, StartedAt: time.Now(), StatusCode: 200, Outcome: domain.OutcomeSucceeded}
		if err := claimer.Complete(bg, []*store.AttemptResult{{Attempt: a, Status: domain.DeliverySucceeded}}); err != nil {
			t.Fatal(err)
		}
	}
	// Periodic work: one node at a time.
	release, ok, err := n1.TryLock(bg, "maintenance")
	if err != nil || !ok {
		t.Fatalf("n1 lock: %v %v", ok, err)
	}
	if _, ok, err := n2.TryLock(bg, "maintenance"); err != nil || ok {
		t.Fatalf("n2 took the lock n1 holds: %v %v", ok, err)
	}
	release()
	release2, ok, err := n2.TryLock(bg, "maintenance")
	if err != nil || !ok {
		t.Fatalf("n2 lock after n1 released it: %v %v", ok, err)
	}
	release2()
}

// TestIdempotencyAcrossNodes publishes one idempotency key from two nodes at once.
func TestIdempotencyAcrossNodes(t *testing.T) {
	url, box := pgtest.URL(t), crypttest.NewBox(t)
	n1, n2 := openURL(t, url, box), openURL(t, url, box)
	defer n1.Close()
	defer n2.Close()
	now := time.Now().UTC()
	app := &domain.App{ID: ids.New("app"), Name: "a", CreatedAt: now, UpdatedAt: now}
	if err := n1.CreateApp(bg, app); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 10; round++ {
		key := fmt.Sprintf("order-%d", round)
		results := make(chan *store.PublishResult, 8)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			n := []*Store{n1, n2}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := &domain.Message{ID: ids.New("msg"), AppID: app.ID, Type: "t", Payload: json.RawMessage(`{}`), IdempotencyKey: key, CreatedAt: now}
				res, err := n.Publish(bg, &store.PublishInput{Message: m, IdempotencyTTL: time.Hour})
				if err != nil {
					t.Error(err)
					return
				}
				results <- res
			}()
		}
		wg.Wait()
		close(results)
		fresh, ids := 0, map[string]bool{}
		for r := range results {
			if !r.Duplicate {
				fresh++
			}
			ids[r.Message.ID] = true
		}
		if fresh != 1 || len(ids) != 1 {
			t.Fatalf("key %s: %d publishes stored a message, %d distinct message ids; want 1 and 1", key, fresh, len(ids))
		}
	}
}

// TestMigrations checks that nodes starting together on an empty schema migrate it once,
// and that herald migrate's function reports versions.
func TestMigrations(t *testing.T) {
	url, box := pgtest.URL(t), crypttest.NewBox(t)
	from, to, err := Migrate(bg, url, slog.New(slog.DiscardHandler))
	if err != nil || from != 0 || to < 2 {
		t.Fatalf("Migrate on an empty schema = %d, %d, %v", from, to, err)
	}
	if from, again, err := Migrate(bg, url, slog.New(slog.DiscardHandler)); err != nil || from != to || again != to {
		t.Fatalf("Migrate again = %d, %d, %v; want %d twice", from, again, err, to)
	}
	url2 := pgtest.URL(t)
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() {
			s, err := Open(bg, url2, Options{Cipher: box, Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent open: %v", err)
		}
	}
}

// TestEncryptionKeyMismatch checks that a node with another key refuses to start.
func TestEncryptionKeyMismatch(t *testing.T) {
	url := pgtest.URL(t)
	openURL(t, url, crypttest.NewBox(t)).Close()
	_, err := Open(bg, url, Options{Cipher: crypttest.NewBox(t), Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "HERALD_ENCRYPTION_KEY") {
		t.Fatalf("open with another key: err = %v, want one naming HERALD_ENCRYPTION_KEY", err)
	}
}

// TestDurableDespiteServerDefault checks that a server configured with
// synchronous_commit=off does not make publishes non-durable.
func TestDurableDespiteServerDefault(t *testing.T) {
	s := openURL(t, pgtest.URL(t)+"&options=-c%20synchronous_commit%3Doff", crypttest.NewBox(t))
	defer s.Close()
	var setting string
	if err := s.pool.QueryRow(bg, `SELECT current_setting('synchronous_commit')`).Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "on" {
		t.Fatalf("synchronous_commit = %q on a publishing connection, want on", setting)
	}
}

func TestBadURL(t *testing.T) {
	for _, url := range []string{"postgres://127.0.0.1:1/x?connect_timeout=2", "postgres://%zz"} {
		if _, err := Open(bg, url, Options{Cipher: crypttest.NewBox(t)}); err == nil {
			t.Errorf("Open(%q) succeeded", url)
		}
	}
}

// TestWriteAfterClose checks that writes racing with Close either commit or fail with
// ErrClosed, and never wait forever.
func TestWriteAfterClose(t *testing.T) {
	url, box := pgtest.URL(t), crypttest.NewBox(t)
	openURL(t, url, box).Close() // migrate once
	for i := 0; i < 10; i++ {
		storetest.WritesRacingClose(t, openURL(t, url, box), 30*time.Second)
	}
}
