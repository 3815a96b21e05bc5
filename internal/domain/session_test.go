package domain

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheckCapabilities(t *testing.T) {
	tests := []struct {
		in        []string
		want      []string
		wantField string
	}{
		{[]string{"read"}, []string{"read"}, ""},
		{[]string{"read", "manage"}, []string{"read", "manage"}, ""},
		{[]string{"manage"}, []string{"read", "manage"}, ""},
		{[]string{"manage", "read", "read"}, []string{"read", "manage"}, ""},
		{nil, nil, "capabilities"},
		{[]string{"read", "admin"}, nil, "capabilities[1]"},
	}
	for _, tt := range tests {
		got, err := CheckCapabilities(tt.in)
		if tt.wantField != "" {
			if fe, ok := errors.AsType[*FieldError](err); !ok || fe.Field != tt.wantField {
				t.Errorf("CheckCapabilities(%q) = %v, want an error about %s", tt.in, err, tt.wantField)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("CheckCapabilities(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSessionScope(t *testing.T) {
	console := &Session{Kind: SessionConsole}
	reader := &Session{Kind: SessionPortal, Capabilities: []string{CapRead}, EndpointIDs: []string{"ep_1"}}
	manager := &Session{Kind: SessionPortal, Capabilities: []string{CapManage}}
	tests := []struct {
		s        *Session
		cap      string
		want     bool
		endpoint string
		sees     bool
	}{
		{console, CapManage, true, "ep_2", true},
		{reader, CapRead, true, "ep_1", true},
		{reader, CapManage, false, "ep_2", false},
		{manager, CapRead, true, "ep_2", true},
		{manager, CapManage, true, "ep_9", true},
	}
	for i, tt := range tests {
		if got := tt.s.Can(tt.cap); got != tt.want {
			t.Errorf("%d: Can(%s) = %v, want %v", i, tt.cap, got, tt.want)
		}
		if got := tt.s.SeesEndpoint(tt.endpoint); got != tt.sees {
			t.Errorf("%d: SeesEndpoint(%s) = %v, want %v", i, tt.endpoint, got, tt.sees)
		}
	}
}

func TestCheckPortalTTL(t *testing.T) {
	for _, tt := range []struct {
		d  time.Duration
		ok bool
	}{{time.Minute, true}, {7 * 24 * time.Hour, true}, {59 * time.Second, false}, {8 * 24 * time.Hour, false}} {
		if err := CheckPortalTTL(tt.d); (err == nil) != tt.ok {
			t.Errorf("CheckPortalTTL(%v) = %v, want ok %v", tt.d, err, tt.ok)
		}
	}
}

func TestEventTypeCheck(t *testing.T) {
	big := json.RawMessage(`{"a":"` + strings.Repeat("x", MaxSchemaBytes) + `"}`)
	tests := []struct {
		name      string
		et        EventType
		wantField string
	}{
		{"minimal", EventType{Name: "invoice.paid"}, ""},
		{"full", EventType{Name: "invoice.paid", Description: "paid", Schema: json.RawMessage(`{"type":"object"}`), Example: json.RawMessage(`[1,"<script>"]`)}, ""},
		{"scalar example", EventType{Name: "a", Example: json.RawMessage(`42`)}, ""},
		{"no name", EventType{}, "name"},
		{"bad name", EventType{Name: "invoice paid"}, "name"},
		{"long description", EventType{Name: "a", Description: strings.Repeat("d", MaxDescriptionLen+1)}, "description"},
		{"schema not an object", EventType{Name: "a", Schema: json.RawMessage(`[]`)}, "schema"},
		{"schema not JSON", EventType{Name: "a", Schema: json.RawMessage(`{`)}, "schema"},
		{"schema too big", EventType{Name: "a", Schema: big}, "schema"},
		{"example not JSON", EventType{Name: "a", Example: json.RawMessage(`nope`)}, "example"},
		{"example too big", EventType{Name: "a", Example: big}, "example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.et.Check()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			if fe, ok := errors.AsType[*FieldError](err); !ok || fe.Field != tt.wantField {
				t.Fatalf("Check() = %v, want an error about %s", err, tt.wantField)
			}
		})
	}
}
