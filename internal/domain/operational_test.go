package domain

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheckOperationalEventFilter(t *testing.T) {
	tests := []struct {
		types []string
		bad   string // part of the error, "" for valid
	}{
		{nil, ""},
		{[]string{}, ""},
		{[]string{"*"}, ""},
		{[]string{"endpoint.disabled", "message.attempt.exhausted"}, ""},
		{[]string{"endpoint.*"}, ""},
		{[]string{"message.*"}, ""},
		{[]string{"source.rejections.spiking"}, ""},
		{[]string{"endpoint.disabld"}, `event_types[0] matches no operational event type`},
		{[]string{"endpoint.created", "invoice.paid"}, `event_types[1] matches no operational event type`},
		{[]string{"invoice.*"}, `matches no operational event type`},
		{[]string{"bad type"}, `event_types[0]`},
	}
	for _, tc := range tests {
		err := CheckOperationalEventFilter(tc.types)
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%q: %v", tc.types, err)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("%q: error %v, want one containing %q", tc.types, err, tc.bad)
		}
	}
}

func TestOperationalEventTypesAreTypeNames(t *testing.T) {
	all := OperationalEventTypes()
	for _, typ := range all {
		if err := CheckEventType("type", typ); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(all)))) != len(all) {
		t.Errorf("duplicate types in %v", all)
	}
}

func TestDisabledCause(t *testing.T) {
	for reason, want := range map[string]string{
		GoneReason:                          DisabledGone,
		ReceiverDisableReason:               DisabledReceiver,
		"failing continuously for 120h0m0s": DisabledFailing,
	} {
		if got := DisabledCause(reason); got != want {
			t.Errorf("DisabledCause(%q) = %q, want %q", reason, got, want)
		}
	}
}

func TestEndpointChanges(t *testing.T) {
	f, err := ParseFilter([]byte(`{"payload":{"a":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	base := func() *Endpoint {
		return &Endpoint{
			URL: "https://a.example", Description: "d", EventTypes: []string{"a.b"}, Headers: map[string]string{"X": "1"},
			State: EndpointEnabled, Metadata: map[string]string{"k": "v"}, Filter: f, RetrySchedule: []time.Duration{time.Second},
		}
	}
	tests := []struct {
		name   string
		change func(e *Endpoint)
		want   []string
	}{
		{"nothing", func(e *Endpoint) {}, nil},
		{"state and times are not settings", func(e *Endpoint) {
			e.SetState(EndpointDisabled, "x")
			e.UpdatedAt = time.Now()
			now := time.Now()
			e.FailingSince = &now
		}, nil},
		{"url", func(e *Endpoint) { e.URL = "https://b.example" }, []string{"url"}},
		{"several", func(e *Endpoint) {
			e.EventTypes = nil
			e.Headers = map[string]string{"X": "2"}
			e.Filter = nil
			e.RetrySchedule = nil
			e.Metadata = nil
		}, []string{"event_types", "headers", "filter", "retry_schedule", "metadata"}},
		{"limits", func(e *Endpoint) {
			e.MaxConcurrency, e.RateLimit, e.TimeoutMS, e.FIFO, e.SourceID = 2, 1.5, 2000, true, "src_1"
		}, []string{"max_concurrency", "rate_limit", "timeout_ms", "fifo", "source_id"}},
	}
	for _, tc := range tests {
		next := base()
		tc.change(next)
		if got := EndpointChanges(base(), next); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
