package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/outbound"
	"github.com/heraldhq/herald/webhook"
)

// MaxResponseBody is how much of a response body an attempt record keeps.
const MaxResponseBody = 4 << 10

// MaxResponseHeaderBytes bounds the response headers of an attempt: a receiver sending
// more gets a failed attempt instead of growing herald's memory.
const MaxResponseHeaderBytes = 64 << 10

// maxDrain is how much more of a response body is read (and dropped) so the connection
// can be reused; larger bodies close the connection instead.
const maxDrain = 64 << 10

// reservedHeaders are set by herald and cannot be overridden by an endpoint's custom headers.
func reservedHeader(name string) bool {
	switch strings.ToLower(name) {
	case "webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length",
		"user-agent", "host", "connection", "transfer-encoding", "te", "upgrade", "trailer",
		"keep-alive", "proxy-connection", "proxy-authorization":
		return true
	}
	return false
}

// sender makes webhook requests.
type sender struct {
	client      *http.Client    // endpoints without credentials
	transport   *http.Transport // shared by every endpoint's client; cloned for receivers with their own TLS settings
	tokenClient *http.Client    // OAuth2 token requests: guarded like webhooks, no redirects
	userAgent   string
}

// newSender returns a sender whose connections the guard checks: directly, or through
// the egress proxy when one is set, in which case the guard checks the destination
// herald resolved itself and the proxy is asked for that address only.
func newSender(guard *netguard.Guard, proxy *url.URL, userAgent string, maxIdlePerHost int) *sender {
	dialer := &outbound.Dialer{Guard: guard, Proxy: proxy}
	tr := &http.Transport{
		Proxy:                  nil, // the dialer tunnels through the egress proxy itself, after the guard's check
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           4096,
		MaxIdleConnsPerHost:    maxIdlePerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		ResponseHeaderTimeout:  0, // bounded by the per-request timeout
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
	}
	return &sender{
		client:      &http.Client{Transport: tr, CheckRedirect: noRedirect},
		transport:   tr,
		tokenClient: &http.Client{Transport: tr, CheckRedirect: noRedirect},
		userAgent:   userAgent,
	}
}

// request is one webhook to send.
type request struct {
	method      string // "" means POST
	url         string
	endpointID  string
	messageID   string
	eventType   string
	body        []byte
	headers     map[string]string // the endpoint's custom headers (or what its transformation returned)
	secrets     map[string]string // the endpoint's custom headers as stored: values to redact from the record
	msgHeaders  map[string]string // the message's: a source's forwarded provider headers and content type
	contentType string            // set by a transformation that changed the body; "" for the message's own
	signer      *webhook.Standard
	timeout     time.Duration
	relay       bool            // a listener endpoint: sent over its live connection, not HTTP
	schedule    []time.Duration // the endpoint's retry schedule; nil: the server's
	tools       tools           // the endpoint's transformation and credentials
	// trace is sent as traceparent and tracestate: the attempt's request span's context
	// with tracing on, else the message's stored one; empty: no trace headers.
	trace domain.TraceContext
}

// response is what came back (or the error instead).
type response struct {
	status     int
	header     http.Header
	body       []byte
	err        error
	latency    time.Duration
	retryAfter time.Duration
	timedOut   bool              // err is the request's timeout
	sent       map[string]string // the request's headers, redacted; nil when no request was made
	// unsent: no request was made because the endpoint's transformation cancelled the
	// delivery (err is nil) or failed (err says how).
	unsent bool
}

// header returns the request headers of one attempt: the endpoint's custom headers, the
// message's forwarded headers, and herald's signature headers, which nothing overrides.
func (s *sender) header(r *request, now time.Time) (http.Header, error) {
	sig, err := r.signer.SignatureHeader(r.messageID, now, r.body)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	h := make(http.Header, len(r.headers)+len(r.msgHeaders)+7)
	for k, v := range r.headers {
		if !reservedHeader(k) {
			h.Set(k, v)
		}
	}
	contentType := "application/json"
	for k, v := range r.msgHeaders {
		if strings.EqualFold(k, "Content-Type") {
			contentType = v
		} else if !reservedHeader(k) {
			h.Set(k, v)
		}
	}
	if r.contentType != "" {
		contentType = r.contentType
	}
	h["Webhook-Id"] = []string{r.messageID}
	h["Webhook-Timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	h["Webhook-Signature"] = []string{sig}
	h["Content-Type"] = []string{contentType}
	h["User-Agent"] = []string{s.userAgent}
	if r.trace.Parent != "" { // replaces an endpoint's custom trace headers, as a pair
		h["Traceparent"] = []string{r.trace.Parent}
		if r.trace.State != "" {
			h["Tracestate"] = []string{r.trace.State}
		} else {
			delete(h, "Tracestate")
		}
	}
	return h, nil
}

// send makes one HTTP attempt, with the endpoint's credentials when it has some, and
// records the headers the request went with.
func (s *sender) send(ctx context.Context, r *request, now time.Time) response {
	if r.tools.clientErr != nil {
		return response{err: r.tools.clientErr}
	}
	h, err := s.header(r, now)
	if err != nil {
		return response{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	rec := newHeaderRecorder()
	ctx = httptrace.WithClientTrace(ctx, rec.trace())
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url, bytes.NewReader(r.body))
	if err != nil {
		return response{err: fmt.Errorf("build request: %w", err)}
	}
	req.Header = h
	client := s.client
	if r.tools.client != nil {
		client = r.tools.client
	}
	start := time.Now()
	resp, err := client.Do(req)
	sent := rec.headers(h, r.tools.auth != nil, r.secrets)
	if err != nil {
		return response{err: describeError(err, r.timeout), latency: time.Since(start), timedOut: errors.Is(err, context.DeadlineExceeded), sent: sent}
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if readErr == nil && len(body) == MaxResponseBody {
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	}
	resp.Body.Close()
	out := response{status: resp.StatusCode, header: resp.Header, body: body, latency: time.Since(start), sent: sent}
	out.retryAfter = retryAfter(resp.Header, now)
	return out
}

// describeError turns a transport error into a short, stable text for the attempt record.
func describeError(err error, timeout time.Duration) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("timeout: no response within %s", timeout)
	case errors.Is(err, netguard.ErrBlocked):
		return fmt.Errorf("blocked by the SSRF guard: %w", err)
	}
	var uerr interface{ Unwrap() error }
	if errors.As(err, &uerr) {
		if inner := uerr.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// headerSummary keeps the first value of each response header, bounded in size.
func headerSummary(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	total := 0
	for k, v := range h {
		if len(v) == 0 || total > 4096 {
			continue
		}
		val := v[0]
		if len(val) > 512 {
			val = val[:512]
		}
		out[k] = val
		total += len(k) + len(val)
	}
	return out
}
