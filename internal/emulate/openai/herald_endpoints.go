package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/client"
)

// HeraldEndpoints is the herald app whose endpoints back /v1/webhook_endpoints. It
// goes through herald's REST API, so herald's rules apply as to any other client:
// URL validation, the SSRF guard, event filters, signing and retries.
type HeraldEndpoints struct {
	c        *client.Client
	app      string
	createMu sync.Mutex // one create at a time, so that the limit on endpoints holds
}

// NewHeraldEndpoints returns the endpoints of app (its id) of the herald server c talks to.
func NewHeraldEndpoints(c *client.Client, app string) *HeraldEndpoints {
	return &HeraldEndpoints{c: c, app: app}
}

// isWebhook reports whether ep is an endpoint herald POSTs to, not a listener session.
func isWebhook(ep *client.Endpoint) bool {
	return strings.HasPrefix(ep.URL, "http://") || strings.HasPrefix(ep.URL, "https://")
}

// all returns the app's webhook endpoints, newest first.
func (h *HeraldEndpoints) all(ctx context.Context) ([]*client.Endpoint, error) {
	var eps []*client.Endpoint
	for cursor := ""; ; {
		page, next, err := h.c.ListEndpoints(ctx, h.app, client.ListParams{Limit: 1000, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, ep := range page {
			if isWebhook(ep) {
				eps = append(eps, ep)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	slices.SortFunc(eps, func(a, b *client.Endpoint) int { return strings.Compare(b.ID, a.ID) })
	return eps, nil
}

// get returns the webhook endpoint with herald id id.
func (h *HeraldEndpoints) get(ctx context.Context, id string) (*client.Endpoint, error) {
	ep, err := h.c.GetEndpoint(ctx, h.app, id)
	if err != nil {
		return nil, err
	}
	if !isWebhook(ep) {
		return nil, &client.Error{Status: http.StatusNotFound, Code: client.CodeNotFound, Message: "endpoint " + id + " is a listener"}
	}
	return ep, nil
}

// secret returns the secret that signs ep's deliveries now.
func (h *HeraldEndpoints) secret(ctx context.Context, ep *client.Endpoint) (*client.EndpointSecret, error) {
	secrets, err := h.c.EndpointSecrets(ctx, h.app, ep.ID)
	if err != nil {
		return nil, err
	}
	cur := CurrentSecret(secrets)
	if cur == nil {
		return nil, fmt.Errorf("endpoint %s has no current secret", ep.ID)
	}
	return cur, nil
}

// CurrentSecret returns the newest of secrets that does not expire, which signs an
// endpoint's deliveries from now on, or nil if there is none.
func CurrentSecret(secrets []*client.EndpointSecret) *client.EndpointSecret {
	var newest *client.EndpointSecret
	for _, s := range secrets {
		if s.ExpiresAt == nil && (newest == nil || s.CreatedAt.After(newest.CreatedAt)) {
			newest = s
		}
	}
	return newest
}

// testTimeout is how long a test event may take when the endpoint has no timeout of
// its own: more than herald's default request timeout (15 s) and a little queueing.
const testTimeout = 30 * time.Second

// sendTest publishes body, an event of eventType, to ep alone and waits for herald's
// first attempt at it, which it returns.
func (h *HeraldEndpoints) sendTest(ctx context.Context, ep *client.Endpoint, eventType string, body []byte) (*client.Attempt, error) {
	msg, err := h.c.TestEndpoint(ctx, h.app, ep.ID, client.TestEventInput{EventType: eventType, Payload: body})
	if err != nil {
		return nil, err
	}
	wait := testTimeout
	if ep.TimeoutMS > 0 {
		wait = time.Duration(ep.TimeoutMS)*time.Millisecond + 10*time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		attempts, _, err := h.c.ListAttempts(ctx, h.app, client.ListAttemptsParams{MessageID: msg.ID, EndpointID: ep.ID, Limit: 1})
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		if len(attempts) > 0 {
			return attempts[0], nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("message %s: %w: no attempt within %v", msg.ID, errTestTimeout, wait)
		case <-time.After(pause):
		}
	}
}

// errTestTimeout means herald did not attempt a test event in time.
var errTestTimeout = errors.New("the test event was not sent in time")
