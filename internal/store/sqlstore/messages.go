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
	since, until := TimeBounds(c.d, f.TimeRange)
	return list(ctx, c.db, `SELECT `+MessageColumns+` FROM messages
		WHERE app_id = $1 AND ($2 = '' OR type = $2) AND ($3 = '' OR source_id = $3) AND created_at >= $4 AND created_at < $5`,
		[]any{f.AppID, f.Type, f.SourceID, since, until}, f.Page, bind(c.d, ScanMessage), func(m *domain.Message) string { return m.ID })
}

// GetDelivery implements store.Store.
func (c *Core) GetDelivery(ctx context.Context, appID, id string) (*domain.Delivery, error) {
	row := c.db.QueryRow(ctx, `SELECT `+DeliveryColumns+` FROM deliveries WHERE id = $1 AND app_id = $2`, id, appID)
	return get(row, bind(c.d, ScanDelivery), "delivery", id)
}

// ListDeliveries implements store.Store.
func (c *Core) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*domain.Delivery, string, error) {
	since, until := TimeBounds(c.d, f.TimeRange)
	return list(ctx, c.db, `SELECT `+DeliveryColumns+` FROM deliveries
		WHERE app_id = $1 AND ($2 = '' OR endpoint_id = $2) AND ($3 = '' OR message_id = $3) AND ($4 = '' OR status = $4)
		AND created_at >= $5 AND created_at < $6`,
		[]any{f.AppID, f.EndpointID, f.MessageID, f.Status, since, until}, f.Page, bind(c.d, ScanDelivery), func(d *domain.Delivery) string { return d.ID })
}

// ListAttempts implements store.Store.
func (c *Core) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*domain.Attempt, string, error) {
	since, until := TimeBounds(c.d, f.TimeRange)
	return list(ctx, c.db, `SELECT `+AttemptColumns+` FROM attempts
		WHERE app_id = $1 AND ($2 = '' OR delivery_id = $2) AND ($3 = '' OR endpoint_id = $3) AND ($4 = '' OR message_id = $4)
		AND started_at >= $5 AND started_at < $6`,
		[]any{f.AppID, f.DeliveryID, f.EndpointID, f.MessageID, since, until}, f.Page, bind(c.d, scanAttempt), func(a *domain.Attempt) string { return a.ID })
}
