package relay

import (
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
	SourceID string // ... or to one source's events, by its id or uid (AppID, if also set, must be its app)
	Name     string // the listener's name: the same name keeps the same endpoint and secret
	Events   []string
	Routes   []Route // the first matching route wins
	// OriginalHeaders forwards the provider's own headers (for events that arrived
	// through a source) instead of herald's Standard Webhooks signature.
	OriginalHeaders bool
	// Stream names what this listener listens to in status lines, such as
	// "source stripe-live"; default: from SourceID or AppID.
	Stream string
	// Prefix starts every event line (e.g. "[source stripe-live] " when one process runs
	// several listeners); JSON lines carry Stream instead.
	Prefix string
	// JSON makes the event lines on Out JSON objects, one per event (see EventLine).
	JSON bool
	// Out receives the event lines: what arrived and what the local server answered.
	Out io.Writer
	// Status receives one line per connection change: connected, disconnected and
	// reconnecting (with the delay), or not reachable.
	Status io.Writer
	// OnHello is called on every (re)connection with what the server attached.
	OnHello func(Hello)
	// HTTPClient forwards to the local URLs; nil: a client with a 30 s timeout that does not follow redirects.
	HTTPClient *http.Client
	Now        func() time.Time
	// MaxBackoff bounds the delay between reconnections (default 30 s).
	MaxBackoff time.Duration
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
	if opts.Stream == "" {
		opts.Stream = "app " + opts.AppID
		if opts.SourceID != "" {
			opts.Stream = "source " + opts.SourceID
		}
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Status == nil {
		opts.Status = io.Discard
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
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
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
// unknown app or source, another session that took the listener over).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Run attaches and forwards until ctx ends, reconnecting with backoff (0.5 s doubling to
// MaxBackoff) whenever the connection drops or the server cannot be reached, and saying
// so on Status. It returns nil when ctx ends, or a *PermanentError when the server
// refuses the listener (an answer 4xx other than 408 and 429) or a newer session of the
// same name replaces it.
func (l *Listener) Run(ctx context.Context) error {
	target, err := l.wsURL()
	if err != nil {
		return &PermanentError{err}
	}
	backoff := 500 * time.Millisecond
	everAttached := false
	for attempt := 1; ctx.Err() == nil; attempt++ {
		attached, err := l.session(ctx, target, everAttached)
		if ctx.Err() != nil {
			return nil
		}
		var perm *PermanentError
		if errors.As(err, &perm) {
			return err
		}
		if attached {
			everAttached, backoff, attempt = true, 500*time.Millisecond, 1
			l.status("disconnected from %s: %v; reconnecting in %s", l.opts.Stream, err, backoff)
		} else {
			l.status("cannot attach %s: %v; retrying in %s (attempt %d)", l.opts.Stream, err, backoff, attempt)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, l.opts.MaxBackoff)
	}
	return nil
}

// status prints one line on Status.
func (l *Listener) status(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.opts.Status, l.opts.Now().Format("15:04:05")+" "+format+"\n", args...)
}

// dial connects to the server and reads its hello. A refusal is a *PermanentError.
func (l *Listener) dial(ctx context.Context, target string) (*websocket.Conn, Hello, error) {
	hdr := http.Header{"Authorization": {"Bearer " + l.opts.APIKey}}
	conn, resp, err := websocket.Dial(ctx, target, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		if resp != nil && refused(resp.StatusCode) {
			return nil, Hello{}, &PermanentError{fmt.Errorf("listen: %s: the server refused: %s", l.opts.Stream, describeRefusal(resp))}
		}
		if resp != nil {
			return nil, Hello{}, fmt.Errorf("the server answered %s", resp.Status)
		}
		return nil, Hello{}, unwrapURLError(err)
	}
	conn.SetReadLimit(maxMessage)
	_, b, err := conn.Read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, Hello{}, err
	}
	var hello Hello
	if err := json.Unmarshal(b, &hello); err != nil || hello.Type != TypeHello {
		conn.CloseNow()
		return nil, Hello{}, errors.New("listen: the server did not say hello")
	}
	return conn, hello, nil
}

// session runs one connection; it reports whether the server attached the listener.
func (l *Listener) session(ctx context.Context, target string, again bool) (bool, error) {
	conn, hello, err := l.dial(ctx, target)
	if err != nil {
		return false, err
	}
	defer conn.CloseNow()
	verb := "connected"
	if again {
		verb = "reconnected"
	}
	l.status("%s: %s (listener %q, endpoint %s)", verb, l.opts.Stream, hello.Name, hello.EndpointID)
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

// refused reports whether a handshake answered with status is a refusal that retrying
// will not change: a client error, but for a timeout (408) or a rate limit (429).
func refused(status int) bool {
	return status >= 400 && status <= 499 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
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

// describeRefusal says why the server refused a handshake, from its error answer.
func describeRefusal(resp *http.Response) string {
	var e struct {
		Error struct{ Code, Message string }
	}
	var b []byte
	if resp.Body != nil {
		b, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
	}
	if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
		return fmt.Sprintf("%s: %s (HTTP %d)", e.Error.Code, strings.Join(strings.Fields(e.Error.Message), " "), resp.StatusCode)
	}
	return "HTTP " + resp.Status
}

func unwrapURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// Attach attaches the listener once, as Run does, and returns what the server
// attached without waiting for deliveries: the endpoint (created on first use) and its
// secret. A refusal is a *PermanentError.
func (l *Listener) Attach(ctx context.Context) (Hello, error) {
	target, err := l.wsURL()
	if err != nil {
		return Hello{}, &PermanentError{err}
	}
	conn, hello, err := l.dial(ctx, target)
	if err != nil {
		return Hello{}, err
	}
	conn.Close(websocket.StatusNormalClosure, "")
	return hello, nil
}
