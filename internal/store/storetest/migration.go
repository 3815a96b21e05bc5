package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

// MigrationDB is a new, empty database of a SQL backend, for the migration tests.
type MigrationDB struct {
	// Migrations returns the backend's migrations, in order.
	Migrations func() ([]sqlstore.Migration, error)
	// Exec runs a statement with $n parameters on a raw connection to the database.
	Exec func(query string, args ...any) error
	// Open closes that connection and opens the store on the database.
	Open func() store.Store
}

// MigrateFrom seeds db with seed, given db's Exec and the migrations older than
// version, then opens the store, which applies the rest; the store is closed when the
// test ends.
func MigrateFrom(t *testing.T, db MigrationDB, version int, seed func(exec func(string, ...any) error, before []sqlstore.Migration)) store.Store {
	t.Helper()
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var before []sqlstore.Migration
	for _, m := range ms {
		if m.Version < version {
			before = append(before, m)
		}
	}
	seed(db.Exec, before)
	s := db.Open()
	t.Cleanup(func() { s.Close() })
	return s
}

// legacyEndpoints are the endpoints of app_1 in a version-2 schema, before migration 3
// gives endpoints a kind: three listeners of one name (ep_b the oldest; ep_a and ep_c
// tie, broken by id), an HTTP endpoint and a listener of another name. Created is the
// time after the epoch of the test.
var legacyEndpoints = []struct {
	id, url string
	created time.Duration
}{
	{"ep_b", "listen:laptop", 1 * time.Second},
	{"ep_a", "listen:laptop", 2 * time.Second},
	{"ep_c", "listen:laptop", 2 * time.Second},
	{"ep_d", "https://x", 0},
	{"ep_e", "listen:desk", 5 * time.Second},
}

// SeedListenerMigration prepares an empty database for CheckListenerMigration: exec runs
// a statement with $n parameters on a raw connection, versions creates the backend's
// schema_migrations table, schema holds the SQL of migrations 1 and 2 (recorded there),
// and timeArg encodes a time as the backend stores it.
func SeedListenerMigration(t *testing.T, exec func(query string, args ...any) error, versions string, schema []string, timeArg func(time.Time) any) {
	t.Helper()
	run := func(query string, args ...any) {
		t.Helper()
		if err := exec(query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run(versions)
	for i, sql := range schema {
		run(sql)
		run(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, i+1, timeArg(epoch))
	}
	run(`INSERT INTO apps (id, name, created_at, updated_at) VALUES ('app_1', 'a', $1, $1)`, timeArg(epoch))
	for _, ep := range legacyEndpoints {
		run(`INSERT INTO endpoints (id, app_id, url, state, created_at, updated_at) VALUES ($1, 'app_1', $2, 'enabled', $3, $3)`,
			ep.id, ep.url, timeArg(epoch.Add(ep.created)))
	}
}

// CheckListenerMigration checks what migration 3 made of the endpoints
// SeedListenerMigration stored: kinds from the URLs, and of each app's listeners of one
// name only the oldest left as it was, the others disabled and renamed.
func CheckListenerMigration(t *testing.T, s store.Store) {
	t.Helper()
	want := map[string]struct{ kind, url, state string }{
		"ep_b": {domain.KindListener, "listen:laptop", domain.EndpointEnabled},
		"ep_a": {domain.KindListener, "listen:laptop#ep_a", domain.EndpointDisabled},
		"ep_c": {domain.KindListener, "listen:laptop#ep_c", domain.EndpointDisabled},
		"ep_d": {domain.KindHTTP, "https://x", domain.EndpointEnabled},
		"ep_e": {domain.KindListener, "listen:desk", domain.EndpointEnabled},
	}
	for id, w := range want {
		e, err := s.GetEndpoint(ctx, "", id)
		must(t, err)
		if e.Kind != w.kind || e.URL != w.url || e.State != w.state {
			t.Errorf("%s = kind %q, url %q, state %q; want %+v", id, e.Kind, e.URL, e.State, w)
		}
		if w.state == domain.EndpointDisabled && e.DisabledReason != "duplicate listener endpoint" {
			t.Errorf("%s disabled for %q", id, e.DisabledReason)
		}
	}
}
