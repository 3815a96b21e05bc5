package ids

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewFormat(t *testing.T) {
	tests := []struct {
		prefix  string
		wantLen int
	}{
		{"msg", len("msg_") + ULIDLen},
		{"ep", len("ep_") + ULIDLen},
		{"", ULIDLen},
	}
	for _, tt := range tests {
		id := New(tt.prefix)
		if len(id) != tt.wantLen {
			t.Errorf("New(%q) = %q, length %d, want %d", tt.prefix, id, len(id), tt.wantLen)
		}
		if !Valid(tt.prefix, id) {
			t.Errorf("Valid(%q, %q) = false, want true", tt.prefix, id)
		}
	}
}

// TestKnownEncoding checks the encoding against a ULID computed independently:
// timestamp 1469918176385 with an all-zero random part is "01ARYZ6S41" + 16 zeros.
func TestKnownEncoding(t *testing.T) {
	var u [16]byte
	ms := uint64(1469918176385)
	for i := 5; i >= 0; i-- {
		u[i] = byte(ms)
		ms >>= 8
	}
	if got, want := encode(&u), "01ARYZ6S410000000000000000"; got != want {
		t.Errorf("encode = %q, want %q", got, want)
	}
	for i := range u {
		u[i] = 0xff
	}
	if got, want := encode(&u), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"; got != want {
		t.Errorf("encode(max) = %q, want %q", got, want)
	}
}

func TestSorted(t *testing.T) {
	const n = 100_000
	g := NewGenerator()
	got := make([]string, n)
	for i := range got {
		got[i] = g.New("msg")
	}
	for i := 1; i < n; i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("id %d %q is not greater than id %d %q", i, got[i], i-1, got[i-1])
		}
	}
}

func TestUnique(t *testing.T) {
	const n = 100_000
	seen := make(map[string]bool, n)
	for range n {
		id := New("msg")
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestConcurrent(t *testing.T) {
	const workers, perWorker = 8, 5_000
	g := NewGenerator()
	results := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ids := make([]string, perWorker)
			for i := range ids {
				ids[i] = g.New("evt")
			}
			results[w] = ids
		})
	}
	wg.Wait()

	seen := make(map[string]bool, workers*perWorker)
	for w, ids := range results {
		if !slices.IsSorted(ids) {
			t.Errorf("worker %d: ids are not increasing", w)
		}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("duplicate id %q", id)
			}
			seen[id] = true
		}
	}
}

