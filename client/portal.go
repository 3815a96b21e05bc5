package client

import (
	"context"
	"net/http"
	"time"
)

// Portal capabilities.
const (
	CapabilityRead   = "read"   // see endpoints, messages, deliveries, attempts and stats
	CapabilityManage = "manage" // also change endpoints, rotate secrets, send tests, retry and replay
)

// PortalLinkInput asks for a portal link.
type PortalLinkInput struct {
	ExpiresIn    int      `json:"expires_in,omitempty"`   // seconds, 60 to 604800; 0: the server's default (3600)
	Capabilities []string `json:"capabilities,omitempty"` // CapabilityRead, perhaps CapabilityManage; nil: read only
	EndpointIDs  []string `json:"endpoint_ids,omitempty"` // the endpoints the customer may see; nil: all of the app's
}

// PortalLink is a single-use link to an app's portal, for the app's customer.
type PortalLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"` // of the link and of the session it opens
}

// CreatePortalLink mints a single-use link that opens a portal session of app (admin
// keys or the app's key).
func (c *Client) CreatePortalLink(ctx context.Context, app string, in PortalLinkInput) (*PortalLink, error) {
	var l PortalLink
	if _, err := c.do(ctx, request{method: http.MethodPost, path: appPath(app, "portal-sessions"), body: in}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// RevokePortalSessions ends every portal session of app and voids its unused links.
func (c *Client) RevokePortalSessions(ctx context.Context, app string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: appPath(app, "portal-sessions")}, nil)
	return err
}
