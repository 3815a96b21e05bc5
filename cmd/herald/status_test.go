package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
)

// TestPrintStatus checks the parts of herald status a quiet test server never shows:
// empty sections, counts at their limit, lists cut short, operational endpoints.
func TestPrintStatus(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	quiet := &client.Status{Now: now, NodeID: "n1", Nodes: []client.Node{{ID: "n1", StartedAt: now, HeartbeatAt: now}},
		Backlog: client.StatusBacklog{CountLimit: 100000}, RejectionsSince: now.Add(-time.Hour)}
	busy := *quiet
	busy.Backlog = client.StatusBacklog{Pending: 100000, Due: 100000, CountLimit: 100000, OldestDueAt: ptr(now.Add(-26 * time.Hour))}
	busy.FailingEndpoints = []client.StatusFailingEndpoint{{EndpointID: "ep_1", AppID: "app_op", Operational: true, FailingSince: now.Add(-90 * time.Second),
		LastAttempt: &client.StatusAttempt{StartedAt: now, Error: "dial tcp: connection refused"}}}
	busy.FailingEndpointsMore = true
	busy.RejectingSources = []client.StatusRejectingSource{{SourceID: "src_1", AppID: "app_1", Rejections: 3}}
	busy.RejectingSourcesMore = true
	for _, tc := range []struct {
		name string
		st   *client.Status
		want []string
	}{
		{"quiet", quiet, []string{"pending     0", "oldest due  none due", "FAILING ENDPOINTS: none", "SOURCES WITH REJECTIONS SINCE", ": none",
			"(0 attempts in 0 minutes, 0 failed)"}},
		{"busy", &busy, []string{"pending     100000+", "due now     100000+", "due 1d02h ago", "(the 1 failing longest; more not shown)",
			"(operational)", "(1m30s ago)", "dial tcp: connection refused", "(the 1 with the most; more not shown)"}},
	} {
		var b bytes.Buffer
		if err := printStatus(&b, "http://h", tc.st); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in\n%s", tc.name, w, b.String())
			}
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		-time.Second: "0s ago", 0: "0s ago", 59 * time.Second: "59s ago", 61 * time.Second: "1m01s ago",
		2*time.Hour + 5*time.Minute: "2h05m ago", 50 * time.Hour: "2d02h ago",
	} {
		if got := ago(now, now.Add(-d)); got != want {
			t.Errorf("ago(%s) = %q, want %q", d, got, want)
		}
	}
}
