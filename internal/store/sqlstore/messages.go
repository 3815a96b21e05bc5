package sqlstore

import (
	"context"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// GetMessage implements store.Store.
func (c *Core) GetMessage(ctx context.Context, appID, id string) (*domain.Message, error) {
	row := c.db.QueryRow(ctx, `SELECT `+MessageColumns+` FROM messages WHERE id = $1 AND app_id = $2`, id, appID)
	return get(row, bind(c.d, ScanMessage), "message", id)
}

// ListMessages implements store.Store.
func (c *Core) ListMessages(ctx context.Context, f store.MessageFilter) ([]*domain.Message, string, error) {
	var w where
	w.eq("app_id", f.AppID)
	w.eq("type", f.Type)
	w.eq("source_id", f.SourceID)
	w.timeRange(c.d, "created_at", f.TimeRange)
	if f.EndpointIDs != nil {
		w.add(`EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = messages.id AND `+c.d.In("d.endpoint_id", "$?")+`)`, c.d.List(f.EndpointIDs))
	}
	return list(ctx, c.db, `SELECT `+MessageColumns+` FROM messages`+w.sql(), w.args, f.Page, bind(c.d, ScanMessage), func(m *domain.Message) string { return m.ID })
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
