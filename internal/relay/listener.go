package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/heraldhq/herald/internal/domain"
)

// Route sends events whose type matches Pattern (exact, "prefix.*" or "*") to URL.
type Route struct {
	Pattern string
	URL     string
}

// ListenerOptions configure a Listener.
type ListenerOptions struct {
	Server   string // herald's base URL, e.g. http://127.0.0.1:8080
	APIKey   string
	AppID    string // attach to an app (all its events) ...
	SourceID string // ... or to one source's events (AppID may then be empty)
	Name     string // the listener's name: the same name keeps the same endpoint and secret
	Events   []string
	Routes   []Route // the first matching route wins
	// OriginalHeaders forwards the provider's own headers (for events that arrived
	// through a source) instead of herald's Standard Webhooks signature.
	OriginalHeaders bool
	// Out receives one line per event and per answer; Errors one line per connection problem.
	Out, Errors io.Writer
	// OnHello is called on every (re)connection with what the server attached.
	OnHello func(Hello)
	// HTTPClient forwards to the local URLs; nil: a client with a 30 s timeout that does not follow redirects.
	HTTPClient *http.Client
	Now        func() time.Time
}

// Listener keeps a `herald listen` session attached to a server, reconnecting with backoff.
type Listener struct {
	opts ListenerOptions
	mu   sync.Mutex // serialises Out
}

// NewListener validates opts and returns a Listener.
func NewListener(opts ListenerOptions) (*Listener, error) {
	if opts.Server == "" || opts.APIKey == "" {
		return nil, errors.New("listen: a server URL and an API key are required")
	}
	if opts.AppID == "" && opts.SourceID == "" {
		return nil, errors.New("listen: attach to an app (--app) or a source (--source)")
	}
	if len(opts.Routes) == 0 {
		return nil, errors.New("listen: nothing to forward to: give --forward-to URL")
	}
	for _, r := range opts.Routes {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("listen: %q is not an http:// or https:// URL", r.URL)
		}
	}
	if opts.Name == "" {
		opts.Name = "default"
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Errors == nil {
		opts.Errors = io.Discard
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Listener{opts: opts}, nil
}

// wsURL is the listen endpoint of the server.
func (l *Listener) wsURL() (string, error) {
	u, err := url.Parse(strings.TrimRight(l.opts.Server, "/"))
	if err != nil {
		return "", fmt.Errorf("listen: server %q: %w", l.opts.Server, err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("listen: server %q: want http:// or https://", l.opts.Server)
	}
	u.Path += "/v1/listen"
	q := url.Values{"name": {l.opts.Name}}
	if l.opts.AppID != "" {
		q.Set("app", l.opts.AppID)
	}
	if l.opts.SourceID != "" {
		q.Set("source", l.opts.SourceID)
	}
	if len(l.opts.Events) > 0 {
		q.Set("events", strings.Join(l.opts.Events, ","))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// PermanentError is a connection failure that retrying will not fix (a bad key, an
// unknown app or source).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Run attaches and forwards until ctx ends, reconnecting with backoff (0.5 s doubling to
// 30 s) whenever the connection drops. It returns nil when ctx ends, or a
// *PermanentError when the server refuses the listener or a newer session of the same
// name replaces it.
func (l *Listener) Run(ctx context.Context) error {
	target, err := l.wsURL()
	if err != nil {
		return &PermanentError{err}
	}
	backoff := 500 * time.Millisecond
	for ctx.Err() == nil {
		attached, err := l.session(ctx, target)
		if ctx.Err() != nil {
			return nil
		}
		var perm *PermanentError
		if errors.As(err, &perm) {
			return err
		}
		if attached {
			backoff = 500 * time.Millisecond
		}
		fmt.Fprintf(l.opts.Errors, "%s connection lost (%v); reconnecting in %s\n", l.opts.Now().Format("15:04:05"), err, backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
	return nil
}

// session runs one connection; it reports whether the server attached the listener.
func (l *Listener) session(ctx context.Context, target string) (bool, error) {
	hdr := http.Header{"Authorization": {"Bearer " + l.opts.APIKey}}
	conn, resp, err := websocket.Dial(ctx, target, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return false, &PermanentError{fmt.Errorf("listen: the server refused: %s", describeRefusal(resp))}
		}
		return false, err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxMessage)
	_, b, err := conn.Read(ctx)
	if err != nil {
		return false, err
	}
	var hello Hello
	if err := json.Unmarshal(b, &hello); err != nil || hello.Type != TypeHello {
		return false, errors.New("listen: the server did not say hello")
	}
	if l.opts.OnHello != nil {
		l.opts.OnHello(hello)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == CloseReplaced {
				return true, &PermanentError{l.replaced(err)}
			}
			return true, err
		}
		var d Delivery
		if err := json.Unmarshal(b, &d); err != nil || d.Type != TypeDelivery {
			return true, errors.New("listen: unexpected message from the server")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := l.forward(ctx, &d)
			out, _ := json.Marshal(res)
			_ = conn.Write(ctx, websocket.MessageText, out) // a lost result is resent by the server on reconnect
		}()
	}
}

// replaced is the error of a session that a newer session of the same name replaced.
func (l *Listener) replaced(err error) error {
	reason := "a newer session with the same name attached"
	var ce websocket.CloseError
	if errors.As(err, &ce) && ce.Reason != "" {
		reason = ce.Reason
	}
	return fmt.Errorf("listen: listener %q was taken over: %s; stopping (give this one another --name to run both)", l.opts.Name, reason)
}

func describeRefusal(resp *http.Response) string {
	var e struct {
		Error struct{ Code, Message string }
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
		return e.Error.Code + ": " + e.Error.Message
	}
	return resp.Status
}

// forward POSTs one delivery to its local URL and reports the answer.
func (l *Listener) forward(ctx context.Context, d *Delivery) Result {
	res := Result{Type: TypeResult, ID: d.ID}
	target := ""
	for _, r := range l.opts.Routes {
		if domain.MatchEventType([]string{r.Pattern}, d.EventType) {
			target = r.URL
			break
		}
	}
	now := l.opts.Now().Format("15:04:05")
	l.line("%s --> %s %s", now, d.EventType, eventID(d))
	if target == "" {
		// Not for this listener's routes: acknowledge so that it is not retried forever.
		res.Status = http.StatusNoContent
		l.line("%s <-- skipped: no --forward route matches %s", now, d.EventType)
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(d.Body))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req.Header = l.headers(d.Header)
	start := time.Now()
	resp, err := l.opts.HTTPClient.Do(req)
	res.Latency = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		res.Error = fmt.Sprintf("forward to %s: %v", target, unwrapURLError(err))
		l.line("%s <-- error %s", l.opts.Now().Format("15:04:05"), res.Error)
		return res
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	res.Status, res.Header, res.Body = resp.StatusCode, resp.Header, body
	path := req.URL.Path
	if path == "" {
		path = "/"
	}
	l.line("%s <-- %d POST %s %s", l.opts.Now().Format("15:04:05"), resp.StatusCode, path, time.Since(start).Round(time.Millisecond))
	return res
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

func unwrapURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
