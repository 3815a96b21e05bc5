package sqlstore

import (
	"context"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// GetMessage implements store.Store.
func (c *Core) GetMessage(ctx context.Context, appID, id string) (*domain.Message, error) {
	row := c.db.QueryRow(ctx, `SELECT `+MessageColumns+` FROM messages WHERE id = $1 AND app_id = $2`, id, appID)
	return get(row, bind(c.d, ScanMessage), "message", id)
}

// ListMessages implements store.Store. Pages follow the index of an app's messages by
// creation time (then id), so that a time range is a range of the index, not a walk
// from the newest message; the cursor message's creation time continues the walk.
func (c *Core) ListMessages(ctx context.Context, f store.MessageFilter) ([]*domain.Message, string, error) {
	var w where
	w.eq("app_id", f.AppID)
	w.eq("type", f.Type)
	w.eq("source_id", f.SourceID)
	w.timeRange(c.d, "created_at", f.TimeRange)
	if f.EndpointIDs != nil {
		w.add(`EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = messages.id AND `+c.d.In("d.endpoint_id", "$?")+`)`, c.d.List(f.EndpointIDs))
	}
	if f.Cursor != "" {
		at, err := c.messageTime(ctx, f.Cursor)
		if err != nil {
			return nil, "", err
		}
		// After the cursor in (created_at, id) order, as a range of created_at.
		w.add(`created_at <= $?`, c.d.Time(at))
		w.args = append(w.args, c.d.Time(at), f.Cursor)
		n := len(w.args)
		w.conds = append(w.conds, `(created_at < $`+strconv.Itoa(n-1)+` OR id < $`+strconv.Itoa(n)+`)`)
	}
	limit := store.PageLimit(f.Page)
	w.args = append(w.args, limit+1)
	rows, err := c.db.Query(ctx, `SELECT `+MessageColumns+` FROM messages`+w.sql()+
		` ORDER BY created_at DESC, id DESC LIMIT $`+strconv.Itoa(len(w.args)), w.args...)
	msgs, err := Collect(rows, err, bind(c.d, ScanMessage))
	if err != nil {
		return nil, "", err
	}
	msgs, next := store.TrimPage(msgs, limit, func(m *domain.Message) string { return m.ID })
	return msgs, next, nil
}

// messageTime returns when the message id was created: the stored time, or, for a
// message purged since, the time in its id.
func (c *Core) messageTime(ctx context.Context, id string) (time.Time, error) {
	var at time.Time
	err := c.db.QueryRow(ctx, `SELECT created_at FROM messages WHERE id = $1`, id).Scan(c.d.ScanTime(&at))
	if IsNoRows(err) {
		at, _ = ids.Time(id)
		return at.UTC(), nil
	}
	return at.UTC(), err
}

// GetDelivery implements store.Store.
func (c *Core) GetDelivery(ctx context.Context, appID, id string) (*domain.Delivery, error) {
	row := c.db.QueryRow(ctx, `SELECT `+DeliveryColumns+` FROM deliveries WHERE id = $1 AND app_id = $2`, id, appID)
	return get(row, bind(c.d, ScanDelivery), "delivery", id)
}

// ListDeliveries implements store.Store.
func (c *Core) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*domain.Delivery, string, error) {
	var w where
	w.eq("app_id", f.AppID)
	w.eq("endpoint_id", f.EndpointID)
	w.eq("message_id", f.MessageID)
	w.eq("status", f.Status)
	w.timeRange(c.d, "created_at", f.TimeRange)
	c.inEndpoints(&w, f.EndpointIDs)
	return list(ctx, c.db, `SELECT `+DeliveryColumns+` FROM deliveries`+w.sql(), w.args, f.Page, bind(c.d, ScanDelivery), func(d *domain.Delivery) string { return d.ID })
}

// ListAttempts implements store.Store. Attempts of a delivery or a message are found
// through the deliveries (whose app is checked there), by the index of attempts by
// delivery: with the app's own index on the attempts as well, a planner without
// statistics would walk all of the app's attempts instead.
func (c *Core) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*domain.Attempt, string, error) {
	var w where
	if f.DeliveryID != "" || f.MessageID != "" {
		var dw where
		dw.args = w.args
		dw.eq("app_id", f.AppID)
		dw.eq("id", f.DeliveryID)
		dw.eq("message_id", f.MessageID)
		w.conds = append(w.conds, `delivery_id IN (SELECT id FROM deliveries`+dw.sql()+`)`)
		w.args = dw.args
	} else {
		w.eq("app_id", f.AppID)
	}
	w.eq("endpoint_id", f.EndpointID)
	w.timeRange(c.d, "started_at", f.TimeRange)
	c.inEndpoints(&w, f.EndpointIDs)
	return list(ctx, c.db, `SELECT `+AttemptColumns+` FROM attempts`+w.sql(), w.args, f.Page, bind(c.d, scanAttempt), func(a *domain.Attempt) string { return a.ID })
}

// inEndpoints adds the condition that endpoint_id is one of endpoints, when they are given.
func (c *Core) inEndpoints(w *where, endpoints []string) {
	if endpoints != nil {
		w.add(c.d.In("endpoint_id", "$?"), c.d.List(endpoints))
	}
}
