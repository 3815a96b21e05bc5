package domain

import (
	"strings"
	"testing"
	"time"
)

func TestReplayJobCheck(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	old := t0.Add(-365 * 24 * time.Hour)
	for _, tt := range []struct {
		name string
		job  ReplayJob
		err  string // the start of the error; "" for none
	}{
		{"everything since", ReplayJob{Since: old, Until: t0}, ""},
		{"no since", ReplayJob{Until: t0}, "since is required"},
		{"failed and succeeded", ReplayJob{Since: old, Statuses: []string{DeliveryFailed, DeliverySucceeded}, Until: t0}, ""},
		{"pending", ReplayJob{Since: old, Statuses: []string{DeliveryPending}, Until: t0}, "status[0] must be succeeded"},
		{"twice", ReplayJob{Since: old, Statuses: []string{DeliveryFailed, DeliveryFailed}, Until: t0}, `status[1] repeats "failed"`},
		{"wildcards", ReplayJob{Since: old, EventTypes: []string{"invoice.*", "customer.created"}, Until: t0}, ""},
		{"a bad type", ReplayJob{Since: old, EventTypes: []string{"ok", "<script>"}, Until: t0}, "event_types[1] must be"},
		{"since after until", ReplayJob{Since: t0, Until: t0}, "until must be after since"},
		{"since before until", ReplayJob{Since: t0.Add(-time.Hour), Until: t0}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.job.Check()
			if (err == nil) != (tt.err == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.err)) {
				t.Errorf("Check() = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestReplayJobMatches(t *testing.T) {
	all := &ReplayJob{}
	failed := &ReplayJob{Statuses: []string{DeliveryFailed}, EventTypes: []string{"invoice.*"}}
	for _, tt := range []struct {
		job           *ReplayJob
		status, state string
		want          bool
	}{
		{all, DeliverySucceeded, EndpointEnabled, true},
		{all, DeliveryFailed, EndpointPaused, true},
		{all, DeliveryPending, EndpointEnabled, false},
		{all, DeliveryFailed, EndpointDisabled, false},
		{failed, DeliveryFailed, EndpointEnabled, true},
		{failed, DeliverySucceeded, EndpointEnabled, false},
	} {
		if got := tt.job.MatchesDelivery(tt.status, tt.state); got != tt.want {
			t.Errorf("%+v.MatchesDelivery(%s, %s) = %v", tt.job.Statuses, tt.status, tt.state, got)
		}
	}
	if !failed.MatchesType("invoice.paid") || failed.MatchesType("customer.created") || !all.MatchesType("anything") {
		t.Error("MatchesType does not follow the event type filter")
	}
}

func TestReplayJobProgress(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	first := t0.Add(time.Hour)
	for _, tt := range []struct {
		name string
		job  ReplayJob
		want float64
	}{
		{"not started", ReplayJob{Since: t0, Until: t0.Add(4 * time.Hour)}, 0},
		{"a quarter", ReplayJob{Since: t0, Until: t0.Add(4 * time.Hour), CursorID: "msg_1", CursorAt: t0.Add(time.Hour)}, 0.25},
		{"from the first message", ReplayJob{Until: t0.Add(3 * time.Hour), FirstAt: &first, CursorID: "msg_1", CursorAt: t0.Add(2 * time.Hour)}, 0.5},
		{"no since, nothing seen", ReplayJob{Until: t0}, 0},
		{"done", ReplayJob{State: ReplayDone, Until: t0}, 1},
	} {
		if got := tt.job.Progress(); got != tt.want {
			t.Errorf("%s: Progress() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestListenerConnected(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at, fresh, stale := now.Add(-time.Hour), now.Add(-time.Minute), now.Add(-ListenerFresh-time.Second)
	for _, tt := range []struct {
		name string
		p    ListenerPresence
		here bool
		want bool
	}{
		{"never connected", ListenerPresence{}, false, false},
		{"attached here, not yet recorded", ListenerPresence{}, true, true},
		{"recorded here, attached", ListenerPresence{ConnectedAt: &at, Node: "me", SeenAt: &fresh}, true, true},
		{"recorded here, gone (a crash)", ListenerPresence{ConnectedAt: &at, Node: "me", SeenAt: &fresh}, false, false},
		{"on another node, fresh", ListenerPresence{ConnectedAt: &at, Node: "other", SeenAt: &fresh}, false, true},
		{"on another node, stale", ListenerPresence{ConnectedAt: &at, Node: "other", SeenAt: &stale}, false, false},
	} {
		if got := tt.p.Connected(now, "me", tt.here); got != tt.want {
			t.Errorf("%s: Connected = %v, want %v", tt.name, got, tt.want)
		}
	}
}
