package domain

import "strings"

// RedactedValue replaces a recorded request header value that may carry a credential.
const RedactedValue = "[redacted]"

// minSecretMatch is how long one of an endpoint's custom header values must be for a
// recorded header that contains it to be redacted: shorter values ("1", "yes") would
// redact unrelated headers and protect nothing.
const minSecretMatch = 6

// credentialHeaders are request headers (lower case) whose values are always redacted.
var credentialHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true,
}

// RedactRequestHeaders redacts, in place, the values of the recorded request headers h
// that may carry a credential: Authorization, Proxy-Authorization and Cookie, every
// header named like one of the endpoint's custom headers (whose values are encrypted at
// rest), and any other header whose value contains one of those values (a
// transformation may have moved it). herald's own webhook-id, webhook-timestamp and
// webhook-signature stay visible: they are what a receiver needs to debug a signature.
func RedactRequestHeaders(h map[string]string, custom map[string]string) {
	for name, v := range h {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "webhook-") {
			continue
		}
		if credentialHeaders[lower] || hasHeaderName(custom, name) || containsValue(v, custom) {
			h[name] = RedactedValue
		}
	}
}

// hasHeaderName reports whether headers has name, case-insensitively.
func hasHeaderName(headers map[string]string, name string) bool {
	for k := range headers {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// containsValue reports whether v contains one of the values of headers long enough to matter.
func containsValue(v string, headers map[string]string) bool {
	for _, secret := range headers {
		if len(secret) >= minSecretMatch && strings.Contains(v, secret) {
			return true
		}
	}
	return false
}
