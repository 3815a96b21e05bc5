package openai

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/client"
)

// HeraldPublisher publishes events as messages of one app of a herald server, whose
// delivery engine sends them to the app's endpoints with retries and delivery logs.
type HeraldPublisher struct {
	c   *client.Client
	app string
}

// NewHeraldPublisher returns a Publisher that publishes to app (its id or uid) with c.
func NewHeraldPublisher(c *client.Client, app string) *HeraldPublisher {
	return &HeraldPublisher{c: c, app: app}
}

// Publish implements Publisher; the event id is the message's idempotency key.
func (p *HeraldPublisher) Publish(ctx context.Context, e Event) error {
	_, _, _, err := p.c.Publish(ctx, p.app, client.MessageInput{Type: e.Type, Payload: e.Body, IdempotencyKey: e.ID})
	if err != nil {
		return fmt.Errorf("publish %s %s to herald: %w", e.Type, e.ID, err)
	}
	return nil
}
