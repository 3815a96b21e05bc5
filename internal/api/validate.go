package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/netguard"
)

// Field limits, as openapi.yaml documents them.
const (
	maxNameLen        = 256 // app and API key names, in characters
	maxDescriptionLen = 1024
	maxTypeLen        = 255 // event type names and idempotency keys
	maxConcurrency    = 1000
	minTimeoutMS      = 1000
	maxTimeoutMS      = 120000
	maxGraceSeconds   = 7 * 24 * 60 * 60
	maxReplayLimit    = 5000
	urlCheckTimeout   = 5 * time.Second
)

// timeNow returns the current time as stored: UTC, truncated to milliseconds.
func (s *server) timeNow() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// checkName validates a name of min to maxNameLen characters.
func checkName(field, v string, min int) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && min > 0:
		return invalidField(field, "is required: 1 to %d characters", maxNameLen)
	case n > maxNameLen:
		return invalidField(field, "is %d characters long; the most is %d", n, maxNameLen)
	}
	return nil
}

// isTypeName reports whether s is one or more of a-z, A-Z, 0-9, '_', '.' and '-'.
func isTypeName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// checkEventType validates an event type name.
func checkEventType(field, t string) error {
	if len(t) > maxTypeLen || !isTypeName(t) {
		return invalidField(field, "must be 1 to %d of the characters a-z, A-Z, 0-9, _, . and -, not %q", maxTypeLen, t)
	}
	return nil
}

// checkEventFilter validates an endpoint's event_types: exact names, "prefix.*"
// wildcards or "*".
func checkEventFilter(types []string) error {
	for i, t := range types {
		field := fmt.Sprintf("event_types[%d]", i)
		if t == "*" {
			continue
		}
		if prefix, ok := strings.CutSuffix(t, ".*"); ok {
			if len(t) > maxTypeLen || !isTypeName(prefix) {
				return invalidField(field, "must be a type name, a type name prefix and .* (such as response.*) or *, not %q", t)
			}
			continue
		}
		if err := checkEventType(field, t); err != nil {
			return err
		}
	}
	return nil
}

// reservedHeaders are header names (lower case) endpoints may not set: herald sets
// them itself, or they are hop-by-hop.
var reservedHeaders = map[string]bool{
	"content-type": true, "content-length": true, "user-agent": true, "host": true,
	"connection": true, "keep-alive": true, "proxy-connection": true, "proxy-authenticate": true,
	"proxy-authorization": true, "te": true, "trailer": true, "trailers": true, "transfer-encoding": true, "upgrade": true,
}

// checkHeaders validates an endpoint's extra request headers.
func checkHeaders(headers map[string]string) error {
	seen := make(map[string]bool, len(headers))
	for name, value := range headers {
		field := "headers." + name
		lower := strings.ToLower(name)
		switch {
		case !isToken(name):
			return invalidField("headers", "contain %q, which is not a valid header name", name)
		case reservedHeaders[lower] || strings.HasPrefix(lower, "webhook-"):
			return invalidField(field, "is reserved: herald sets it, or it is hop-by-hop")
		case seen[lower]:
			return invalidField(field, "is given twice (header names are case-insensitive)")
		case !validHeaderValue(value):
			return invalidField(field, "has a control character in its value")
		}
		seen[lower] = true
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v can be sent as a header value: no control
// characters other than horizontal tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// checkURL validates an endpoint URL with the SSRF guard.
func (s *server) checkURL(ctx context.Context, raw string) error {
	if raw == "" {
		return invalidField("url", "is required: an http:// or https:// URL")
	}
	ctx, cancel := context.WithTimeout(ctx, urlCheckTimeout)
	defer cancel()
	err := s.guard.CheckURL(ctx, raw, s.resolver)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, netguard.ErrBlocked):
		return errorf(http.StatusBadRequest, codeURLNotAllowed, "url is not allowed: %v", err)
	case errors.Is(err, netguard.ErrInvalidURL):
		return invalidField("url", "is not acceptable: %v", err)
	}
	return fmt.Errorf("check endpoint URL: %w", err)
}
