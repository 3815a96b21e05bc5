package domain

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestChecks(t *testing.T) {
	long := strings.Repeat("a", MaxTypeLen+1)
	tests := []struct {
		name      string
		err       error
		wantField string // "" for valid
	}{
		{"name ok", CheckName("name", "Acme", 1), ""},
		{"name required", CheckName("name", "", 1), "name"},
		{"name optional", CheckName("name", "", 0), ""},
		{"name too long", CheckName("name", strings.Repeat("é", MaxNameLen+1), 0), "name"},
		{"uid empty", CheckUID(""), ""},
		{"uid ok", CheckUID("customer-42"), ""},
		{"uid looks like an id", CheckUID("app_123"), "uid"},
		{"uid bad characters", CheckUID("a b"), "uid"},
		{"description too long", CheckDescription(strings.Repeat("x", MaxDescriptionLen+1)), "description"},
		{"event type ok", CheckEventType("type", "response.completed"), ""},
		{"event type empty", CheckEventType("type", ""), "type"},
		{"event type too long", CheckEventType("type", long), "type"},
		{"event type space", CheckEventType("messages[2].type", "a b"), "messages[2].type"},
		{"filter ok", CheckEventFilter([]string{"*", "response.*", "batch.completed"}), ""},
		{"filter bad wildcard", CheckEventFilter([]string{"ok", "*.completed"}), "event_types[1]"},
		{"filter bad name", CheckEventFilter([]string{"a/b"}), "event_types[0]"},
		{"headers ok", CheckHeaders(map[string]string{"Authorization": "Bearer x", "X-Tab": "a\tb"}), ""},
		{"header reserved", CheckHeaders(map[string]string{"Content-Type": "text/plain"}), "headers.Content-Type"},
		{"header webhook-", CheckHeaders(map[string]string{"Webhook-Id": "x"}), "headers.Webhook-Id"},
		{"header bad name", CheckHeaders(map[string]string{"a b": "x"}), "headers"},
		{"header control character", CheckHeaders(map[string]string{"X-A": "a\nb"}), "headers.X-A"},
		{"concurrency ok", CheckConcurrency(MaxConcurrency), ""},
		{"concurrency negative", CheckConcurrency(-1), "max_concurrency"},
		{"concurrency too high", CheckConcurrency(MaxConcurrency + 1), "max_concurrency"},
		{"rate limit negative", CheckRateLimit(-0.5), "rate_limit"},
		{"timeout default", CheckTimeoutMS(0), ""},
		{"timeout too short", CheckTimeoutMS(MinTimeoutMS - 1), "timeout_ms"},
		{"timeout too long", CheckTimeoutMS(MaxTimeoutMS + 1), "timeout_ms"},
		{"too many headers", CheckHeaders(manyHeaders(MaxHeaders + 1)), "headers"},
		{"most headers", CheckHeaders(manyHeaders(MaxHeaders)), ""},
		{"too many event types", CheckEventFilter(make([]string, MaxEventFilter+1)), "event_types"},
		{"listener name ok", CheckListenerName("laptop-1.dev_x"), ""},
		{"listener name empty", CheckListenerName(""), "name"},
		{"listener name slash", CheckListenerName("a/b"), "name"},
		{"listener name too long", CheckListenerName(strings.Repeat("n", 65)), "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantField == "" {
				if tt.err != nil {
					t.Fatalf("error %v, want none", tt.err)
				}
				return
			}
			fe, ok := errors.AsType[*FieldError](tt.err)
			if !ok {
				t.Fatalf("error %v (%T), want a *FieldError", tt.err, tt.err)
			}
			if fe.Field != tt.wantField || fe.Message == "" || fe.Error() != fe.Field+" "+fe.Message {
				t.Errorf("field %q message %q, want field %q", fe.Field, fe.Message, tt.wantField)
			}
		})
	}
}

// manyHeaders returns n valid extra headers.
func manyHeaders(n int) map[string]string {
	h := make(map[string]string, n)
	for i := range n {
		h[fmt.Sprintf("X-H%d", i)] = "v"
	}
	return h
}
