package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// listenerURLKey names the unique index on the URLs of an app's listener endpoints.
const listenerURLKey = "endpoints_listener_url"

// endpointConflict maps a violation of the listener URL index to store.ErrConflict.
func (c *Core) endpointConflict(e *domain.Endpoint, err error) error {
	if c.d.IsUnique(err, listenerURLKey) {
		return fmt.Errorf("app %s already has a listener endpoint %s: %w", e.AppID, e.URL, store.ErrConflict)
	}
	return err
}

// endpointFields are the endpoint columns that UpdateEndpoint writes, in the order of
// endpointValues; CreateEndpoint writes them with the columns set once.
const endpointFields = `url, description, event_types, headers, state, disabled_reason, max_concurrency, rate_limit,
	timeout_ms, fifo, metadata, source_id, filter, retry_schedule, transformation, auth`

// endpointValues returns the values of endpointFields for e, its header values and
// receiver credentials sealed.
func (c *Core) endpointValues(e *domain.Endpoint) ([]any, error) {
	headers, err := store.SealHeaders(c.cipher, e.Headers)
	if err != nil {
		return nil, err
	}
	auth, err := store.SealAuth(c.cipher, e.Auth)
	if err != nil {
		return nil, err
	}
	return []any{e.URL, e.Description, c.d.List(NonNil(e.EventTypes)), JSON(headers), e.State, e.DisabledReason,
		e.MaxConcurrency, e.RateLimit, e.TimeoutMS, e.FIFO, JSON(e.Metadata), e.SourceID,
		FilterText(e.Filter), c.d.List(domain.FormatRetrySchedule(e.RetrySchedule)), e.Transformation, auth}, nil
}

// params returns the parameters $1 to $n, comma-separated.
func params(n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = "$" + strconv.Itoa(i+1)
	}
	return strings.Join(p, ", ")
}

// CreateEndpoint implements store.Store. An app has at most one listener endpoint of
// each URL: another one is store.ErrConflict.
func (c *Core) CreateEndpoint(ctx context.Context, e *domain.Endpoint, sec *domain.EndpointSecret) error {
	enc, err := store.SealSecret(c.cipher, sec.Secret)
	if err != nil {
		return err
	}
	fields, err := c.endpointValues(e)
	if err != nil {
		return err
	}
	args := append([]any{e.ID, e.AppID, e.EffectiveKind(), c.d.NullTime(e.FailingSince), c.d.Time(e.CreatedAt), c.d.Time(e.UpdatedAt)}, fields...)
	insert := `INSERT INTO endpoints (id, app_id, kind, failing_since, created_at, updated_at, ` + endpointFields +
		`) VALUES (` + params(len(args)) + `)`
	return c.db.Write(ctx, false, func(q Querier) error {
		ok, err := exists(ctx, q, `SELECT EXISTS (SELECT 1 FROM apps WHERE id = $1)`, e.AppID)
		if err != nil {
			return err
		}
		if !ok {
			return store.NotFound("app", e.AppID)
		}
		if _, err := q.Exec(ctx, insert, args...); err != nil {
			switch {
			case c.d.IsUnique(err, listenerURLKey):
				return c.endpointConflict(e, err)
			case c.d.IsUnique(err, ""):
				return fmt.Errorf("endpoint %s exists: %w", e.ID, store.ErrConflict)
			case c.d.IsForeignKey(err):
				return store.NotFound("app", e.AppID) // deleted meanwhile
			}
			return err
		}
		return c.insertSecret(ctx, q, e.ID, sec, enc)
	})
}

// insertSecret stores a sealed secret of an endpoint.
func (c *Core) insertSecret(ctx context.Context, q Querier, endpointID string, sec *domain.EndpointSecret, enc []byte) error {
	_, err := q.Exec(ctx, `INSERT INTO endpoint_secrets (`+SecretColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		sec.ID, endpointID, enc, c.d.Time(sec.CreatedAt), c.d.NullTime(sec.ExpiresAt))
	return err
}

// GetEndpoint implements store.Store.
func (c *Core) GetEndpoint(ctx context.Context, appID, id string) (*domain.Endpoint, error) {
	row := c.db.QueryRow(ctx, `SELECT `+EndpointColumns+` FROM endpoints WHERE id = $1 AND ($2 = '' OR app_id = $2)`, id, appID)
	return get(row, c.scanEndpoint, "endpoint", id)
}

// GetListenerEndpoint implements store.Store.
func (c *Core) GetListenerEndpoint(ctx context.Context, appID, name string) (*domain.Endpoint, error) {
	url := domain.ListenerURL(name)
	row := c.db.QueryRow(ctx, `SELECT `+EndpointColumns+` FROM endpoints WHERE app_id = $1 AND kind = $2 AND url = $3`,
		appID, domain.KindListener, url)
	return get(row, c.scanEndpoint, "listener endpoint", url)
}

// ListEndpoints implements store.Store.
func (c *Core) ListEndpoints(ctx context.Context, appID string, p store.Page) ([]*domain.Endpoint, string, error) {
	return list(ctx, c.db, `SELECT `+EndpointColumns+` FROM endpoints WHERE app_id = $1`, []any{appID}, p,
		c.scanEndpoint, func(e *domain.Endpoint) string { return e.ID })
}

