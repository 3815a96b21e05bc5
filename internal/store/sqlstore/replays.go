package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// replayColumns are the columns of a replay job, in the order scanReplay reads them.
const replayColumns = `id, app_id, state, range_since, range_until, statuses, event_types, cursor_at, cursor_id, first_at,
	scanned, replayed, error, COALESCE(lease_owner, ''), lease_until, created_at, updated_at, finished_at`

// scanReplay scans replayColumns.
func scanReplay(d Dialect, row Row) (*domain.ReplayJob, error) {
	var j domain.ReplayJob
	var since, cursorAt *time.Time
	if err := row.Scan(&j.ID, &j.AppID, &j.State, d.ScanNullTime(&since), d.ScanTime(&j.Until), d.ScanList(&j.Statuses),
		d.ScanList(&j.EventTypes), d.ScanNullTime(&cursorAt), &j.CursorID, d.ScanNullTime(&j.FirstAt),
		&j.Scanned, &j.Replayed, &j.Error, &j.LeaseOwner, d.ScanNullTime(&j.LeaseUntil),
		d.ScanTime(&j.CreatedAt), d.ScanTime(&j.UpdatedAt), d.ScanNullTime(&j.FinishedAt)); err != nil {
		return nil, err
	}
	if since != nil {
		j.Since = since.UTC()
	}
	if cursorAt != nil {
		j.CursorAt = cursorAt.UTC()
	}
	if len(j.Statuses) == 0 {
		j.Statuses = nil
	}
	if len(j.EventTypes) == 0 {
		j.EventTypes = nil
	}
	j.Until, j.CreatedAt, j.UpdatedAt = j.Until.UTC(), j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	j.FirstAt, j.LeaseUntil, j.FinishedAt = utcPtr(j.FirstAt), utcPtr(j.LeaseUntil), utcPtr(j.FinishedAt)
	return &j, nil
}

// nullTime maps the zero time to NULL.
func nullTime(d Dialect, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.Time(t)
}

// CreateReplayJob implements store.Store. The app's row is locked first, so that
// concurrent creations count each other's running jobs.
func (c *Core) CreateReplayJob(ctx context.Context, j *domain.ReplayJob) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		ok, err := exists(ctx, q, `SELECT EXISTS (SELECT 1 FROM apps WHERE id = $1`+c.d.ForUpdate()+`)`, j.AppID)
		if err != nil {
			return err
		}
		if !ok {
			return store.NotFound("app", j.AppID)
		}
		if _, err := q.Exec(ctx, `DELETE FROM replay_jobs WHERE app_id = $1 AND state <> 'running' AND (created_at < $2
			OR id NOT IN (SELECT id FROM replay_jobs WHERE app_id = $1 ORDER BY id DESC LIMIT $3))`,
			j.AppID, c.d.Time(j.CreatedAt.Add(-domain.ReplayKeep)), domain.MaxKeptReplays-1); err != nil {
			return err
		}
		var running int
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM replay_jobs WHERE app_id = $1 AND state = 'running'`, j.AppID).Scan(&running); err != nil {
			return err
		}
		if running >= domain.MaxRunningReplays {
			return fmt.Errorf("app %s has %d replays running, the most at once; wait for one to finish or cancel one: %w", j.AppID, running, store.ErrConflict)
		}
		_, err = q.Exec(ctx, `INSERT INTO replay_jobs (id, app_id, state, range_since, range_until, statuses, event_types, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			j.ID, j.AppID, j.State, nullTime(c.d, j.Since), c.d.Time(j.Until), c.d.List(NonNil(j.Statuses)), c.d.List(NonNil(j.EventTypes)),
			c.d.Time(j.CreatedAt))
		return err
	})
}

// GetReplayJob implements store.Store.
func (c *Core) GetReplayJob(ctx context.Context, appID, id string) (*domain.ReplayJob, error) {
	row := c.db.QueryRow(ctx, `SELECT `+replayColumns+` FROM replay_jobs WHERE id = $1 AND app_id = $2`, id, appID)
	return get(row, bind(c.d, scanReplay), "replay", id)
}

// ListReplayJobs implements store.Store.
func (c *Core) ListReplayJobs(ctx context.Context, appID string, p store.Page) ([]*domain.ReplayJob, string, error) {
	return list(ctx, c.db, `SELECT `+replayColumns+` FROM replay_jobs WHERE app_id = $1`, []any{appID}, p,
		bind(c.d, scanReplay), func(j *domain.ReplayJob) string { return j.ID })
}

// CancelReplayJob implements store.Store.
func (c *Core) CancelReplayJob(ctx context.Context, appID, id string, now time.Time) (*domain.ReplayJob, error) {
	var j *domain.ReplayJob
	err := c.db.Write(ctx, false, func(q Querier) error {
		if _, err := q.Exec(ctx, `UPDATE replay_jobs SET state = 'cancelled', finished_at = $1, updated_at = $1, lease_owner = NULL, lease_until = NULL
			WHERE id = $2 AND app_id = $3 AND state = 'running'`, c.d.Time(now), id, appID); err != nil {
			return err
		}
		var err error
		j, err = get(q.QueryRow(ctx, `SELECT `+replayColumns+` FROM replay_jobs WHERE id = $1 AND app_id = $2`, id, appID),
			bind(c.d, scanReplay), "replay", id)
		return err
	})
	return j, err
}

// FailReplayJob implements store.Store.
func (c *Core) FailReplayJob(ctx context.Context, id, reason string, now time.Time) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		_, err := q.Exec(ctx, `UPDATE replay_jobs SET state = 'failed', error = $1, finished_at = $2, updated_at = $2, lease_owner = NULL, lease_until = NULL
			WHERE id = $3 AND state = 'running'`, reason, c.d.Time(now), id)
		return err
	})
}

