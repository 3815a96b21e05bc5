package client

import (
	"context"
	"net/http"
	"net/url"
)

// CreateSource creates a source of the receiving gateway in app.
func (c *Client) CreateSource(ctx context.Context, app string, in SourceInput) (*Source, error) {
	return call[Source](ctx, c, request{method: http.MethodPost, path: appPath(app, "sources"), body: in})
}

// ListSources returns one page of app's sources.
func (c *Client) ListSources(ctx context.Context, app string, p ListParams) ([]*Source, string, error) {
	return getList[Source](ctx, c, appPath(app, "sources"), url.Values(pageQuery(p)))
}

// GetSource returns a source of app.
func (c *Client) GetSource(ctx context.Context, app, sourceID string) (*Source, error) {
	return call[Source](ctx, c, request{method: http.MethodGet, path: appPath(app, "sources", sourceID)})
}

// GetSourceByID returns a source by its id alone, for commands that know only the source.
func (c *Client) GetSourceByID(ctx context.Context, sourceID string) (*Source, error) {
	return call[Source](ctx, c, request{method: http.MethodGet, path: path("sources", sourceID)})
}

// UpdateSource changes the fields of in that are set.
func (c *Client) UpdateSource(ctx context.Context, app, sourceID string, in SourceInput) (*Source, error) {
	return call[Source](ctx, c, request{method: http.MethodPatch, path: appPath(app, "sources", sourceID), body: in})
}

// DeleteSource deletes a source; the messages that arrived through it stay.
func (c *Client) DeleteSource(ctx context.Context, app, sourceID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: appPath(app, "sources", sourceID)}, nil)
	return err
}

// sourceSecrets is the answer of SourceSecrets.
type sourceSecrets struct {
	Secrets []string `json:"secrets"`
}

// SourceSecrets returns the secrets a source verifies with, newest first.
func (c *Client) SourceSecrets(ctx context.Context, app, sourceID string) ([]string, error) {
	var out sourceSecrets
	if _, err := c.do(ctx, request{method: http.MethodGet, path: appPath(app, "sources", sourceID, "secrets")}, &out); err != nil {
		return nil, err
	}
	return out.Secrets, nil
}

// ListRejections returns one page of the requests a source refused.
func (c *Client) ListRejections(ctx context.Context, app, sourceID string, p ListParams) ([]*Rejection, string, error) {
	return getList[Rejection](ctx, c, appPath(app, "sources", sourceID, "rejections"), url.Values(pageQuery(p)))
}