func TestMonotonicClock(t *testing.T) {
	base := time.UnixMilli(1_700_000_000_000)
	tests := []struct {
		name  string
		times []time.Time // the clock reading for each successive id
	}{
		{"same millisecond", []time.Time{base, base, base, base}},
		{"clock steps backwards", []time.Time{base, base.Add(-time.Second), base.Add(-time.Hour)}},
		{"advancing", []time.Time{base, base.Add(time.Millisecond), base.Add(time.Second)}},
		{"sub-millisecond", []time.Time{base, base.Add(100 * time.Microsecond), base.Add(900 * time.Microsecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := 0
			g := &Generator{now: func() time.Time { return tt.times[i] }}
			var prev string
			for i = range tt.times {
				id := g.New("x")
				if id <= prev {
					t.Fatalf("id %d %q is not greater than %q", i, id, prev)
				}
				prev = id
			}
		})
	}
}

func TestSameMillisecondIncrements(t *testing.T) {
	ts := time.UnixMilli(1_700_000_000_000)
	g := &Generator{now: func() time.Time { return ts }}
	a, b := g.New(""), g.New("")
	if a[:10] != b[:10] {
		t.Fatalf("timestamps differ within one millisecond: %q, %q", a, b)
	}
	ahi, alo := decode(t, a)
	bhi, blo := decode(t, b)
	wantHi, wantLo := ahi, alo+1
	if wantLo == 0 {
		wantHi++
	}
	if bhi != wantHi || blo != wantLo {
		t.Errorf("%q is not %q plus one", b, a)
	}
}

// decode returns the 128-bit value of the ULID u as two 64-bit halves.
func decode(t *testing.T, u string) (hi, lo uint64) {
	t.Helper()
	for i := 0; i < len(u); i++ {
		v := strings.IndexByte(alphabet, u[i])
		if v < 0 {
			t.Fatalf("bad character in %q", u)
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(v)
	}
	return hi, lo
}

func TestRandomOverflow(t *testing.T) {
	ts := time.UnixMilli(1_700_000_000_000)
	g := &Generator{now: func() time.Time { return ts }}
	first := g.New("x")
	g.mu.Lock()
	for i := range g.last {
		g.last[i] = 0xff
	}
	g.mu.Unlock()
	second := g.New("x")
	if second <= first {
		t.Fatalf("after overflow %q is not greater than %q", second, first)
	}
	got, ok := Time(second)
	if !ok || !got.Equal(ts.Add(time.Millisecond)) {
		t.Errorf("after overflow Time = %v, %v; want %v, true", got, ok, ts.Add(time.Millisecond))
	}
}

func TestIncrement(t *testing.T) {
	tests := []struct {
		in, want [10]byte
		ok       bool
	}{
		{[10]byte{}, [10]byte{9: 1}, true},
		{[10]byte{9: 0xff}, [10]byte{8: 1}, true},
		{[10]byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, [10]byte{1}, true},
		{[10]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, [10]byte{}, false},
	}
	for _, tt := range tests {
		b := tt.in
		ok := increment(&b)
		if b != tt.want || ok != tt.ok {
			t.Errorf("increment(%x) = %x, %v; want %x, %v", tt.in, b, ok, tt.want, tt.ok)
		}
	}
}

func TestTimeRoundTrip(t *testing.T) {
	tests := []time.Time{
		time.UnixMilli(0),
		time.UnixMilli(1),
		time.Date(2025, 11, 3, 14, 5, 6, 789_654_321, time.UTC),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		time.UnixMilli(maxTime),
	}
	for _, ts := range tests {
		g := &Generator{now: func() time.Time { return ts }}
		id := g.New("msg")
		got, ok := Time(id)
		want := ts.Truncate(time.Millisecond)
		if !ok || !got.Equal(want) {
			t.Errorf("Time(%q) = %v, %v; want %v, true", id, got, ok, want)
		}
	}

	before := time.Now().Truncate(time.Millisecond)
	id := New("msg")
	after := time.Now()
	got, ok := Time(id)
	if !ok || got.Before(before) || got.After(after) {
		t.Errorf("Time(New) = %v, %v; want between %v and %v", got, ok, before, after)
	}
}

func TestTimeInvalid(t *testing.T) {
	for _, id := range []string{
		"",
		"msg_",
		"msg_01ARYZ6S41",
		"msg_01ARYZ6S410000000000000000X",   // too long
		"msg_81ARYZ6S410000000000000000",    // overflows 128 bits
		"msg_01ARYZ6S41000000000000000U",    // U is not in the alphabet
		"msg_01aryz6s410000000000000000",    // lower case
		"msg_01ARYZ6S41-000000000000000",    // punctuation
		"msg_01ARYZ6S41000000000000000\xff", // not ASCII
	} {
		if got, ok := Time(id); ok {
			t.Errorf("Time(%q) = %v, true; want false", id, got)
		}
	}
}

func TestValid(t *testing.T) {
	good := "01ARYZ6S410000000000000000"
	tests := []struct {
		prefix, id string
		want       bool
	}{
		{"msg", "msg_" + good, true},
		{"msg", "msg_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", true},
		{"", good, true},
		{"msg", "ep_" + good, false},
		{"msg", "msgx_" + good, false},
		{"msg", "msg" + good, false},
		{"msg", "msg__" + good, false},
		{"msg", "msg_" + good + "0", false},
		{"msg", "msg_" + good[1:], false},
		{"msg", "msg_", false},
		{"msg", "", false},
		{"msg", "msg_" + strings.ToLower(good), false},
		{"msg", "msg_01ARYZ6S41000000000000000I", false},
		{"msg", "msg_01ARYZ6S41000000000000000L", false},
		{"msg", "msg_01ARYZ6S41000000000000000O", false},
		{"msg", "msg_01ARYZ6S41000000000000000U", false},
		{"msg", "msg_81ARYZ6S410000000000000000", false},
		{"msg", " msg_" + good, false},
		{"", "msg_" + good, false},
		{"", "_" + good, false},
	}
	for _, tt := range tests {
		if got := Valid(tt.prefix, tt.id); got != tt.want {
			t.Errorf("Valid(%q, %q) = %v, want %v", tt.prefix, tt.id, got, tt.want)
		}
	}
}

func TestFloor(t *testing.T) {
	at := time.UnixMilli(1_750_000_000_123)
	g := &Generator{now: func() time.Time { return at }}
	id := g.New("msg")
	if f := Floor("msg", at); !(f <= id) || !(Floor("msg", at.Add(time.Millisecond)) > id) || !(Floor("msg", at.Add(-time.Millisecond)) < id) {
		t.Fatalf("Floor does not bracket %s: %s", id, f)
	}
	if got, ok := Time(Floor("att", at)); !ok || !got.Equal(at) {
		t.Fatalf("Time(Floor) = %v %v", got, ok)
	}
}

// TestNewAllocs checks that an id costs one allocation, its string: every message,
// delivery and attempt gets one.
func TestNewAllocs(t *testing.T) {
	if allocs := testing.AllocsPerRun(100, func() { _ = New("msg") }); allocs > 1 {
		t.Errorf("New allocates %.0f times, want 1", allocs)
	}
}

// TestNewAt checks that NewAt's ids carry the time given, at or above Floor of that
// time and below Floor of the next millisecond, increasing within a millisecond even
// after an id for a later time.
func TestNewAt(t *testing.T) {
	g := NewGenerator()
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	later := g.NewAt("msg", at.Add(time.Hour))
	a, b := g.NewAt("msg", at), g.NewAt("msg", at)
	if !(a < b && b < later) {
		t.Fatalf("ids %s, %s, then (made earlier, for a later time) %s: want increasing", a, b, later)
	}
	for _, id := range []string{a, b} {
		if got, ok := Time(id); !ok || !got.Equal(at) {
			t.Errorf("Time(%s) = %v, want %v", id, got, at)
		}
		if id < Floor("msg", at) || id >= Floor("msg", at.Add(time.Millisecond)) {
			t.Errorf("%s is outside [Floor(t), Floor(t+1ms))", id)
		}
	}
}
