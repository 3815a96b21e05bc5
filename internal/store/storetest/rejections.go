package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook/diagnose"
)

// checkRejectionDiagnosis records a rejection with a diagnosis over the limits and
// checks what reads back: the first findings, their texts cut, nothing else changed.
func checkRejectionDiagnosis(t *testing.T, s store.SourceStore, appID, srcID string) {
	t.Helper()
	long := strings.Repeat("é", domain.MaxRejectionFindingText) // twice the limit in bytes
	var findings []diagnose.Finding
	for i := 0; i < domain.MaxRejectionFindings+2; i++ {
		findings = append(findings, diagnose.Finding{Code: fmt.Sprintf("code_%d", i), Message: "Naïve “quotes” <b>.", Hint: long, Confirmed: i == 0})
	}
	r := &domain.Rejection{ID: ids.New("rej"), SourceID: srcID, AppID: appID, ReceivedAt: base.Add(time.Second), Status: 401,
		Code: "invalid_signature", Message: "m", Diagnosis: findings}
	must(t, s.RecordRejection(ctx, r))
	rs, _, err := s.ListRejections(ctx, appID, srcID, store.Page{Limit: 1})
	must(t, err)
	if len(rs) != 1 || rs[0].ID != r.ID {
		t.Fatalf("ListRejections = %+v, want %s first", rs, r.ID)
	}
	got := rs[0].Diagnosis
	if len(got) != domain.MaxRejectionFindings {
		t.Fatalf("%d findings read back, want %d", len(got), domain.MaxRejectionFindings)
	}
	for i, f := range got {
		if f.Code != findings[i].Code || f.Message != findings[i].Message || f.Confirmed != (i == 0) ||
			len(f.Hint) > domain.MaxRejectionFindingText || !strings.HasPrefix(long, f.Hint) || len(f.Hint) < domain.MaxRejectionFindingText-2 {
			t.Fatalf("finding %d read back as %+v", i, f)
		}
	}
}

// LimitsFactory returns a new, empty store that keeps rejections within l; the suite closes it.
type LimitsFactory func(t *testing.T, l store.RejectionLimits) store.Store

// RunRejectionLimits checks that a store keeps rejections within its budget of rows and
// bytes and its retention, deleting the oldest first.
func RunRejectionLimits(t *testing.T, newStore LimitsFactory) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	body := []byte(strings.Repeat("b", 3<<10))
	tests := []struct {
		name   string
		limits store.RejectionLimits
		at     []time.Time // when each rejection is recorded, in order
		purge  bool        // run Purge after recording
		want   []int       // indexes of the rejections left
	}{
		{"rows", store.RejectionLimits{MaxRows: 3, CheckEvery: 1}, times(base, 6), false, []int{3, 4, 5}},
		{"bytes", store.RejectionLimits{MaxBytes: 10 << 10, CheckEvery: 1}, times(base, 6), false, []int{3, 4, 5}},
		{"checked every third", store.RejectionLimits{MaxRows: 2, CheckEvery: 3}, times(base, 5), false, []int{1, 2, 3, 4}},
		{"no budget", store.RejectionLimits{MaxRows: -1, MaxBytes: -1, Retention: -1}, times(base, 4), false, []int{0, 1, 2, 3}},
		{"retention on write", store.RejectionLimits{Retention: time.Hour}, []time.Time{base, base.Add(30 * time.Minute), base.Add(80 * time.Minute)}, false, []int{1, 2}},
		{"retention on purge", store.RejectionLimits{Retention: time.Hour}, []time.Time{now, now.Add(-90 * time.Minute)}, true, []int{0}},
		{"default retention on purge", store.RejectionLimits{}, []time.Time{now.Add(-6 * 24 * time.Hour), now.Add(-8 * 24 * time.Hour)}, true, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, tt.limits)
			t.Cleanup(func() { s.Close() })
			ss, ok := s.(store.SourceStore)
			if !ok {
				t.Skip("not a SourceStore")
			}
			a := newApp(t, s)
			src := &domain.Source{ID: ids.New("src"), AppID: a.ID, Name: "in", Provider: "github", Secrets: []string{"s"}, CreatedAt: base, UpdatedAt: base}
			must(t, ss.CreateSource(ctx, src))
			var recorded []string
			for i, at := range tt.at {
				r := &domain.Rejection{ID: ids.New("rej"), SourceID: src.ID, AppID: a.ID, ReceivedAt: at, Status: 401, Code: "invalid_signature",
					Message: "no matching signature", Headers: map[string]string{"X-I": string(rune('a' + i))}, Body: body,
					HeaderCount: 40, HeaderBytes: 900 << 10, BodyBytes: 1 << 20}
				must(t, ss.RecordRejection(ctx, r))
				recorded = append(recorded, r.ID)
			}
			if tt.purge {
				_, err := s.Purge(ctx, base.Add(-365*24*time.Hour), base.Add(-365*24*time.Hour), 100)
				must(t, err)
			}
			rs, _, err := ss.ListRejections(ctx, a.ID, src.ID, store.Page{Limit: 100})
			must(t, err)
			left := map[string]*domain.Rejection{}
			for _, r := range rs {
				left[r.ID] = r
			}
			for _, i := range tt.want {
				r := left[recorded[i]]
				if r == nil {
					t.Fatalf("rejection %d was deleted; %d left", i, len(rs))
				}
				if r.HeaderCount != 40 || r.HeaderBytes != 900<<10 || r.BodyBytes != 1<<20 || len(r.Body) != len(body) {
					t.Errorf("rejection %d sizes = %d headers, %d bytes, body %d (%d kept)", i, r.HeaderCount, r.HeaderBytes, r.BodyBytes, len(r.Body))
				}
			}
			if len(rs) != len(tt.want) {
				t.Fatalf("%d rejections left, want %d", len(rs), len(tt.want))
			}
		})
	}
}

// times returns n times a second apart from t.
func times(t time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = t.Add(time.Duration(i) * time.Second)
	}
	return out
}
