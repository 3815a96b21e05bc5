package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/transform"
)

// transform runs the endpoint's transformation on r, when it has one, before each
// attempt, and rewrites r with what the script returned: method, URL, custom headers
// and body, which the signature then covers. It reports stop with the response to
// record instead of sending when the script cancelled the delivery (no error) or failed
// (the error says how; a script that ran out of time, or waited past the endpoint's
// timeout for a turn in the sandbox, is timedOut).
func (e *Engine) transform(r *request) (resp response, stop bool) {
	t := r.tools
	if t.scriptErr != nil {
		return response{err: t.scriptErr, unsent: true, timedOut: transformTimedOut(t.scriptErr)}, true
	}
	if t.script == nil {
		return response{}, false
	}
	ctx, cancel := context.WithTimeout(e.sendCtx, r.timeout)
	defer cancel()
	start := time.Now()
	out, err := t.script.Run(ctx, transform.Webhook{
		Method: http.MethodPost, URL: r.url, Headers: r.headers, Payload: r.body, EventType: r.eventType,
	})
	latency := time.Since(start)
	switch {
	case err != nil:
		return response{err: err, unsent: true, latency: latency, timedOut: transformTimedOut(err)}, true
	case out.Cancel:
		return response{unsent: true, latency: latency}, true
	}
	r.method, r.url, r.headers = out.Method, out.URL, out.Headers
	if !bytes.Equal(out.Payload, r.body) {
		r.body = out.Payload
		r.contentType = "text/plain; charset=utf-8"
		if json.Valid(out.Payload) {
			r.contentType = "application/json"
		}
	}
	return response{}, false
}

// transformTimedOut reports whether a transformation failed for lack of time: its
// script ran past the sandbox's limit, or it waited for a turn past the endpoint's
// timeout. Either may be the machine's load rather than the script, so it is retried.
func transformTimedOut(err error) bool {
	if te, ok := errors.AsType[*transform.Error](err); ok {
		return te.Kind == transform.KindTimeout
	}
	return errors.Is(err, context.DeadlineExceeded)
}
