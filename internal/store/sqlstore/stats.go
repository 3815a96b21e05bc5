package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// AttemptStats implements store.Store. An endpoint's stats in buckets of whole hours
// are read from attempt_hours, its attempts counted per hour (see migration 10), so a
// month costs at most 720 small rows; only the hours that a bucket boundary or the
// range's ends cut are counted from the attempts. Other stats count the attempts of
// the range from an index (by endpoint and time, covering the outcome; or the primary
// key, by id).
// Attempts a transformation cancelled made no request and count as neither.
func (c *Core) AttemptStats(ctx context.Context, f store.AttemptStatsFilter) (*store.AttemptStats, error) {
	if f.Bucket%time.Second != 0 || f.Bucket <= 0 || !f.Since.Before(f.Until) {
		return nil, fmt.Errorf("attempt stats: want a positive bucket of whole seconds and since before until")
	}
	n := int((f.Until.Sub(f.Since) + f.Bucket - 1) / f.Bucket)
	st := &store.AttemptStats{Buckets: make([]store.StatsBucket, n)}
	for i := range st.Buckets {
		st.Buckets[i].Start = f.Since.Add(time.Duration(i) * f.Bucket).UTC()
	}
	var lastFailed span // where the range's latest failed attempt is
	var err error
	if useHours(f) {
		lastFailed, err = c.countHours(ctx, f, st)
	} else {
		lastFailed, err = c.countAttempts(ctx, f, f.Since, f.Until, st)
	}
	if err != nil {
		return nil, fmt.Errorf("attempt stats: %w", err)
	}
	if f.EndpointID == "" {
		return st, nil
	}
	// The latest attempt (one seek of the index), and the latest failure: searched in
	// the bucket or hour that the counts name, so that a long run of successes is never walked.
	last := `SELECT ` + AttemptColumns + ` FROM attempts WHERE endpoint_id = $1 AND started_at >= $2 AND started_at < $3`
	if st.Last, err = c.firstAttempt(ctx, last+` ORDER BY started_at DESC LIMIT 1`, f.EndpointID, c.d.Time(f.Since), c.d.Time(f.Until)); err != nil {
		return nil, err
	}
	if !lastFailed.from.IsZero() {
		if st.LastFailure, err = c.firstAttempt(ctx, last+` AND outcome NOT IN ('succeeded', 'cancelled') ORDER BY started_at DESC LIMIT 1`,
			f.EndpointID, c.d.Time(lastFailed.from), c.d.Time(lastFailed.to)); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// span is a time range [from, to); a zero from means none.
type span struct{ from, to time.Time }

// later returns whichever of s and o ends later.
func (s span) later(o span) span {
	if s.from.IsZero() || (!o.from.IsZero() && o.to.After(s.to)) {
		return o
	}
	return s
}

// useHours reports whether attempt_hours can serve f: one endpoint's stats in buckets of
// whole hours, whose boundaries fall on hours (or are a few hours apart, so that few
// hours are cut).
func useHours(f store.AttemptStatsFilter) bool {
	return f.EndpointID != "" && f.Bucket%time.Hour == 0 && (f.Since.Truncate(time.Hour).Equal(f.Since) || f.Bucket > time.Hour)
}

// countHours adds f's counts from attempt_hours to st, counting the hours a bucket
// boundary or the range's ends cut from the attempts, and says where the latest
// failure is (an hour, or part of one).
func (c *Core) countHours(ctx context.Context, f store.AttemptStatsFilter, st *store.AttemptStats) (span, error) {
	rows, err := c.db.Query(ctx, `SELECT hour, succeeded, failed FROM attempt_hours WHERE endpoint_id = $1 AND hour >= $2 AND hour < $3`,
		f.EndpointID, c.d.Time(f.Since.Truncate(time.Hour)), c.d.Time(f.Until))
	type hourCount struct {
		hour      time.Time
		ok, notOK int64
	}
	hours, err := Collect(rows, err, func(row Row) (hourCount, error) {
		var h hourCount
		err := row.Scan(c.d.ScanTime(&h.hour), &h.ok, &h.notOK)
		return h, err
	})
	if err != nil {
		return span{}, err
	}
	var lastFailed span
	for _, h := range hours {
		from, to := h.hour.UTC(), h.hour.UTC().Add(time.Hour)
		i, j := bucketOf(f, from), bucketOf(f, to.Add(-time.Millisecond))
		if from.Before(f.Since) || to.After(f.Until) || i != j {
			// A cut hour: its attempts, by the minute, from the index.
			part, err := c.countAttempts(ctx, f, maxTime(from, f.Since), minTime(to, f.Until), st)
			if err != nil {
				return span{}, err
			}
			lastFailed = lastFailed.later(part)
			continue
		}
		b := &st.Buckets[i]
		b.Succeeded += h.ok
		b.Failed += h.notOK
		st.Succeeded += h.ok
		st.Failed += h.notOK
		if h.notOK > 0 {
			lastFailed = lastFailed.later(span{from, to})
		}
	}
	return lastFailed, nil
}

// bucketOf returns the index of the bucket of f that holds t.
func bucketOf(f store.AttemptStatsFilter, t time.Time) int {
	return int(t.Sub(f.Since) / f.Bucket)
}

// attemptIDSlack bounds how much later than its start an attempt's id is made (when its
// request has ended): the longest timeout, with room to spare.
const attemptIDSlack = 5 * domain.MaxTimeoutMS * time.Millisecond

// countAttempts adds the attempts of f that started in [since, until) to st, from an
// index, and says which bucket (cut to the range) holds the latest failure.
func (c *Core) countAttempts(ctx context.Context, f store.AttemptStatsFilter, since, until time.Time, st *store.AttemptStats) (span, error) {
	// Cancelled attempts made no request: neither a success nor a failure of the endpoint.
	where := `started_at >= $1 AND started_at < $2 AND outcome <> 'cancelled'`
	args := []any{c.d.Time(since), c.d.Time(until)}
	if f.EndpointID != "" {
		where = `endpoint_id = $3 AND ` + where
		args = append(args, f.EndpointID)
	} else {
		// Every endpoint's: a range of the primary key. An attempt's id is made when it
		// ends, so the range reaches past until by the longest an attempt can last.
		where = `id >= $3 AND id < $4 AND ` + where
		args = append(args, ids.Floor("att", since), ids.Floor("att", until.Add(attemptIDSlack)))
	}
	sinceSec := strconv.FormatInt(f.Since.Unix(), 10)
	rows, err := c.db.Query(ctx, `SELECT (`+c.d.Epoch("started_at")+` - `+sinceSec+`) / `+strconv.FormatInt(int64(f.Bucket/time.Second), 10)+` AS b,
		outcome = 'succeeded' AS ok, COUNT(*) FROM attempts WHERE `+where+` GROUP BY b, ok`, args...)
	type count struct {
		bucket int64
		ok     bool
		n      int64
	}
	counts, err := Collect(rows, err, func(row Row) (count, error) {
		var ct count
		err := row.Scan(&ct.bucket, &ct.ok, &ct.n)
		return ct, err
	})
	if err != nil {
		return span{}, err
	}
	lastFailed := -1
	for _, ct := range counts {
		if ct.bucket < 0 || ct.bucket >= int64(len(st.Buckets)) {
			continue
		}
		b := &st.Buckets[ct.bucket]
		if ct.ok {
			b.Succeeded += ct.n
			st.Succeeded += ct.n
		} else {
			b.Failed += ct.n
			st.Failed += ct.n
			lastFailed = max(lastFailed, int(ct.bucket))
		}
	}
	if lastFailed < 0 {
		return span{}, nil
	}
	start := st.Buckets[lastFailed].Start
	return span{maxTime(start, since), minTime(start.Add(f.Bucket), until)}, nil
}

// firstAttempt returns the attempt a query finds, or nil.
func (c *Core) firstAttempt(ctx context.Context, query string, args ...any) (*domain.Attempt, error) {
	a, err := scanAttempt(c.d, c.db.QueryRow(ctx, query, args...))
	if IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("attempt stats: %w", err)
	}
	return a, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
