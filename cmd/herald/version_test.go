package main

import (
	"regexp"
	"runtime/debug"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	recorded := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/heraldhq/herald", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	tests := []struct {
		name                string
		bi                  *debug.BuildInfo
		ldVersion, ldCommit string
		wantV, wantC        string
	}{
		{"no build info", nil, "", "", "(devel)", "unknown"},
		{"a checkout", recorded("(devel)", "vcs.revision", rev, "vcs.modified", "false"), "", "", "(devel)", "0123456789ab"},
		{"a checkout with changes", recorded("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "", "", "(devel)", "0123456789ab-dirty"},
		{"go install @version", recorded("v1.2.0"), "", "", "v1.2.0", "unknown"},
		{"ldflags win", recorded("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "v1.3.0", "fedcba9876543210", "v1.3.0", "fedcba987654"},
		{"ldflags version only", recorded("(devel)", "vcs.revision", rev), "v1.3.0", "", "v1.3.0", "0123456789ab"},
		{"a short commit", nil, "", "abc", "(devel)", "abc"},
	}
	for _, tt := range tests {
		v, c := versionCommit(tt.bi, tt.ldVersion, tt.ldCommit)
		if v != tt.wantV || c != tt.wantC {
			t.Errorf("%s: versionCommit = %q, %q; want %q, %q", tt.name, v, c, tt.wantV, tt.wantC)
		}
	}
	code, out, _ := runCLI(t, "", "version")
	if code != 0 || !regexp.MustCompile(`^herald \S+ \(commit \S+\) go\S+ \w+/\w+ sqlite/(modernc|mattn)\n$`).MatchString(out) {
		t.Errorf("herald version: exit %d, %q", code, out)
	}
}
