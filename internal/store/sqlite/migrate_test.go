package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// TestMigrationListenerKinds checks that migration 3 makes listen: endpoints listeners
// and keeps only the oldest of each app's listeners of one name.
func TestMigrationListenerKinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	for _, m := range ms[:2] {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations VALUES (?, 0)`, m.Version)
	}
	exec(`INSERT INTO apps (id, name, created_at, updated_at) VALUES ('app_1', 'a', 0, 0)`)
	for _, ep := range []struct {
		id, url string
		created int
	}{{"ep_b", "listen:laptop", 1}, {"ep_a", "listen:laptop", 2}, {"ep_c", "listen:laptop", 2}, {"ep_d", "https://x", 0}, {"ep_e", "listen:desk", 5}} {
		exec(`INSERT INTO endpoints (id, app_id, url, state, created_at, updated_at) VALUES (?, 'app_1', ?, 'enabled', ?, 0)`, ep.id, ep.url, ep.created)
	}
	db.Close()

	s := openAt(t, path)
	defer s.Close()
	want := map[string]struct{ kind, url, state string }{
		"ep_b": {domain.KindListener, "listen:laptop", domain.EndpointEnabled}, // the oldest
		"ep_a": {domain.KindListener, "listen:laptop#ep_a", domain.EndpointDisabled},
		"ep_c": {domain.KindListener, "listen:laptop#ep_c", domain.EndpointDisabled},
		"ep_d": {domain.KindHTTP, "https://x", domain.EndpointEnabled},
		"ep_e": {domain.KindListener, "listen:desk", domain.EndpointEnabled},
	}
	for id, w := range want {
		e, err := s.GetEndpoint(context.Background(), "", id)
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind != w.kind || e.URL != w.url || e.State != w.state {
			t.Errorf("%s = kind %q, url %q, state %q; want %+v", id, e.Kind, e.URL, e.State, w)
		}
		if w.state == domain.EndpointDisabled && e.DisabledReason != "duplicate listener endpoint" {
			t.Errorf("%s disabled for %q", id, e.DisabledReason)
		}
	}
}

// TestNoCrossNodeLimits checks that SQLite refuses limits across nodes, which only a
// store.Shared enforces.
func TestNoCrossNodeLimits(t *testing.T) {
	s := openTest(t)
	defer s.Close()
	var st store.Store = s
	if _, ok := st.(store.Shared); ok {
		t.Fatal("the SQLite store claims to be shared by several nodes")
	}
	_, err := s.Claim(context.Background(), store.ClaimRequest{Owner: "n1", Limit: 1, EndpointConcurrency: 4})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Claim with EndpointConcurrency: err = %v, want ErrUnsupported", err)
	}
	_, err = s.Publish(context.Background(), &store.PublishInput{Message: &domain.Message{ID: "msg_1", AppID: "app_1"}, EndpointConcurrency: 4})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Publish with EndpointConcurrency: err = %v, want ErrUnsupported", err)
	}
}