// RunnableReplayJobs implements store.Store.
func (c *Core) RunnableReplayJobs(ctx context.Context, owner string, now time.Time, limit int) ([]string, error) {
	rows, err := c.db.Query(ctx, `SELECT id FROM replay_jobs WHERE state = 'running'
		AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $2) ORDER BY created_at LIMIT $3`, owner, c.d.Time(now), limit)
	return Collect(rows, err, ScanString)
}

// replayMessage is a message a replay step looks at.
type replayMessage struct {
	id, typ string
	at      time.Time
}

// ReplayStep implements store.Store. The step walks the app's messages by the index on
// (app_id, created_at, id) from the cursor, then their deliveries by message; the job's
// row is locked (PostgreSQL) or the write is the only one (SQLite) while it runs.
func (c *Core) ReplayStep(ctx context.Context, id, owner string, now time.Time, lease time.Duration, limit int) (*store.ReplayStepResult, error) {
	var res store.ReplayStepResult
	err := c.db.Write(ctx, false, func(q Querier) error {
		res = store.ReplayStepResult{}
		j, err := get(q.QueryRow(ctx, `SELECT `+replayColumns+` FROM replay_jobs WHERE id = $1`+c.d.ForUpdate(), id),
			bind(c.d, scanReplay), "replay", id)
		if err != nil {
			return err
		}
		res.Job = j
		if j.State != domain.ReplayRunning {
			return nil
		}
		if j.LeaseOwner != "" && j.LeaseOwner != owner && j.LeaseUntil != nil && j.LeaseUntil.After(now) {
			return fmt.Errorf("replay %s runs on %s: %w", id, j.LeaseOwner, store.ErrConflict)
		}
		msgs, err := c.replayMessages(ctx, q, j, limit)
		if err != nil {
			return err
		}
		if res.Queued, err = c.replayDeliveries(ctx, q, j, msgs, now); err != nil {
			return err
		}
		j.Scanned += int64(len(msgs))
		j.Replayed += int64(res.Queued)
		if len(msgs) > 0 {
			last := msgs[len(msgs)-1]
			j.CursorAt, j.CursorID = last.at, last.id
			if j.FirstAt == nil {
				first := msgs[0].at
				j.FirstAt = &first
			}
		}
		until := now.Add(lease)
		j.LeaseOwner, j.LeaseUntil, j.UpdatedAt = owner, &until, now
		if len(msgs) < limit {
			j.State, j.FinishedAt, j.LeaseOwner, j.LeaseUntil = domain.ReplayDone, &now, "", nil
		}
		_, err = q.Exec(ctx, `UPDATE replay_jobs SET state = $1, cursor_at = $2, cursor_id = $3, first_at = $4, scanned = $5, replayed = $6,
			lease_owner = $7, lease_until = $8, updated_at = $9, finished_at = $10 WHERE id = $11`,
			j.State, nullTime(c.d, j.CursorAt), j.CursorID, c.d.NullTime(j.FirstAt), j.Scanned, j.Replayed,
			NullString(j.LeaseOwner), c.d.NullTime(j.LeaseUntil), c.d.Time(now), c.d.NullTime(j.FinishedAt), j.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if res.Queued > 0 {
		c.events.WorkQueued()
	}
	return &res, nil
}

// replayMessages returns the next limit messages of j's range after its cursor, in
// (created_at, id) order.
func (c *Core) replayMessages(ctx context.Context, q Querier, j *domain.ReplayJob, limit int) ([]replayMessage, error) {
	since, until := TimeBounds(c.d, store.TimeRange{Since: j.Since, Until: j.Until})
	query := `SELECT id, type, created_at FROM messages WHERE app_id = $1 AND created_at >= $2 AND created_at < $3`
	args := []any{j.AppID, since, until, limit}
	if j.CursorID != "" {
		// After the cursor in (created_at, id) order, as a range of created_at.
		args[1] = c.d.Time(j.CursorAt)
		args = append(args, j.CursorID)
		query += ` AND (created_at > $2 OR id > $5)`
	}
	rows, err := q.Query(ctx, query+` ORDER BY created_at, id LIMIT $4`, args...)
	return Collect(rows, err, func(row Row) (replayMessage, error) {
		var m replayMessage
		err := row.Scan(&m.id, &m.typ, c.d.ScanTime(&m.at))
		m.at = m.at.UTC()
		return m, err
	})
}

// replayDeliveries queues for an attempt at now the deliveries of msgs that j matches,
// and returns how many it queued.
func (c *Core) replayDeliveries(ctx context.Context, q Querier, j *domain.ReplayJob, msgs []replayMessage, now time.Time) (int, error) {
	var ids []string
	for _, m := range msgs {
		if j.MatchesType(m.typ) {
			ids = append(ids, m.id)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	rows, err := q.Query(ctx, `SELECT d.id, d.status, e.state FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
		WHERE `+c.d.In("d.message_id", "$1"), c.d.List(ids))
	type candidate struct{ id, status, epState string }
	cands, err := Collect(rows, err, func(row Row) (candidate, error) {
		var cd candidate
		err := row.Scan(&cd.id, &cd.status, &cd.epState)
		return cd, err
	})
	if err != nil {
		return 0, err
	}
	var queue []string
	for _, cd := range cands {
		if j.MatchesDelivery(cd.status, cd.epState) {
			queue = append(queue, cd.id)
		}
	}
	if len(queue) == 0 {
		return 0, nil
	}
	n, err := c.requeue(ctx, q, queue, now)
	return int(n), err
}
