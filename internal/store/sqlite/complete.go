package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

// Complete records a batch of results with a few statements whatever its size: an
// INSERT of many rows for the attempts, an UPDATE ... FROM (VALUES ...) for the
// deliveries and one UPDATE for the endpoints' failure streaks. Rows are bound as
// parameters, not passed as JSON: extracting each field from a JSON object costs
// SQLite a parse per field, more than the statements saved.

// Complete implements store.Store. Endpoints it disables are reported to watchers.
func (s *Store) Complete(ctx context.Context, results []*store.AttemptResult) error {
	if len(results) == 0 {
		return nil
	}
	var disabled []string
	err := s.doRelaxed(ctx, func(w *writer) error {
		disabled = disabled[:0]
		// The latest recorded result per endpoint decides its failure streak.
		streak := map[string]*store.AttemptResult{}
		for rest := results; len(rest) > 0; {
			n := distinctDeliveries(rest)
			recorded, err := w.recordResults(rest[:n])
			if err != nil {
				return err
			}
			for _, r := range recorded {
				a := r.Attempt
				if !r.Unsent {
					streak[a.EndpointID] = r
				}
				if r.DisableEndpoint != "" {
					if _, err := w.exec(`UPDATE endpoints SET state = 'disabled', disabled_reason = ?, updated_at = ? WHERE id = ?`,
						r.DisableEndpoint, ms(a.StartedAt), a.EndpointID); err != nil {
						return err
					}
					disabled = append(disabled, a.EndpointID)
				}
			}
			rest = rest[n:]
		}
		return w.setStreaks(streak)
	})
	if err == nil && len(disabled) > 0 {
		s.feed.Publish(disabled...)
	}
	return err
}

// distinctDeliveries returns the length of the longest prefix of results in which no
// delivery appears twice: a statement updates each delivery once, so a delivery's second
// result of a batch waits for the next statement.
func distinctDeliveries(results []*store.AttemptResult) int {
	seen := make(map[string]struct{}, len(results))
	for i, r := range results {
		if _, ok := seen[r.Attempt.DeliveryID]; ok {
			return i
		}
		seen[r.Attempt.DeliveryID] = struct{}{}
	}
	return len(results)
}

// maxRows bounds the rows of one multi-row statement. A batch is cut into runs whose
// lengths are powers of two, so that at most seven texts of each statement are prepared.
const maxRows = 64

// runLen returns the length of the next run of a batch of n > 0 rows.
func runLen(n int) int {
	k := maxRows
	for k > n {
		k /= 2
	}
	return k
}

// values returns a VALUES list of rows rows of cols placeholders.
func values(rows, cols int) string {
	row := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return "VALUES " + row + strings.Repeat(", "+row, rows-1)
}

// recordResults inserts the results' attempts and updates their deliveries, results
// naming each delivery once, with one INSERT and one UPDATE per run of up to maxRows
// results. A result whose delivery was deleted meanwhile (with its endpoint or app) is
// skipped; it returns the results it recorded.
func (w *writer) recordResults(results []*store.AttemptResult) ([]*store.AttemptResult, error) {
	inserted := 0
	for rest := results; len(rest) > 0; {
		run := rest[:runLen(len(rest))]
		rest = rest[len(run):]
		attempts := make([]any, 0, 14*len(run))
		deliveries := make([]any, 0, 6*len(run))
		for _, r := range run {
			a := r.Attempt
			attempts = append(attempts, a.ID, a.DeliveryID, a.AppID, a.EndpointID, a.MessageID, a.Number, ms(a.StartedAt), a.Latency.Microseconds(),
				a.StatusCode, sqlstore.JSON(a.ResponseHeaders), a.ResponseBody, a.Error, a.Outcome, sqlstore.JSON(a.RequestHeaders))
			deliveries = append(deliveries, a.DeliveryID, r.Status, dialect{}.NullTime(r.NextAttemptAt), a.StatusCode, a.Error, ms(a.StartedAt.Add(a.Latency)))
		}
		// The delivery's foreign key would fail the whole statement: rows whose delivery
		// is gone are left out instead.
		n, err := w.execN(`INSERT INTO attempts (`+sqlstore.AttemptColumns+`)
			SELECT * FROM (`+values(len(run), 14)+`) AS v WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = v.column2)`, attempts...)
		if err != nil {
			return nil, fmt.Errorf("complete: attempts: %w", err)
		}
		inserted += int(n)
		if _, err := w.exec(`UPDATE deliveries SET status = v.column2, attempts = attempts + 1, retry_step = retry_step + 1,
				next_attempt_at = v.column3, lease_owner = NULL, last_status_code = v.column4, last_error = v.column5, updated_at = v.column6
			FROM (`+values(len(run), 6)+`) AS v WHERE deliveries.id = v.column1`, deliveries...); err != nil {
			return nil, fmt.Errorf("complete: deliveries: %w", err)
		}
	}
	if inserted == len(results) {
		return results, nil
	}
	return w.presentDeliveries(results)
}

// presentDeliveries returns the results whose delivery still exists.
func (w *writer) presentDeliveries(results []*store.AttemptResult) ([]*store.AttemptResult, error) {
	ids := make([]string, len(results))
	for i, r := range results {
		ids[i] = r.Attempt.DeliveryID
	}
	rows, err := w.query(`SELECT j.value FROM json_each(?) j WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = j.value)`, encodeJSON(ids))
	gone, err := sqlstore.Collect(rows, err, sqlstore.ScanString)
	if err != nil {
		return nil, fmt.Errorf("complete: deleted deliveries: %w", err)
	}
	skip := make(map[string]bool, len(gone))
	for _, id := range gone {
		skip[id] = true
	}
	var kept []*store.AttemptResult
	for _, r := range results {
		if !skip[r.Attempt.DeliveryID] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// setStreaks applies each endpoint's latest result to its failure streak, with one
// statement that changes only the endpoints whose streak starts or ends.
func (w *writer) setStreaks(latest map[string]*store.AttemptResult) error {
	if len(latest) == 0 {
		return nil
	}
	type streak struct {
		ID     string `json:"id"`
		Failed bool   `json:"f"`
		At     int64  `json:"at"`
	}
	rows := make([]streak, 0, len(latest))
	for id, r := range latest {
		rows = append(rows, streak{ID: id, Failed: r.EndpointFailed, At: ms(r.Attempt.StartedAt)})
	}
	_, err := w.exec(`UPDATE endpoints SET failing_since = CASE WHEN r.value->>'f' THEN r.value->>'at' END
		FROM json_each(?) r WHERE endpoints.id = r.value->>'id' AND (endpoints.failing_since IS NULL) = (r.value->>'f')`, encodeJSON(rows))
	if err != nil {
		return fmt.Errorf("complete: failure streaks: %w", err)
	}
	return nil
}
