package domain

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/filter"
)

// Limits on record fields; docs/api.md states them to users.
const (
	MaxNameLen        = 256 // app, API key and source names, in characters
	MaxDescriptionLen = 1024
	MaxTypeLen        = 255 // event type names and idempotency keys
	MaxUIDLen         = 128
	MaxConcurrency    = 1000 // an endpoint's max_concurrency
	MinTimeoutMS      = 1000
	MaxTimeoutMS      = 120000
	MaxHeaders        = 50  // an endpoint's extra request headers
	MaxEventFilter    = 100 // entries in an endpoint's event_types
)

// FieldError says which field of a record is invalid and why; its Error reads as a
// sentence: "event_types[0] must be ...".
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Message }

// fieldErrorf returns a FieldError with a formatted message.
func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// CheckName validates a name of min to MaxNameLen characters.
func CheckName(field, v string, min int) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && min > 0:
		return fieldErrorf(field, "is required: 1 to %d characters", MaxNameLen)
	case n > MaxNameLen:
		return fieldErrorf(field, "is %d characters long; the most is %d", n, MaxNameLen)
	}
	return nil
}

// CheckUID validates an app uid, the sender's own id for an app; "" (none) is valid.
func CheckUID(uid string) error {
	switch {
	case uid == "":
		return nil
	case len(uid) > MaxUIDLen || !IsTypeName(uid):
		return fieldErrorf("uid", "must be 1 to %d of the characters a-z, A-Z, 0-9, _, . and -, not %q", MaxUIDLen, uid)
	case strings.HasPrefix(uid, "app_"):
		return fieldErrorf("uid", "must not start with app_, which is how app ids start: %q", uid)
	}
	return nil
}

// CheckDescription validates an endpoint's description.
func CheckDescription(v string) error {
	if n := utf8.RuneCountInString(v); n > MaxDescriptionLen {
		return fieldErrorf("description", "is %d characters long; the most is %d", n, MaxDescriptionLen)
	}
	return nil
}

// IsTypeName reports whether s is one or more of a-z, A-Z, 0-9, '_', '.' and '-'.
func IsTypeName(s string) bool { return allOf(s, "_.-") }

// CheckEventType validates an event type name.
func CheckEventType(field, t string) error {
	if len(t) > MaxTypeLen || !IsTypeName(t) {
		return fieldErrorf(field, "must be 1 to %d of the characters a-z, A-Z, 0-9, _, . and -, not %q", MaxTypeLen, t)
	}
	return nil
}

// CheckEventFilter validates an endpoint's event_types: exact names, "prefix.*"
// wildcards or "*".
func CheckEventFilter(types []string) error {
	if len(types) > MaxEventFilter {
		return fieldErrorf("event_types", "has %d entries; the most is %d (use a prefix.* wildcard)", len(types), MaxEventFilter)
	}
	for i, t := range types {
		field := fmt.Sprintf("event_types[%d]", i)
		if t == "*" {
			continue
		}
		if prefix, ok := strings.CutSuffix(t, ".*"); ok {
			if len(t) > MaxTypeLen || !IsTypeName(prefix) {
				return fieldErrorf(field, "must be a type name, a type name prefix and .* (such as response.*) or *, not %q", t)
			}
			continue
		}
		if err := CheckEventType(field, t); err != nil {
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

// CheckHeaders validates an endpoint's extra request headers.
func CheckHeaders(headers map[string]string) error {
	if len(headers) > MaxHeaders {
		return fieldErrorf("headers", "has %d headers; the most is %d", len(headers), MaxHeaders)
	}
	seen := make(map[string]bool, len(headers))
	for name, value := range headers {
		field := "headers." + name
		lower := strings.ToLower(name)
		switch {
		case !isToken(name):
			return fieldErrorf("headers", "contain %q, which is not a valid header name", name)
		case reservedHeaders[lower] || strings.HasPrefix(lower, "webhook-"):
			return fieldErrorf(field, "is reserved: herald sets it, or it is hop-by-hop")
		case seen[lower]:
			return fieldErrorf(field, "is given twice (header names are case-insensitive)")
		case !validHeaderValue(value):
			return fieldErrorf(field, "has a control character in its value")
		}
		seen[lower] = true
	}
	return nil
}

// CheckConcurrency validates an endpoint's max_concurrency: 0 (the server default) to
// MaxConcurrency.
func CheckConcurrency(v int) error {
	if v < 0 || v > MaxConcurrency {
		return fieldErrorf("max_concurrency", "must be from 0 (the server default) to %d, not %d", MaxConcurrency, v)
	}
	return nil
}

// CheckRateLimit validates an endpoint's rate_limit in requests per second.
func CheckRateLimit(v float64) error {
	if v < 0 {
		return fieldErrorf("rate_limit", "must not be negative (requests per second, 0 for no limit), not %g", v)
	}
	return nil
}

// CheckTimeoutMS validates an endpoint's timeout_ms: 0 (the server default) or from
// MinTimeoutMS to MaxTimeoutMS.
func CheckTimeoutMS(v int) error {
	if v != 0 && (v < MinTimeoutMS || v > MaxTimeoutMS) {
		return fieldErrorf("timeout_ms", "must be 0 (the server default) or from %d to %d, not %d", MinTimeoutMS, MaxTimeoutMS, v)
	}
	return nil
}

var listenerName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// CheckListenerName validates the name of a `herald listen` session.
func CheckListenerName(name string) error {
	if !listenerName.MatchString(name) {
		return fieldErrorf("name", "must be 1 to 64 letters, digits, '_', '.' or '-'")
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2).
func isToken(s string) bool { return allOf(s, "!#$%&'*+-.^_`|~") }

// allOf reports whether s is one or more ASCII letters, digits and bytes of extra.
func allOf(s, extra string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
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

// ParseFilter validates an endpoint's payload filter and compiles it; the error names
// the bad part ("filter.payload.amount.$gtt"). An empty filter ({} or null) is nil.
func ParseFilter(raw []byte) (*filter.Filter, error) {
	f, err := filter.Parse(raw)
	if err != nil {
		if fe, ok := errors.AsType[*filter.Error](err); ok {
			return nil, &FieldError{Field: fe.Path, Message: fe.Message}
		}
		return nil, fieldErrorf("filter", "%v", err)
	}
	if f.IsEmpty() {
		return nil, nil
	}
	return f, nil
}
