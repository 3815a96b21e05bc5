package domain

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRejectionExcerpt(t *testing.T) {
	many := map[string][]string{}
	for i := 0; i < 100; i++ {
		many[fmt.Sprintf("X-H%03d", i)] = []string{"v"}
	}
	huge := map[string][]string{}
	for i := 0; i < 20; i++ {
		huge[fmt.Sprintf("X-Big-%02d", i)] = []string{strings.Repeat("a", 900<<10/20)}
	}
	tests := []struct {
		name        string
		header      map[string][]string
		body        []byte
		wantHeaders map[string]string // nil: not checked beyond the limits
		wantBody    string
		wantCount   int
		wantHBytes  int64
	}{
		{
			name:        "small request kept whole, secrets dropped",
			header:      map[string][]string{"Content-Type": {"application/json"}, "Authorization": {"Bearer x"}, "Cookie": {"c=1"}, "X-Multi": {"a", "b"}},
			body:        []byte(`{"a":1}`),
			wantHeaders: map[string]string{"Content-Type": "application/json", "X-Multi": "a, b"},
			wantBody:    `{"a":1}`,
			wantCount:   4,
			wantHBytes:  int64(len("Content-Type") + len("application/json") + len("Authorization") + len("Bearer x") + len("Cookie") + len("c=1") + len("X-Multi") + 2),
		},
		{
			name:        "long value cut, long name dropped",
			header:      map[string][]string{"X-Long": {strings.Repeat("v", 5000)}, strings.Repeat("N", 200): {"x"}},
			wantHeaders: map[string]string{"X-Long": strings.Repeat("v", MaxRejectionHeaderValue)},
			wantCount:   2,
			wantHBytes:  int64(6 + 5000 + 200 + 1),
		},
		{
			name:        "cut on a rune boundary",
			header:      map[string][]string{"X-U": {strings.Repeat("é", 1000)}},
			body:        []byte(strings.Repeat("é", 3000)),
			wantHeaders: map[string]string{"X-U": strings.Repeat("é", MaxRejectionHeaderValue/2)},
			wantBody:    strings.Repeat("é", MaxRejectionBody/2),
			wantCount:   1,
			wantHBytes:  int64(3 + 2000),
		},
		{
			name:       "at most 32 headers, in name order",
			header:     many,
			wantCount:  100,
			wantHBytes: 100 * int64(len("X-H000")+1),
		},
		{
			name:       "900 KB of headers and a large body",
			header:     huge,
			body:       make([]byte, 1<<20),
			wantBody:   string(make([]byte, MaxRejectionBody)),
			wantCount:  20,
			wantHBytes: 20 * int64(len("X-Big-00")+900<<10/20),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := RejectionExcerpt(tt.header, tt.body)
			if tt.wantHeaders != nil && fmt.Sprint(ex.Headers) != fmt.Sprint(tt.wantHeaders) {
				t.Errorf("Headers = %.200v, want %.200v", ex.Headers, tt.wantHeaders)
			}
			if string(ex.Body) != tt.wantBody {
				t.Errorf("Body = %d bytes, want %d", len(ex.Body), len(tt.wantBody))
			}
			if ex.HeaderCount != tt.wantCount || ex.HeaderBytes != tt.wantHBytes || ex.BodyBytes != int64(len(tt.body)) {
				t.Errorf("sizes = %d headers, %d bytes, body %d; want %d, %d, %d", ex.HeaderCount, ex.HeaderBytes, ex.BodyBytes, tt.wantCount, tt.wantHBytes, len(tt.body))
			}
			total := 0
			for k, v := range ex.Headers {
				total += len(k) + len(v)
				if len(k) > MaxRejectionHeaderName || len(v) > MaxRejectionHeaderValue || !utf8.ValidString(v) {
					t.Errorf("header %.40q = %d bytes: over the limits or not UTF-8", k, len(v))
				}
			}
			if len(ex.Headers) > MaxRejectionHeaders || total > MaxRejectionHeaderBytes {
				t.Errorf("kept %d headers, %d bytes: over the limits", len(ex.Headers), total)
			}
			if tt.name == "at most 32 headers, in name order" {
				if len(ex.Headers) != MaxRejectionHeaders || ex.Headers["X-H000"] == "" || ex.Headers["X-H031"] == "" {
					t.Errorf("kept %v, want X-H000..X-H031", ex.Headers)
				}
			}
		})
	}
}

func TestCutUTF8(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"aé", 2, "a"},
		{"a€b", 3, "a"},
		{"\xff\xff\xff\xff\xff", 3, "\xff\xff\xff"},
	}
	for _, tt := range tests {
		if got := CutUTF8(tt.s, tt.n); got != tt.want {
			t.Errorf("CutUTF8(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
