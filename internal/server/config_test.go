package server

import "testing"

func TestFrameAncestors(t *testing.T) {
	tests := []struct {
		origins []string
		want    string // "" when refused
	}{
		{nil, "'none'"},
		{[]string{"https://app.example.com"}, "https://app.example.com"},
		{[]string{"https://app.example.com", "https://*.example.org", "http://localhost:3000"}, "https://app.example.com https://*.example.org http://localhost:3000"},
		{[]string{"app.example.com"}, ""},
		{[]string{"https://a.example.com; script-src *"}, ""},
		{[]string{"https://a.example.com/path"}, ""},
		{[]string{"javascript:alert(1)"}, ""},
		{[]string{"'self'"}, ""},
		{[]string{"https://*"}, ""},
	}
	for _, tt := range tests {
		err := checkFrameAncestors(tt.origins)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%q accepted", tt.origins)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.origins, err)
		}
		if got := (Config{PortalFrameAncestors: tt.origins}).FrameAncestors(); got != tt.want {
			t.Errorf("FrameAncestors() = %q, want %q", got, tt.want)
		}
	}
}