// UpdateEndpoint implements store.Store. It writes every mutable field (not the kind),
// credentials as given (callers keep stored secrets with domain.Auth.KeepSecrets);
// the failure streak is cleared when the endpoint is (re-)enabled, which also makes its
// queued deliveries claimable again.
func (c *Core) UpdateEndpoint(ctx context.Context, e *domain.Endpoint) error {
	fields, err := c.endpointValues(e)
	if err != nil {
		return err
	}
	const first = 4 // $1 to $3 are the id, the app and the time of the change
	args := append([]any{e.ID, e.AppID, c.d.Time(e.UpdatedAt)}, fields...)
	fieldNames := strings.Split(endpointFields, ",")
	set := make([]string, len(fieldNames))
	for i, f := range fieldNames {
		fieldNames[i] = strings.TrimSpace(f)
		set[i] = fieldNames[i] + " = $" + strconv.Itoa(first+i)
	}
	state := "$" + strconv.Itoa(first+slices.Index(fieldNames, "state"))
	update := `UPDATE endpoints SET ` + strings.Join(set, ", ") + `, updated_at = $3,
		failing_since = CASE WHEN ` + state + ` = 'enabled' AND state <> 'enabled' THEN NULL ELSE failing_since END
		WHERE id = $1 AND app_id = $2`
	err = c.db.Write(ctx, false, func(q Querier) error {
		n, err := q.Exec(ctx, update, args...)
		if err == nil && n == 0 {
			return store.NotFound("endpoint", e.ID)
		}
		if err == nil && e.State == domain.EndpointEnabled {
			err = unpark(ctx, q, c.d, e.ID)
		}
		return c.endpointConflict(e, err)
	})
	if err == nil {
		c.changed(e.ID, e.State)
	}
	return err
}

// unpark makes the parked deliveries of an endpoint being enabled due now (see
// ParkBacklogs).
func unpark(ctx context.Context, q Querier, d Dialect, endpointID string) error {
	_, err := q.Exec(ctx, `UPDATE deliveries SET next_attempt_at = $1
		WHERE endpoint_id = $2 AND status = 'pending' AND next_attempt_at IS NULL AND lease_owner IS NULL`,
		d.Time(time.Now()), endpointID)
	return err
}

// changed reports a committed change of an endpoint that is now in state.
func (c *Core) changed(id, state string) {
	c.events.EndpointsChanged(id)
	if state == domain.EndpointEnabled {
		c.events.WorkQueued() // resumed, or a limit raised: queued deliveries may be claimable
	}
}

// DeleteEndpoint implements store.Store. Its deliveries and attempts go with it.
func (c *Core) DeleteEndpoint(ctx context.Context, appID, id string) error {
	err := c.db.Write(ctx, false, func(q Querier) error {
		ok, err := exists(ctx, q, `SELECT EXISTS (SELECT 1 FROM endpoints WHERE id = $1 AND app_id = $2)`, id, appID)
		if err != nil {
			return err
		}
		if !ok {
			return store.NotFound("endpoint", id)
		}
		for _, stmt := range []string{
			`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE endpoint_id = $1)`,
			`DELETE FROM deliveries WHERE endpoint_id = $1`,
			`DELETE FROM endpoints WHERE id = $1`,
		} {
			if _, err := q.Exec(ctx, stmt, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		c.events.EndpointsChanged(id)
	}
	return err
}

// SetEndpointState implements store.Store.
func (c *Core) SetEndpointState(ctx context.Context, id, state, reason string) error {
	err := c.db.Write(ctx, false, func(q Querier) error {
		n, err := q.Exec(ctx, `UPDATE endpoints SET state = $1, disabled_reason = $2, updated_at = $3 WHERE id = $4`,
			state, reason, c.d.Time(time.Now()), id)
		if err == nil && n == 0 {
			return store.NotFound("endpoint", id)
		}
		if err == nil && state == domain.EndpointEnabled {
			err = unpark(ctx, q, c.d, id)
		}
		return err
	})
	if err == nil {
		c.changed(id, state)
	}
	return err
}

// EndpointSecrets implements store.Store.
func (c *Core) EndpointSecrets(ctx context.Context, endpointID string, now time.Time) ([]*domain.EndpointSecret, error) {
	rows, err := c.db.Query(ctx, `SELECT `+SecretColumns+` FROM endpoint_secrets
		WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC, id DESC`, endpointID, c.d.Time(now))
	return Collect(rows, err, c.scanSecret)
}

// RotateEndpointSecret implements store.Store.
func (c *Core) RotateEndpointSecret(ctx context.Context, sec *domain.EndpointSecret, oldExpiresAt time.Time) error {
	enc, err := store.SealSecret(c.cipher, sec.Secret)
	if err != nil {
		return err
	}
	err = c.db.Write(ctx, false, func(q Querier) error {
		ok, err := exists(ctx, q, `SELECT EXISTS (SELECT 1 FROM endpoints WHERE id = $1)`, sec.EndpointID)
		if err != nil {
			return err
		}
		if !ok {
			return store.NotFound("endpoint", sec.EndpointID)
		}
		if _, err := q.Exec(ctx, `UPDATE endpoint_secrets SET expires_at = $1 WHERE endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $1)`,
			c.d.Time(oldExpiresAt), sec.EndpointID); err != nil {
			return err
		}
		return c.insertSecret(ctx, q, sec.EndpointID, sec, enc)
	})
	if err == nil {
		c.events.EndpointsChanged(sec.EndpointID)
	}
	return err
}
