package domain

import (
	"fmt"
	"slices"
	"time"
)

// Session kinds.
const (
	SessionConsole = "console" // an operator signed in with an admin key
	SessionPortal  = "portal"  // a customer of one app, through a portal link
)

// Capabilities of a portal session.
const (
	CapRead   = "read"   // see endpoints, messages, deliveries, attempts and stats
	CapManage = "manage" // also change endpoints, read and rotate secrets, send, retry, replay
)

// Limits of a portal session.
const (
	MinPortalTTL         = time.Minute
	MaxPortalTTL         = 7 * 24 * time.Hour
	MaxPortalEndpointIDs = 100
)

// Session is a signed-in browser: a console operator, or a portal customer restricted
// to one app. Only the SHA-256 hash of its token is stored.
type Session struct {
	ID    string
	Kind  string // SessionConsole or SessionPortal
	Hash  []byte // SHA-256 of the session token (the cookie)
	KeyID string // console: the admin key it was opened with; the session ends with it
	// AppID, Capabilities and EndpointIDs scope a portal session: its app; CapRead,
	// perhaps CapManage; the endpoints it may see (none: all of the app's).
	AppID        string
	Capabilities []string
	EndpointIDs  []string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// PortalLink is a single-use link that opens a portal session with its scope. Only the
// SHA-256 hash of its token is stored.
type PortalLink struct {
	ID           string
	Hash         []byte
	AppID        string
	Capabilities []string
	EndpointIDs  []string
	CreatedAt    time.Time
	ExpiresAt    time.Time // of the link, and of the session it opens
}

// Can reports whether the session has capability c; a console session has every
// capability, and manage implies read.
func (s *Session) Can(c string) bool {
	if s.Kind == SessionConsole {
		return true
	}
	return slices.Contains(s.Capabilities, c) || c == CapRead && slices.Contains(s.Capabilities, CapManage)
}

// SeesEndpoint reports whether the session may see endpoint id: console sessions and
// portal sessions without an endpoint list see every endpoint of their app.
func (s *Session) SeesEndpoint(id string) bool {
	return len(s.EndpointIDs) == 0 || slices.Contains(s.EndpointIDs, id)
}

// CheckCapabilities validates a portal link's capabilities and returns them in
// canonical form: ["read"] or ["read","manage"] (manage implies read).
func CheckCapabilities(caps []string) ([]string, error) {
	if len(caps) == 0 {
		return nil, fieldErrorf("capabilities", "must hold read, and manage to allow changes")
	}
	manage := false
	for i, c := range caps {
		switch c {
		case CapRead:
		case CapManage:
			manage = true
		default:
			return nil, fieldErrorf(fmt.Sprintf("capabilities[%d]", i), "must be read or manage, not %q", c)
		}
	}
	if manage {
		return []string{CapRead, CapManage}, nil
	}
	return []string{CapRead}, nil
}

// CheckPortalTTL validates how long a portal link and its session last.
func CheckPortalTTL(d time.Duration) error {
	if d < MinPortalTTL || d > MaxPortalTTL {
		return fieldErrorf("expires_in", "must be from %d to %d seconds, not %d", int(MinPortalTTL.Seconds()), int(MaxPortalTTL.Seconds()), int64(d.Seconds()))
	}
	return nil
}
