package domain

import (
	"strings"
	"testing"
)

func TestCheckSourceUID(t *testing.T) {
	tests := []struct {
		uid  string
		want string // a part of the error; "" for none
	}{
		{"", ""},
		{"stripe", ""},
		{"stripe-live-2", ""},
		{"a", ""},
		{"9", ""},
		{strings.Repeat("a", MaxSourceUIDLen), ""},
		{strings.Repeat("a", MaxSourceUIDLen+1), "bytes long"},
		{"Stripe", "lowercase slug"},
		{"src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C", "lowercase slug"},
		{"-stripe", "lowercase slug"},
		{"stripe-", "lowercase slug"},
		{"stripe live", "lowercase slug"},
		{"stripe/live", "lowercase slug"},
		{"stripe.live", "lowercase slug"},
		{"strïpe", "lowercase slug"},
		{"stripe\x00", "lowercase slug"},
		{"%2e%2e", "lowercase slug"},
	}
	for _, tt := range tests {
		err := CheckSourceUID(tt.uid)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckSourceUID(%q) = %v, want nil", tt.uid, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "uid ")):
			t.Errorf("CheckSourceUID(%q) = %v, want an error about %q", tt.uid, err, tt.want)
		}
		if IsSourceUID(tt.uid) != (tt.uid != "" && tt.want == "") {
			t.Errorf("IsSourceUID(%q) = %v", tt.uid, IsSourceUID(tt.uid))
		}
	}
}
