package client

import (
	"context"
	"net/http"
	"net/url"
)

// CreateEndpoint adds an endpoint to app.
func (c *Client) CreateEndpoint(ctx context.Context, app string, in EndpointInput) (*Endpoint, error) {
	return call[Endpoint](ctx, c, request{method: http.MethodPost, path: appPath(app, "endpoints"), body: in})
}

// ListEndpoints returns one page of app's endpoints, newest first, and the next page's cursor.
func (c *Client) ListEndpoints(ctx context.Context, app string, p ListParams) ([]*Endpoint, string, error) {
	return getList[Endpoint](ctx, c, appPath(app, "endpoints"), url.Values(pageQuery(p)))
}

// GetEndpoint returns one of app's endpoints.
func (c *Client) GetEndpoint(ctx context.Context, app, endpointID string) (*Endpoint, error) {
	return call[Endpoint](ctx, c, request{method: http.MethodGet, path: appPath(app, "endpoints", endpointID)})
}

// UpdateEndpoint changes the fields of an endpoint that in sets and returns the updated endpoint.
func (c *Client) UpdateEndpoint(ctx context.Context, app, endpointID string, in EndpointUpdate) (*Endpoint, error) {
	return call[Endpoint](ctx, c, request{method: http.MethodPatch, path: appPath(app, "endpoints", endpointID), body: in})
}

// DeleteEndpoint deletes an endpoint and its deliveries.
func (c *Client) DeleteEndpoint(ctx context.Context, app, endpointID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: appPath(app, "endpoints", endpointID)}, nil)
	return err
}

// secrets is the answer of the secret routes.
type secrets struct {
	Secrets []*EndpointSecret `json:"secrets"`
}

// EndpointSecrets returns every key currently signing an endpoint's deliveries, newest first.
func (c *Client) EndpointSecrets(ctx context.Context, app, endpointID string) ([]*EndpointSecret, error) {
	var s secrets
	if _, err := c.do(ctx, request{method: http.MethodGet, path: appPath(app, "endpoints", endpointID, "secret")}, &s); err != nil {
		return nil, err
	}
	return s.Secrets, nil
}

// RotateEndpointSecret gives an endpoint a new signing key and returns its keys, newest
// first: the new one, then the old ones, which now expire after the grace period.
func (c *Client) RotateEndpointSecret(ctx context.Context, app, endpointID string, in RotateSecretInput) ([]*EndpointSecret, error) {
	var s secrets
	r := request{method: http.MethodPost, path: appPath(app, "endpoints", endpointID, "secret", "rotate"), body: in}
	if _, err := c.do(ctx, r, &s); err != nil {
		return nil, err
	}
	return s.Secrets, nil
}

// Replay queues one batch of an endpoint's finished deliveries for another attempt;
// call it again with After set to the result's Next until Next is empty.
func (c *Client) Replay(ctx context.Context, app, endpointID string, in ReplayInput) (*ReplayResult, error) {
	if !in.Since.IsZero() {
		in.Since = in.Since.UTC()
	}
	if !in.Until.IsZero() {
		in.Until = in.Until.UTC()
	}
	var res ReplayResult
	if _, err := c.do(ctx, request{method: http.MethodPost, path: appPath(app, "endpoints", endpointID, "replay"), body: in}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
