package domain

import (
	"testing"
	"time"
)

func TestMatchEventType(t *testing.T) {
	tests := []struct {
		filter    []string
		eventType string
		want      bool
	}{
		{nil, "response.completed", true},
		{[]string{}, "anything", true},
		{[]string{"*"}, "response.completed", true},
		{[]string{"response.completed"}, "response.completed", true},
		{[]string{"response.completed"}, "response.failed", false},
		{[]string{"response.*"}, "response.completed", true},
		{[]string{"response.*"}, "response.", false},           // the wildcard needs something after the dot
		{[]string{"response.*"}, "response", false},            // not the prefix itself
		{[]string{"response.*"}, "responses.completed", false}, // a prefix of names, not of bytes
		{[]string{"response.*"}, "response.output.done", true},
		{[]string{"batch.completed", "response.*"}, "batch.completed", true},
		{[]string{"batch.completed", "response.*"}, "batch.failed", false},
		{[]string{"*.completed"}, "batch.completed", false}, // only trailing wildcards
		{[]string{".*"}, "x", false},
	}
	for _, tt := range tests {
		if got := MatchEventType(tt.filter, tt.eventType); got != tt.want {
			t.Errorf("MatchEventType(%q, %q) = %v, want %v", tt.filter, tt.eventType, got, tt.want)
		}
	}
}

func TestSubscriptionAccepts(t *testing.T) {
	tests := []struct {
		name      string
		sub       Subscription
		eventType string
		sourceID  string
		want      bool
	}{
		{"all events from anywhere", Subscription{}, "x.y", "", true},
		{"all events, a source's message", Subscription{}, "x.y", "src_1", true},
		{"source-bound, same source", Subscription{SourceID: "src_1"}, "x.y", "src_1", true},
		{"source-bound, other source", Subscription{SourceID: "src_1"}, "x.y", "src_2", false},
		{"source-bound, API publish", Subscription{SourceID: "src_1"}, "x.y", "", false},
		{"type filter applies with a source", Subscription{EventTypes: []string{"a.*"}, SourceID: "src_1"}, "b.c", "src_1", false},
		{"type and source match", Subscription{EventTypes: []string{"a.*"}, SourceID: "src_1"}, "a.c", "src_1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sub.Accepts(tt.eventType, tt.sourceID); got != tt.want {
				t.Errorf("Accepts(%q, %q) = %v, want %v", tt.eventType, tt.sourceID, got, tt.want)
			}
			e := &Endpoint{EventTypes: tt.sub.EventTypes, SourceID: tt.sub.SourceID}
			if got := e.Accepts(tt.eventType, tt.sourceID); got != tt.want {
				t.Errorf("Endpoint.Accepts(%q, %q) = %v, want %v", tt.eventType, tt.sourceID, got, tt.want)
			}
		})
	}
}

func TestSetState(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name        string
		from, to    string
		fromReason  string
		reason      string
		wantReason  string
		keepFailing bool
	}{
		{"enable a disabled endpoint clears the streak and reason", EndpointDisabled, EndpointEnabled, "410 Gone", "", "", false},
		{"enable a paused endpoint clears the streak", EndpointPaused, EndpointEnabled, "", "", "", false},
		{"enable an enabled endpoint keeps the streak", EndpointEnabled, EndpointEnabled, "", "", "", true},
		{"pause keeps the streak, drops a reason", EndpointEnabled, EndpointPaused, "", "ignored", "", true},
		{"disable with a reason", EndpointEnabled, EndpointDisabled, "", "failing since yesterday", "failing since yesterday", true},
		{"disable by a user", EndpointEnabled, EndpointDisabled, "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := since
			e := &Endpoint{State: tt.from, DisabledReason: tt.fromReason, FailingSince: &s}
			e.SetState(tt.to, tt.reason)
			if e.State != tt.to || e.DisabledReason != tt.wantReason {
				t.Errorf("state %q reason %q, want %q %q", e.State, e.DisabledReason, tt.to, tt.wantReason)
			}
			if (e.FailingSince != nil) != tt.keepFailing {
				t.Errorf("failing since %v, want kept: %v", e.FailingSince, tt.keepFailing)
			}
		})
	}
}

func TestValidStateAndKinds(t *testing.T) {
	for _, s := range []string{EndpointEnabled, EndpointPaused, EndpointDisabled} {
		if !ValidState(s) {
			t.Errorf("ValidState(%q) = false", s)
		}
	}
	for _, s := range []string{"", "Enabled", "deleted"} {
		if ValidState(s) {
			t.Errorf("ValidState(%q) = true", s)
		}
	}
	l := &Endpoint{Kind: KindListener, URL: ListenerURL("laptop")}
	if !l.IsListener() || l.URL != "listen:laptop" {
		t.Errorf("listener endpoint %+v", l)
	}
	if (&Endpoint{URL: "listen:laptop"}).IsListener() {
		t.Error("an http endpoint whose URL looks like a listener's is not a listener")
	}
}
