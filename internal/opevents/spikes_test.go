package opevents

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ingest"
)

func TestSpikeConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg SpikeConfig
		bad string
	}{
		{SpikeConfig{}, ""},
		{SpikeConfig{Window: time.Minute, MinRejections: 1, Rate: 1, Cooldown: time.Second}, ""},
		{SpikeConfig{Window: time.Millisecond}, "window"},
		{SpikeConfig{MinRejections: -1}, "at least 1"},
		{SpikeConfig{Rate: 1.5}, "rate"},
		{SpikeConfig{Rate: -0.1}, "rate"},
		{SpikeConfig{Cooldown: -time.Second}, "cooldown"},
	} {
		_, err := tc.cfg.withDefaults()
		if (tc.bad == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.bad)) {
			t.Errorf("%+v: %v, want an error containing %q", tc.cfg, err, tc.bad)
		}
	}
}

// TestSpikes feeds the detector a day of requests at chosen times and checks which
// start a spike: once per spike, none within the cooldown, and only past both the
// count and the share of rejections.
func TestSpikes(t *testing.T) {
	cfg, _ := SpikeConfig{Window: time.Minute, MinRejections: 5, Rate: 0.5, Cooldown: 10 * time.Minute}.withDefaults()
	s := newSpikes(cfg)
	src := &domain.Source{ID: "src_1", AppID: "app_1"}
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var fired []time.Time
	send := func(at time.Time, rejected bool) {
		if sp := s.observe(ingest.Received{Source: src, At: at, Rejected: rejected, Status: 401, Code: "invalid_signature"}); sp != nil {
			fired = append(fired, sp.at)
			if sp.rejected < cfg.MinRejections || sp.last.Code != "invalid_signature" || sp.src != src {
				t.Errorf("spike %+v", sp)
			}
		}
	}
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	// Many accepted requests: 4 rejections among 20 are no spike, nor are 5 among 20.
	for i := range 20 {
		send(sec(i), false)
	}
	for i := range 5 {
		send(sec(20+i), true)
	}
	if len(fired) != 0 {
		t.Fatalf("fired at %v with 5 rejections of 25 requests", fired)
	}
	// More rejections: the share crosses a half at 20 rejections of 40.
	for i := range 15 {
		send(sec(25+i), true)
	}
	if !slices.Equal(fired, []time.Time{sec(39)}) {
		t.Fatalf("fired at %v, want once at %v", fired, sec(39))
	}
	// The spike goes on: no second report.
	for i := range 30 {
		send(sec(40+i), true)
	}
	// It ends (the window slides past the rejections), then starts again within the cooldown.
	for i := range 60 {
		send(sec(120+i), false)
	}
	for i := range 100 {
		send(sec(200+i/2), true)
	}
	if len(fired) != 1 {
		t.Fatalf("fired at %v within the cooldown", fired)
	}
	// After the cooldown, a new spike is news.
	later := t0.Add(20 * time.Minute)
	for i := range 5 {
		send(later.Add(time.Duration(i)*time.Second), true)
	}
	if len(fired) != 2 || !fired[1].Equal(later.Add(4*time.Second)) {
		t.Fatalf("fired at %v, want a second spike at %v", fired, later.Add(4*time.Second))
	}
	// Quiet sources are forgotten.
	s.observe(ingest.Received{Source: &domain.Source{ID: "src_2"}, At: later.Add(time.Hour)})
	if _, ok := s.sources["src_1"]; ok {
		t.Fatal("a source quiet for an hour is still counted")
	}
}
