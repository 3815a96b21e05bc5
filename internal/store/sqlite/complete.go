package sqlite

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

// Complete records a batch of results with a few statements whatever its size: one
// INSERT for the attempts, one UPDATE for the deliveries and one for the endpoints'
// failure streaks, each reading the batch from a JSON array (json_each).

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

// resultRow is one result as recordResults passes it to SQLite, in a JSON array.
type resultRow struct {
	ID              string  `json:"id"`
	DeliveryID      string  `json:"dlv"`
	AppID           string  `json:"app"`
	EndpointID      string  `json:"ep"`
	MessageID       string  `json:"msg"`
	Number          int     `json:"n"`
	StartedAt       int64   `json:"at"`
	LatencyUS       int64   `json:"lat"`
	StatusCode      int     `json:"code"`
	ResponseHeaders string  `json:"rh"`
	ResponseBody    *string `json:"body"` // hex; null for none
	Error           string  `json:"err"`
	Outcome         string  `json:"out"`
	RequestHeaders  string  `json:"qh"`
	Status          string  `json:"st"`
	NextAttemptAt   *int64  `json:"next"` // unix ms or null
	UpdatedAt       int64   `json:"upd"`
}

// recordResults inserts the results' attempts and updates their deliveries, results
// naming each delivery once. A result whose delivery was deleted meanwhile (with its
// endpoint or app) is skipped; it returns the results it recorded.
func (w *writer) recordResults(results []*store.AttemptResult) ([]*store.AttemptResult, error) {
	rows := make([]resultRow, len(results))
	for i, r := range results {
		a := r.Attempt
		row := &rows[i]
		*row = resultRow{ID: a.ID, DeliveryID: a.DeliveryID, AppID: a.AppID, EndpointID: a.EndpointID, MessageID: a.MessageID,
			Number: a.Number, StartedAt: ms(a.StartedAt), LatencyUS: a.Latency.Microseconds(), StatusCode: a.StatusCode,
			ResponseHeaders: sqlstore.JSON(a.ResponseHeaders), Error: a.Error, Outcome: a.Outcome, RequestHeaders: sqlstore.JSON(a.RequestHeaders),
			Status: r.Status, UpdatedAt: ms(a.StartedAt.Add(a.Latency))}
		if r.NextAttemptAt != nil {
			next := ms(*r.NextAttemptAt)
			row.NextAttemptAt = &next
		}
		if a.ResponseBody != nil {
			body := hex.EncodeToString(a.ResponseBody)
			row.ResponseBody = &body
		}
	}
	batch := encodeJSON(rows)
	// The delivery's foreign key would fail the whole statement: rows whose delivery is
	// gone are left out instead.
	n, err := w.execN(`INSERT INTO attempts (`+sqlstore.AttemptColumns+`)
		SELECT r.value->>'id', r.value->>'dlv', r.value->>'app', r.value->>'ep', r.value->>'msg', r.value->>'n', r.value->>'at',
			r.value->>'lat', r.value->>'code', r.value->>'rh', unhex(r.value->>'body'), r.value->>'err', r.value->>'out', r.value->>'qh'
		FROM json_each(?) r WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = r.value->>'dlv')`, batch)
	if err != nil {
		return nil, fmt.Errorf("complete: attempts: %w", err)
	}
	if _, err := w.exec(`UPDATE deliveries SET status = r.value->>'st', attempts = attempts + 1, retry_step = retry_step + 1,
			next_attempt_at = r.value->>'next', lease_owner = NULL, last_status_code = r.value->>'code', last_error = r.value->>'err',
			updated_at = r.value->>'upd'
		FROM json_each(?) r WHERE deliveries.id = r.value->>'dlv'`, batch); err != nil {
		return nil, fmt.Errorf("complete: deliveries: %w", err)
	}
	if int(n) == len(results) {
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

// setStreak applies each endpoint's latest result to its failure streak, with one
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
