package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/domain"
)

// EventLine is what a Listener with JSON set prints for each event, on one line, once
// the local server answered (or could not be reached).
type EventLine struct {
	Time      time.Time `json:"time"`
	Stream    string    `json:"stream"`          // what the listener listens to, such as "source stripe-live"
	EventType string    `json:"event_type"`      // the message's type
	EventID   string    `json:"event_id"`        // the body's own "id", else the message id
	MessageID string    `json:"message_id"`      // herald's message id
	URL       string    `json:"url,omitempty"`   // where it was forwarded; absent when no route matched
	Status    int       `json:"status"`          // the local server's status; 0 when there was no answer
	LatencyMS float64   `json:"latency_ms"`      // how long the local server took
	Body      string    `json:"body"`            // the start of its answer (MaxLineBody bytes), invalid UTF-8 replaced
	Truncated bool      `json:"body_truncated"`  // the answer was longer than Body
	Error     string    `json:"error,omitempty"` // why there was no answer, or that no route matched
	Delivered bool      `json:"delivered"`       // the local server answered 2xx: the server records a success
}

// MaxLineBody is how much of the local server's answer an event line shows.
const MaxLineBody = 1024

// textBody is how much of the answer a text event line shows.
const textBody = 120

// forward POSTs one delivery to its local URL and reports the answer. An event no
// route takes is reported as failed, with why: the server records a failed attempt
// (and retries it later) rather than a success that was never delivered.
func (l *Listener) forward(ctx context.Context, d *Delivery) Result {
	res := Result{Type: TypeResult, ID: d.ID}
	ev := EventLine{Time: l.opts.Now().UTC(), Stream: l.opts.Stream, EventType: d.EventType, EventID: eventID(d), MessageID: d.MessageID}
	for _, r := range l.opts.Routes {
		if domain.MatchEventType([]string{r.Pattern}, d.EventType) {
			ev.URL = r.URL
			break
		}
	}
	if !l.opts.JSON {
		l.line("%s%s --> %s %s", l.opts.Prefix, ev.Time.Local().Format("15:04:05"), d.EventType, ev.EventID)
	}
	defer func() { l.report(&ev) }()
	if ev.URL == "" {
		res.Error = fmt.Sprintf("herald listen: no --forward route matches event type %q", d.EventType)
		ev.Error = res.Error
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ev.URL, bytes.NewReader(d.Body))
	if err != nil {
		res.Error = err.Error()
		ev.Error = res.Error
		return res
	}
	req.Header = l.headers(d.Header)
	start := time.Now()
	resp, err := l.opts.HTTPClient.Do(req)
	res.Latency = float64(time.Since(start).Microseconds()) / 1000
	ev.LatencyMS = res.Latency
	if err != nil {
		res.Error = fmt.Sprintf("forward to %s: %v", ev.URL, unwrapURLError(err))
		ev.Error = res.Error
		return res
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	res.Status, res.Header, res.Body = resp.StatusCode, resp.Header, body
	ev.Status, ev.Delivered = resp.StatusCode, resp.StatusCode >= 200 && resp.StatusCode <= 299
	ev.Body, ev.Truncated = excerpt(body, MaxLineBody)
	ev.Truncated = ev.Truncated || len(body) == 4<<10
	return res
}

// report prints the event's answer: a JSON line, or a text line with the status, the
// latency and the start of the body.
func (l *Listener) report(ev *EventLine) {
	if l.opts.JSON {
		b, _ := json.Marshal(ev)
		l.line("%s", b)
		return
	}
	at := l.opts.Now().Format("15:04:05")
	if ev.Error != "" {
		l.line("%s%s <-- failed: %s", l.opts.Prefix, at, ev.Error)
		return
	}
	path := ev.URL
	if i := strings.Index(path, "://"); i >= 0 {
		if j := strings.IndexByte(path[i+3:], '/'); j >= 0 {
			path = path[i+3+j:]
		} else {
			path = "/"
		}
	}
	body, cut := excerpt([]byte(strings.Join(strings.Fields(ev.Body), " ")), textBody)
	if cut || ev.Truncated {
		body += "..."
	}
	if body != "" {
		body = " " + body
	}
	l.line("%s%s <-- %d POST %s (%.1fms)%s", l.opts.Prefix, at, ev.Status, path, ev.LatencyMS, body)
}

// excerpt returns the first n bytes of b as text, cut at a character boundary, invalid
// UTF-8 replaced, and whether anything was left out.
func excerpt(b []byte, n int) (string, bool) {
	cut := len(b) > n
	if cut {
		b = b[:n]
		for i := 1; i < utf8.UTFMax && len(b) > 0; i++ { // a character cut in two
			if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), cut
}

// headers are what the local server gets: herald's signed headers (verify them with the
// listener's secret), or with OriginalHeaders the provider's own.
func (l *Listener) headers(h http.Header) http.Header {
	out := http.Header{}
	if l.opts.OriginalHeaders {
		for k, v := range h {
			if name, ok := strings.CutPrefix(k, domain.ForwardedHeaderPrefix); ok {
				out[http.CanonicalHeaderKey(name)] = v
			}
		}
		if len(out) > 0 {
			out.Set("Content-Type", h.Get("Content-Type"))
			return out
		}
		// Published through the API: there are no provider headers, so send herald's.
	}
	for k, v := range h {
		if !strings.HasPrefix(k, domain.ForwardedHeaderPrefix) {
			out[k] = v
		}
	}
	return out
}

func (l *Listener) line(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.opts.Out, format+"\n", args...)
}

// eventID is the event's own id when its body says one, else the message id.
func eventID(d *Delivery) string {
	var body struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(d.Body, &body) == nil && body.ID != "" {
		return body.ID
	}
	return d.MessageID
}
