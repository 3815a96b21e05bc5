package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDecodeRefusesAmbiguousInput checks that bodies whose meaning receivers could
// disagree on are refused: invalid UTF-8 (which encoding/json would silently replace),
// and keys given twice in one object (where decoders differ on which one wins).
func TestDecodeRefusesAmbiguousInput(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string // in the error message; "" for no error
	}{
		{"valid", `{"type":"a.b","payload":{"k":"é","n":[{"k":1},{"k":2}]}}`, ""},
		{"same key in sibling objects", `{"messages":[{"type":"a"},{"type":"b"}]}`, ""},
		{"invalid UTF-8 in a string", "{\"type\":\"a.b\",\"payload\":{\"k\":\"\xff\"}}", "not valid UTF-8 (at offset 30)"},
		{"invalid UTF-8 outside strings", "{\"type\":\"a.b\"}\xc3", "not valid UTF-8"},
		{"duplicate top-level key", `{"type":"a.b","type":"c.d","payload":{}}`, `duplicate key "type" in the body`},
		{"duplicate key in the payload", `{"type":"a.b","payload":{"amount":1,"x":{},"amount":1000}}`, `duplicate key "amount" in payload`},
		{"duplicate key in a batch message", `{"messages":[{"type":"a"},{"type":"a","payload":{"a":{"b":1,"b":2}}}]}`, `duplicate key "b" in messages[1].payload.a`},
		{"duplicate key, escaped", `{"type":"a.b","payload":{"id":1,"\u0069d":2}}`, `duplicate key "id" in payload`},
		{"escaped quote in a key", `{"payload":{"a\"b":1,"a\\":2}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v struct {
				Type     string         `json:"type"`
				Payload  map[string]any `json:"payload"`
				Messages []struct {
					Type    string         `json:"type"`
					Payload map[string]any `json:"payload"`
				} `json:"messages"`
			}
			err := decodeJSON([]byte(tc.body), false, &v)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
			case err == nil:
				t.Fatalf("accepted, want an error with %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want it to say %q", err, tc.want)
			default:
				if ae, ok := err.(*apiError); !ok || ae.status != http.StatusBadRequest {
					t.Fatalf("error %v is not a 400", err)
				}
			}
		})
	}
}

// TestQueryRefusesUnknownParameters checks that a query parameter the route does not
// read is refused rather than ignored: a misspelt filter would otherwise list everything.
func TestQueryRefusesUnknownParameters(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  string // in the error; "" for none
	}{
		{"", ""},
		{"type=a.b&limit=10", ""},
		{"typ=a.b", "query parameter typ is not known here; this route reads cursor, limit, type"},
		{"limit=10&zzz=1&aaa=2", "query parameter aaa is not known"},
		{"limit=0&zzz=1", "limit must be an integer"}, // the first problem
	} {
		t.Run(tc.query, func(t *testing.T) {
			q := newQuery(&url.URL{RawQuery: tc.query})
			q.str("type")
			q.page("msg")
			err := q.done()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestIdempotencyKeyNamespace checks that the API refuses idempotency keys in the
// receiving gateway's namespace, with which a publisher could make the gateway drop a
// provider's webhook as a duplicate.
func TestIdempotencyKeyNamespace(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"order-42", true},
		{"IN:src_1:abc", true}, // the gateway's prefix is lower case
		{"xin:src_1", true},
		{"in:src_01J0000000000000000000000:d-1", false},
		{"in:", false},
		{"", false},
	} {
		t.Run(tc.key, func(t *testing.T) {
			err := checkIdempotencyKey("idempotency_key", tc.key)
			if (err == nil) != tc.ok {
				t.Fatalf("checkIdempotencyKey(%q) = %v, want ok %v", tc.key, err, tc.ok)
			}
		})
	}
}

// TestRoutesWithoutQueriesRefuseThem checks that a route that reads no query parameters
// refuses a query string instead of ignoring it (a filter sent to the wrong route, such
// as ?status=failed on a delete, would otherwise act on everything), and that bounded
// endpoint lists (headers, event types) are bounded through the API too.
func TestRoutesWithoutQueriesRefuseThem(t *testing.T) {
	e := newEnv(t)
	app := e.do(req{method: "POST", path: "/v1/apps", key: e.admin, body: `{"name":"acme","uid":"acme"}`})
	if app.status != http.StatusCreated {
		t.Fatalf("create app: %d %s", app.status, app.body)
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/apps/acme", http.StatusOK},
		{"GET", "/v1/apps/acme?expand=all", http.StatusBadRequest},
		{"DELETE", "/v1/apps/acme?dry_run=true", http.StatusBadRequest},
		{"GET", "/v1/apps?limit=5", http.StatusOK}, // a list reads its query
	} {
		r := e.do(req{method: tc.method, path: tc.path, key: e.admin})
		if r.status != tc.status || (tc.status == http.StatusBadRequest && r.code() != codeInvalidQuery) {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.status)
		}
	}
	headers := map[string]string{}
	for i := range 51 {
		headers["X-H"+strings.Repeat("a", i)] = "v"
	}
	r := e.do(req{method: "POST", path: "/v1/apps/acme/endpoints", key: e.admin,
		body: map[string]any{"url": "https://example.com/hook", "headers": headers}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "headers has 51 headers; the most is 50") {
		t.Errorf("51 headers: %d %s, want 400 naming the limit", r.status, r.body)
	}
}

// FuzzDecode checks that the strict decoder never panics, and that it either accepts a
// JSON object or answers one of the documented 400 codes.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"url":"https://example.com","event_types":["a.*"],"headers":{"X":"y"},"max_concurrency":5,"rate_limit":1.5,"fifo":true}`,
		`{"url":null}`, `{"nope":1}`, `{"max_concurrency":1e3}`, `[]`, `null`, `{}`, `{} {}`, `{"metadata":{"k":1}}`, "",
		`{"description":"\u0000\ud800"}`, `{"url":"x","url":"y"}`, " \n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in endpointInput
		err := decodeJSON(body, true, &in)
		if err == nil {
			var obj map[string]json.RawMessage
			if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &obj) != nil {
				t.Fatalf("accepted %q, which is not a JSON object", body)
			}
			return
		}
		ae, ok := errors.AsType[*apiError](err)
		if !ok {
			t.Fatalf("%q: error %v is not an API error", body, err)
		}
		switch ae.code {
		case codeMalformedJSON, codeUnknownField, codeWrongType:
		default:
			t.Fatalf("%q: code %s", body, ae.code)
		}
		if ae.status != http.StatusBadRequest || ae.message == "" {
			t.Fatalf("%q: %d %q", body, ae.status, ae.message)
		}
	})
}
