package delivery

import (
	"testing"
	"time"
)

func TestPolicy(t *testing.T) {
	p := Policy{Schedule: []time.Duration{5 * time.Second, time.Minute}, Jitter: 0.2, MaxRetryAfter: time.Hour}
	now := time.Unix(0, 0)
	for i := 0; i < 100; i++ {
		next, ok := p.Next(1, now, 0)
		if d := next.Sub(now); !ok || d < 4*time.Second || d > 6*time.Second {
			t.Fatalf("step 1 delay %s outside 5s ± 20%%", d)
		}
	}
	if _, ok := p.Next(3, now, 0); ok {
		t.Fatal("retry after the schedule ended")
	}
	if next, _ := p.Next(2, now, 3*time.Hour); next.Sub(now) != time.Hour {
		t.Fatalf("Retry-After of 3h not capped at 1h: %s", next.Sub(now))
	}
	if next, _ := p.Next(1, now, 30*time.Second); next.Sub(now) != 30*time.Second {
		t.Fatalf("Retry-After 30s not honoured: %s", next.Sub(now))
	}
	if _, err := ParseSchedule("5s, 1m,2h"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "5x", "-1s"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}
