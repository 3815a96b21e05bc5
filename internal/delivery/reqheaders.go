package delivery

import (
	"maps"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/domain"
)

// Bounds of an attempt's recorded request headers.
const (
	maxSentValue = 1024     // bytes of one value; longer ones are cut and end in "…"
	maxSentBytes = 16 << 10 // names and values in all; headers past it are left out
)

// headerRecorder collects the header fields the transport writes for a request, as
// httptrace reports them: the request line's Host and the transport's own
// (Content-Length, Accept-Encoding) included. When a request goes twice on one
// attempt (an OAuth2 token refreshed after a 401), the second one is kept.
type headerRecorder struct {
	mu sync.Mutex
	h  map[string]string
}

func newHeaderRecorder() *headerRecorder { return &headerRecorder{} }

// trace returns the hooks that feed the recorder.
func (rec *headerRecorder) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) {
			rec.mu.Lock()
			rec.h = nil // a new request on this attempt
			rec.mu.Unlock()
		},
		WroteHeaderField: func(key string, value []string) {
			switch {
			case key == ":authority":
				key = "Host"
			case strings.HasPrefix(key, ":"):
				return // HTTP/2's other pseudo-headers: the method, path and scheme
			}
			rec.mu.Lock()
			if rec.h == nil {
				rec.h = make(map[string]string)
			}
			rec.h[http.CanonicalHeaderKey(key)] = strings.Join(value, ", ")
			rec.mu.Unlock()
		},
	}
}

// headers returns what the request went with, redacted and bounded: the fields the
// transport wrote, or, when the connection failed before any was written, the headers
// prepared for it (with the Authorization the credentials would have added, when the
// endpoint has some). secrets are the endpoint's custom headers (see
// domain.RedactRequestHeaders).
func (rec *headerRecorder) headers(prepared http.Header, withAuth bool, secrets map[string]string) map[string]string {
	rec.mu.Lock()
	h := make(map[string]string, max(len(rec.h), len(prepared)+1))
	for k, v := range rec.h {
		h[k] = v
	}
	rec.mu.Unlock()
	if len(h) == 0 {
		for k, v := range prepared {
			h[k] = strings.Join(v, ", ")
		}
		if withAuth {
			h["Authorization"] = domain.RedactedValue
		}
	}
	return redactAndBound(h, secrets)
}

// redactAndBound redacts h in place and cuts it down to the recorded bounds; past
// maxSentBytes, herald's webhook-* headers are kept first, then the others by name.
func redactAndBound(h map[string]string, secrets map[string]string) map[string]string {
	domain.RedactRequestHeaders(h, secrets)
	names := slices.Collect(maps.Keys(h))
	slices.SortFunc(names, func(a, b string) int {
		wa, wb := strings.HasPrefix(a, "Webhook-"), strings.HasPrefix(b, "Webhook-")
		if wa != wb {
			if wa {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	total := 0
	for _, k := range names {
		v := h[k]
		if len(v) > maxSentValue {
			v = v[:maxSentValue] + "…"
			h[k] = v
		}
		if total += len(k) + len(v); total > maxSentBytes {
			delete(h, k)
		}
	}
	return h
}
