package postgres

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestMigrationListenerKinds checks that migration 3 makes listen: endpoints listeners
// and keeps only the oldest of each app's listeners of one name.
func TestMigrationListenerKinds(t *testing.T) {
	url := pgtest.URL(t)
	conn, err := pgx.Connect(bg, url)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(bg, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`)
	for _, m := range ms[:2] {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations VALUES ($1, now())`, m.Version)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	exec(`INSERT INTO apps (id, name, created_at, updated_at) VALUES ('app_1', 'a', $1, $1)`, t0)
	for _, ep := range []struct {
		id, url string
		created int
	}{{"ep_b", "listen:laptop", 1}, {"ep_a", "listen:laptop", 2}, {"ep_c", "listen:laptop", 2}, {"ep_d", "https://x", 0}, {"ep_e", "listen:desk", 5}} {
		exec(`INSERT INTO endpoints (id, app_id, url, state, created_at, updated_at) VALUES ($1, 'app_1', $2, 'enabled', $3, $3)`,
			ep.id, ep.url, t0.Add(time.Duration(ep.created)*time.Second))
	}
	conn.Close(bg)

	s := openURL(t, url, newBox(t))
	defer s.Close()
	want := map[string]struct{ kind, url, state string }{
		"ep_b": {domain.KindListener, "listen:laptop", domain.EndpointEnabled}, // the oldest
		"ep_a": {domain.KindListener, "listen:laptop#ep_a", domain.EndpointDisabled},
		"ep_c": {domain.KindListener, "listen:laptop#ep_c", domain.EndpointDisabled},
		"ep_d": {domain.KindHTTP, "https://x", domain.EndpointEnabled},
		"ep_e": {domain.KindListener, "listen:desk", domain.EndpointEnabled},
	}
	for id, w := range want {
		e, err := s.GetEndpoint(bg, "", id)
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
