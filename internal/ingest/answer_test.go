package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWriteReceived checks that the gateway's answer is what encoding/json writes for
// its map, whatever the id.
func TestWriteReceived(t *testing.T) {
	for _, id := range []string{"msg_01JD3XK5M2Q8W0RZ7C4T6YB9HN", "a.b-c_D9", `odd "id" <&>`, "é", ""} {
		for _, dup := range []bool{false, true} {
			want := map[string]any{"received": true, "id": id}
			if dup {
				want["duplicate"] = true
			}
			var buf bytes.Buffer
			if err := json.NewEncoder(&buf).Encode(want); err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			writeReceived(w, id, dup)
			if w.Body.String() != buf.String() || w.Code != 200 ||
				w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("id %q, duplicate %v: %d %v %q, want %q", id, dup, w.Code, w.Header(), w.Body, buf.String())
			}
		}
	}
}

func TestEventType(t *testing.T) {
	for _, tc := range []struct{ provider, in, want string }{
		{"openai", "response.completed", "response.completed"},
		{"shopify", "orders/create", "orders.create"},
		{"github", "", "github.webhook"},
		{"hmac", "caf\u00e9 au lait", "caf...au.lait"},
		{"hmac", strings.Repeat("a", 300), strings.Repeat("a", 255)},
		{"hmac", strings.Repeat("a/", 150), strings.Repeat("a.", 127) + "a"},
	} {
		if got := eventType(tc.provider, tc.in); got != tc.want {
			t.Errorf("eventType(%q, %q) = %q, want %q", tc.provider, tc.in, got, tc.want)
		}
	}
}

// TestForwardedHeaders checks which headers a stored webhook keeps: the provider's,
// renamed, without hop-by-hop headers and credentials in any spelling, and the same ones
// whatever the map's order once past the size cap.
func TestForwardedHeaders(t *testing.T) {
	h := http.Header{
		"Webhook-Id": {"msg_1"}, "User-Agent": {"OpenAI/1.0"}, "Accept": {"a", "b"},
		"Authorization": {"Bearer x"}, "authorization": {"Bearer y"}, "COOKIE": {"c=1"}, "Proxy-Connection": {"x"},
		"Transfer-Encoding": {"chunked"}, "Host": {"example.com"},
	}
	got := forwardedHeaders(h)
	want := map[string]string{
		"X-Herald-Original-Webhook-Id": "msg_1", "X-Herald-Original-User-Agent": "OpenAI/1.0", "X-Herald-Original-Accept": "a, b",
		"Content-Type": "application/octet-stream",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("forwardedHeaders = %v\nwant %v", got, want)
	}
	big := http.Header{"Content-Type": {"application/json"}}
	for i := range 40 {
		big[fmt.Sprintf("X-H%02d", i)] = []string{strings.Repeat("v", 1000)}
	}
	first := forwardedHeaders(big)
	if len(first) >= 41 || first["Content-Type"] != "application/json" {
		t.Fatalf("%d headers kept past the 32 KiB cap", len(first))
	}
	for range 20 {
		if again := forwardedHeaders(big); fmt.Sprint(again) != fmt.Sprint(first) {
			t.Fatal("past the size cap, the headers kept depend on the map's order")
		}
	}
}
