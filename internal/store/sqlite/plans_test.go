package sqlite

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/store"
)

// statements records each distinct statement stores ran, with the arguments of its
// first run.
type statements struct {
	mu   sync.Mutex
	args map[string][]any
}

// add records query, run with args.
func (r *statements) add(query string, args []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.args == nil {
		r.args = map[string][]any{}
	}
	if _, ok := r.args[query]; !ok {
		r.args[query] = append([]any(nil), args...)
	}
}

// bigTables are the tables that grow with traffic: no statement may read all of one.
var bigTables = regexp.MustCompile(`\b(messages|deliveries|attempts)(?:\s+AS)?\s+([a-z]\w*)?`)

// queueIndexes are the partial indexes of pending deliveries (the queue): reading all
// of one reads the queue, not the deliveries.
var queueIndexes = map[string]bool{"deliveries_due": true, "deliveries_fifo": true, "deliveries_pending_created": true}

// scanStep matches a plan step that reads a whole table or index: SCAN name, with the
// index it walks if any.
var scanStep = regexp.MustCompile(`^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?`)

// fullScans returns the steps of query's plan that read all of messages, deliveries or
// attempts (or all of one of their indexes other than the queue's).
func fullScans(t *testing.T, s *Store, query string, args []any) []string {
	t.Helper()
	names := map[string]bool{}
	for _, m := range bigTables.FindAllStringSubmatch(query, -1) {
		names[m[1]] = true
		if m[2] != "" {
			names[m[2]] = true // the table's alias
		}
	}
	if len(names) == 0 {
		return nil
	}
	rows, err := s.read.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		m := scanStep.FindStringSubmatch(detail)
		if m != nil && names[m[1]] && !queueIndexes[m[2]] {
			bad = append(bad, detail)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return bad
}

// checkPlans fails for each statement of r whose plan reads all of messages, deliveries
// or attempts: every lookup, list, claim, completion, purge and count must be served by
// an index (or the queue's partial indexes), whatever the tables hold.
func checkPlans(t *testing.T, driver string, r *statements) {
	if len(r.args) == 0 {
		t.Skip("the conformance suite did not run")
	}
	s := openDriver(t, filepath.Join(t.TempDir(), "herald.db"), driver, store.RejectionLimits{})
	defer s.Close()
	queries := make([]string, 0, len(r.args))
	for q := range r.args {
		queries = append(queries, q)
	}
	sort.Strings(queries)
	checked := 0
	for _, q := range queries {
		if !bigTables.MatchString(q) {
			continue
		}
		checked++
		if bad := fullScans(t, s, q, r.args[q]); len(bad) > 0 {
			t.Errorf("%s\nreads a whole table: %s", strings.Join(strings.Fields(q), " "), strings.Join(bad, "; "))
		}
	}
	t.Logf("checked the plans of %d statements on messages, deliveries and attempts", checked)
	if checked < 40 {
		t.Fatalf("checked the plans of %d statements on messages, deliveries and attempts; the suite runs more", checked)
	}
}

// TestFullScans checks that fullScans tells a statement that reads a whole table, or
// a whole index other than the queue's, from one that an index serves.
func TestFullScans(t *testing.T) {
	s := openTest(t)
	defer s.Close()
	for _, tc := range []struct {
		query string
		full  bool
	}{
		{`SELECT id FROM messages WHERE type = $1`, true},
		{`SELECT d.id FROM deliveries d WHERE d.last_error = $1`, true},
		{`DELETE FROM attempts WHERE message_id = $1`, true},
		{`SELECT id FROM messages ORDER BY app_id, created_at LIMIT 1`, true}, // all of messages_app_created
		{`SELECT id FROM messages WHERE id = $1`, false},
		{`SELECT d.id FROM deliveries d WHERE d.endpoint_id = $1 ORDER BY d.id DESC`, false},
		{`SELECT COUNT(*) FROM deliveries WHERE status = 'pending'`, false}, // the queue
	} {
		if got := len(fullScans(t, s, tc.query, []any{"x"}[:strings.Count(tc.query, "$1")])) > 0; got != tc.full {
			t.Errorf("%s: full scan %v, want %v", tc.query, got, tc.full)
		}
	}
}
