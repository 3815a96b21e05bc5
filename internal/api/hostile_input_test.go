package api

import (
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
