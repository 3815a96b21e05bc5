package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/tarpit"
)

// hostile is another app whose endpoints accept connections and never answer.
type hostile struct {
	c     *client.Client
	appID string
	ln    *tarpit.Listener
}

// startHostile creates the hanging app, publishes its messages, and returns once herald
// has opened as many connections to it as it will (none new for half a second).
func startHostile(ctx context.Context, c *client.Client, o *Options) (*hostile, error) {
	ln, err := tarpit.Listen("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: hanging receiver: %w", err)
	}
	h := &hostile{c: c, ln: ln}
	app, err := c.CreateApp(ctx, client.AppInput{Name: fmt.Sprintf("bench hostile %s", time.Now().Format(time.RFC3339))})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("bench: create the hostile app: %w", err)
	}
	h.appID = app.ID
	for i := 0; i < o.HostileEndpoints; i++ {
		_, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{
			URL: fmt.Sprintf("http://%s/hang/%d", ln.Addr(), i), TimeoutMS: int(o.HostileTimeout / time.Millisecond),
		})
		if err != nil {
			h.stop(ctx)
			return nil, fmt.Errorf("bench: create a hanging endpoint: %w", err)
		}
	}
	for i := 0; i < o.HostileMessages; i++ {
		if _, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "bench.hostile", Payload: payload(i, 256)}); err != nil {
			h.stop(ctx)
			return nil, fmt.Errorf("bench: publish to the hostile app: %w", err)
		}
	}
	last, lastChange := -1, time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(50 * time.Millisecond) {
		if n := h.hanging(); n != last {
			last, lastChange = n, time.Now()
		} else if n > 0 && time.Since(lastChange) > 500*time.Millisecond {
			break
		}
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "another app: %d endpoints that never answer, %d requests to them hanging\n", o.HostileEndpoints, h.hanging())
	}
	return h, nil
}

// hanging returns how many of herald's requests to the hostile app are open.
func (h *hostile) hanging() int { return h.ln.Open() }

// stop closes the hanging connections and deletes the hostile app.
func (h *hostile) stop(ctx context.Context) {
	h.ln.Close()
	if h.appID != "" {
		h.c.DeleteApp(ctx, h.appID)
	}
}
