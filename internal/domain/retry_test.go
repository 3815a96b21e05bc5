package domain

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRetrySchedule(t *testing.T) {
	many := make([]string, MaxRetrySchedule+1)
	for i := range many {
		many[i] = "1s"
	}
	tests := []struct {
		name      string
		in        []string
		want      []time.Duration
		wantField string
	}{
		{"empty: the server's", nil, []time.Duration{}, ""},
		{"typical", []string{"5s", "1m", "10m", "1h"}, []time.Duration{5 * time.Second, time.Minute, 10 * time.Minute, time.Hour}, ""},
		{"spaces and compound", []string{" 1h30m "}, []time.Duration{90 * time.Minute}, ""},
		{"bounds", []string{"1s", "168h"}, []time.Duration{time.Second, 168 * time.Hour}, ""},
		{"not a duration", []string{"5s", "soon"}, nil, "retry_schedule[1]"},
		{"no unit", []string{"5"}, nil, "retry_schedule[0]"},
		{"too short", []string{"500ms"}, nil, "retry_schedule[0]"},
		{"negative", []string{"-5s"}, nil, "retry_schedule[0]"},
		{"too long a step", []string{"169h"}, nil, "retry_schedule[0]"},
		{"too many steps", many, nil, "retry_schedule"},
		{"too long a span", []string{"168h", "168h", "168h", "168h", "168h"}, nil, "retry_schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRetrySchedule(tt.in)
			if tt.wantField != "" {
				fe, ok := errors.AsType[*FieldError](err)
				if !ok || fe.Field != tt.wantField {
					t.Fatalf("error %v, want a *FieldError for %s", err, tt.wantField)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("= %v, %v; want %v", got, err, tt.want)
			}
			// What is stored reads back the same.
			again, err := ParseRetrySchedule(FormatRetrySchedule(got))
			if err != nil || !slices.Equal(again, got) {
				t.Errorf("round trip through %q: %v, %v", FormatRetrySchedule(got), again, err)
			}
		})
	}
	if got := strings.Join(FormatRetrySchedule([]time.Duration{5 * time.Second, time.Minute, 90 * time.Minute, 2 * time.Hour}), ","); got != "5s,1m,1h30m,2h" {
		t.Errorf("FormatRetrySchedule = %s", got)
	}
}

func TestParseDirective(t *testing.T) {
	tests := []struct {
		value string
		want  Directive
	}{
		{"", DirectiveNone},
		{"abort", DirectiveAbort},
		{" Abort ", DirectiveAbort},
		{"abort-message", DirectiveAbort}, // Svix's spelling
		{"disable", DirectiveDisable},
		{"DISABLE", DirectiveDisable},
		{"retry", DirectiveNone},
		{"disable,abort", DirectiveNone},
	}
	for _, tt := range tests {
		if got := ParseDirective(tt.value); got != tt.want {
			t.Errorf("ParseDirective(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
	if DirectiveAbort.String() != "abort" || DirectiveDisable.String() != "disable" || DirectiveNone.String() != "" {
		t.Error("Directive.String")
	}
}
