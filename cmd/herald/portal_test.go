package main

import (
	"strings"
	"testing"
)

func TestPortalCommands(t *testing.T) {
	e := newAPIEnv(t)
	e.ok(t, "app", "create", "--name", "Acme", "--uid", "acme")
	out := strings.TrimSpace(e.ok(t, "portal", "link", "--app", "acme"))
	if !strings.HasPrefix(out, e.url+"/portal/#token=hl_") || strings.Contains(out, "\n") {
		t.Errorf("portal link printed %q, want one link to %s/portal/", out, e.url)
	}
	var link struct {
		URL       string `json:"url"`
		ExpiresAt string `json:"expires_at"`
	}
	e.okJSON(t, &link, "portal", "link", "--app", "acme", "--expires-in", "24h", "--manage")
	if !strings.Contains(link.URL, "#token=") || link.ExpiresAt == "" {
		t.Errorf("portal link --json: %+v", link)
	}
	e.ok(t, "portal", "revoke", "--app", "acme")
	for _, tt := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"portal", "link"}, 2, "--app"},
		{[]string{"portal", "link", "--app", "acme", "--expires-in", "10s"}, 1, "expires_in"},
		{[]string{"portal", "link", "--app", "acme", "--endpoint", "ep_nope"}, 1, "endpoint_ids[0]"},
		{[]string{"portal", "link", "--app", "nope"}, 1, "not_found"},
	} {
		code, _, stderr := e.cli(t, "", tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.contains) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.contains)
		}
	}
}
