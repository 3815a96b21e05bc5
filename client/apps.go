package client

import (
	"context"
	"net/http"
	"net/url"
)

// CreateApp creates an app (admin keys only).
func (c *Client) CreateApp(ctx context.Context, in AppInput) (*App, error) {
	return call[App](ctx, c, request{method: http.MethodPost, path: path("apps"), body: in})
}

// ListApps returns one page of apps, newest first, and the next page's cursor (admin keys only).
func (c *Client) ListApps(ctx context.Context, p ListParams) ([]*App, string, error) {
	return getList[App](ctx, c, path("apps"), url.Values(pageQuery(p)))
}

// GetApp returns the app whose id or uid is app.
func (c *Client) GetApp(ctx context.Context, app string) (*App, error) {
	return call[App](ctx, c, request{method: http.MethodGet, path: appPath(app)})
}

// UpdateApp changes the fields of an app that in sets and returns the updated app.
func (c *Client) UpdateApp(ctx context.Context, app string, in AppUpdate) (*App, error) {
	return call[App](ctx, c, request{method: http.MethodPatch, path: appPath(app), body: in})
}

// DeleteApp deletes an app and everything it owns (admin keys only).
func (c *Client) DeleteApp(ctx context.Context, app string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: appPath(app)}, nil)
	return err
}

// keysPath is the path of an app's API keys, or of the admin keys when app is empty.
func keysPath(app string, segments ...string) string {
	if app == "" {
		return path(append([]string{"api-keys"}, segments...)...)
	}
	return appPath(app, append([]string{"api-keys"}, segments...)...)
}

// CreateAPIKey creates an API key for app, or an admin key when app is empty; the
// answer's Key is the only time the key itself is shown.
func (c *Client) CreateAPIKey(ctx context.Context, app string, in APIKeyInput) (*APIKey, error) {
	return call[APIKey](ctx, c, request{method: http.MethodPost, path: keysPath(app), body: in})
}

// ListAPIKeys returns one page of app's API keys (the admin keys when app is empty)
// and the next page's cursor.
func (c *Client) ListAPIKeys(ctx context.Context, app string, p ListParams) ([]*APIKey, string, error) {
	return getList[APIKey](ctx, c, keysPath(app), url.Values(pageQuery(p)))
}

// DeleteAPIKey deletes one of app's API keys, or an admin key when app is empty.
func (c *Client) DeleteAPIKey(ctx context.Context, app, keyID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: keysPath(app, keyID)}, nil)
	return err
}
