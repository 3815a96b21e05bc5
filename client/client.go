// Package client is the Go client of herald's REST API, for the backend that sends
// webhooks through herald: publish messages (one or a batch), manage apps, API keys,
// endpoints (secrets, rotation, replay) and sources, and list messages, deliveries and
// attempts (retry a delivery). docs/api.md explains the API; its OpenAPI document,
// served at /openapi.yaml, describes every field, and the types of this package are
// checked against it.
//
// Every method takes a context first and sends one request; an app parameter is the
// app's id or its uid, which the API accepts alike. An answer other than 2xx is
// returned as an *Error carrying the API's status, code and message (ErrorCode reads
// the code out of any error, to compare with the Code constants); any other failure
// (connection refused, a timeout, an undecodable answer) is wrapped with the request's
// method and path.
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("HERALD_API_KEY"), nil)
//	msg, _, _, err := c.Publish(ctx, "acme", client.MessageInput{
//		Type:           "invoice.paid",
//		Payload:        json.RawMessage(`{"id": "inv_1"}`),
//		IdempotencyKey: "inv_1-paid", // a retried publish sends nothing twice
//	})
//	if client.ErrorCode(err) == client.CodeNotFound {
//		// no app "acme"
//	}
//
// List methods return one page, newest first, and the cursor of the next page ("" on
// the last page):
//
//	var cursor string
//	for {
//		apps, next, err := c.ListApps(ctx, client.ListParams{Cursor: cursor})
//		if err != nil {
//			return err
//		}
//		// use apps
//		if next == "" {
//			break
//		}
//		cursor = next
//	}
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// Client calls one herald server with one API key; it is safe for concurrent use.
type Client struct {
	baseURL string
	apiKey  string
	hc      *http.Client
}

// New returns a Client for the server at baseURL (such as "http://127.0.0.1:8080")
// that authenticates with apiKey and sends requests with httpClient (http.DefaultClient if nil).
func New(baseURL, apiKey string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), apiKey: apiKey, hc: httpClient}
}

// request describes one API call.
type request struct {
	method string
	path   string     // already escaped, starting with "/v1/"
	query  url.Values // may be nil
	body   any        // encoded as JSON unless it is a []byte, which is sent as is; nil sends no body
}

// do sends r and decodes a 2xx answer into out (unless out is nil). It returns the
// answer, whose body is closed, for its status and headers.
func (c *Client) do(ctx context.Context, r request, out any) (*http.Response, error) {
	u := c.baseURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, ok := r.body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(r.body); err != nil {
				return nil, fmt.Errorf("%s %s: encode request: %w", r.method, r.path, err)
			}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // it would repeat the method and URL
		}
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, decodeError(resp)
	}
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // lets the connection be reused
		return resp, nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return resp, fmt.Errorf("%s %s: decode answer: %w", r.method, r.path, err)
	}
	return resp, nil
}

// call sends r and returns the answer decoded into a new T.
func call[T any](ctx context.Context, c *Client, r request) (*T, error) {
	var v T
	if _, err := c.do(ctx, r, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// list is the shape of every list answer.
type list[T any] struct {
	Data       []*T   `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// getList fetches one page of a list.
func getList[T any](ctx context.Context, c *Client, path string, q url.Values) ([]*T, string, error) {
	var l list[T]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q}, &l); err != nil {
		return nil, "", err
	}
	return l.Data, l.NextCursor, nil
}

// path joins escaped path segments under /v1.
func path(segments ...string) string {
	var b strings.Builder
	b.WriteString("/v1")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// BaseURL returns the server URL the client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// appPath is path under /v1/apps/{app}.
func appPath(app string, segments ...string) string {
	return path(append([]string{"apps", app}, segments...)...)
}

// query builds list query parameters, leaving out zero values.
type query url.Values

func (q query) add(name, v string) query {
	if v != "" {
		url.Values(q).Set(name, v)
	}
	return q
}

func (q query) addInt(name string, v int) query {
	if v != 0 {
		url.Values(q).Set(name, strconv.Itoa(v))
	}
	return q
}

func (q query) addTime(name string, t time.Time) query {
	if !t.IsZero() {
		url.Values(q).Set(name, t.UTC().Format(time.RFC3339Nano))
	}
	return q
}

// pageQuery starts a query with the limit and cursor of p.
func pageQuery(p ListParams) query {
	return query{}.addInt("limit", p.Limit).add("cursor", p.Cursor)
}
