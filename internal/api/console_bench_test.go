package api

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
)

// The console benchmark's data: HERALD_CONSOLE_BENCH_MESSAGES messages (default
// 1,000,000) of one app over 30 days, each delivered to one of 20 endpoints with 1 to 5
// attempts (3 on average: 3,000,000 attempts for a million messages).
const (
	benchEndpoints = 20
	benchDays      = 30
	benchChunk     = 20000 // rows of each kind per seeding transaction
)

// benchTypes are the event types of the seeded messages; the last is rare (1 in 100).
var benchTypes = []string{"invoice.paid", "invoice.created", "customer.updated", "charge.refunded", "rare.event"}

// BenchmarkConsolePages measures the API calls each page of the console and portal
// makes, over an embedded store holding a million messages and three million attempts,
// and reports their p50 and p99 latency. The data is seeded once, with direct SQL
// inserts, before the first page is measured. It runs only when asked:
//
//	HERALD_CONSOLE_BENCH=1 go test -run '^$' -bench ConsolePages -benchtime 300x -timeout 60m ./internal/api/
func BenchmarkConsolePages(b *testing.B) {
	if os.Getenv("HERALD_CONSOLE_BENCH") == "" {
		b.Skip("set HERALD_CONSOLE_BENCH=1 to seed a million messages and measure the console's pages")
	}
	messages := 1_000_000
	if v := os.Getenv("HERALD_CONSOLE_BENCH_MESSAGES"); v != "" {
		var err error
		if messages, err = strconv.Atoi(v); err != nil || messages < 1000 {
			b.Fatalf("HERALD_CONSOLE_BENCH_MESSAGES=%q: want a number of at least 1000", v)
		}
	}
	e := newEnv(b)
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "bench", "uid": "bench"}})["id"].(string)
	eps := make([]string, benchEndpoints)
	for i := range eps {
		eps[i] = e.must(201, req{method: "POST", path: "/v1/apps/bench/endpoints", key: e.admin, body: map[string]any{"url": fmt.Sprintf("https://ep%d.example.com/hook", i)}})["id"].(string)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	start := time.Now()
	sample, attempts := seedConsoleBench(b, e.path, app, eps, messages, now)
	b.Logf("seeded %d messages, %d deliveries and %d attempts in %v", messages, messages, attempts, time.Since(start).Round(time.Second))
	s := e.signIn(e.admin)

	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return eps[rng.IntN(len(eps))] }
	day := func() string {
		return url.QueryEscape(now.Add(-time.Duration(rng.IntN(benchDays*24)) * time.Hour).Format(time.RFC3339))
	}
	msg := func() string { return sample[rng.IntN(len(sample))] }
	base := "/v1/apps/" + app
	pages := []struct {
		name  string
		paths func() []string // the calls of one page view
	}{
		{"endpoints", func() []string { return []string{base + "/endpoints"} }},
		{"endpoint_stats_24h", func() []string { return []string{base + "/endpoints/" + pick() + "/stats"} }},
		{"endpoint_stats_30d_daily", func() []string {
			return []string{base + "/endpoints/" + pick() + "/stats?bucket=86400&since=" + url.QueryEscape(now.Add(-benchDays*24*time.Hour).Format(time.RFC3339))}
		}},
		// What the console's 30-day chart asks: whole UTC days.
		{"endpoint_chart_30d_days", func() []string {
			until := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
			return []string{base + "/endpoints/" + pick() + "/stats?bucket=86400&since=" + url.QueryEscape(until.Add(-benchDays*24*time.Hour).Format(time.RFC3339)) +
				"&until=" + url.QueryEscape(until.Format(time.RFC3339))}
		}},
		{"endpoint_chart_7d_6h", func() []string {
			until := now.Truncate(6 * time.Hour).Add(6 * time.Hour)
			return []string{base + "/endpoints/" + pick() + "/stats?bucket=21600&since=" + url.QueryEscape(until.Add(-7*24*time.Hour).Format(time.RFC3339)) +
				"&until=" + url.QueryEscape(until.Format(time.RFC3339))}
		}},
		{"messages", func() []string { return []string{base + "/messages"} }},
		{"messages_by_type", func() []string { return []string{base + "/messages?type=" + benchTypes[rng.IntN(len(benchTypes)-1)]} }},
		{"messages_rare_type", func() []string { return []string{base + "/messages?type=rare.event"} }},
		{"messages_in_a_day", func() []string { return []string{base + "/messages?until=" + day()} }},
		{"message_detail", func() []string {
			m := msg()
			return []string{base + "/messages/" + m, base + "/deliveries?message_id=" + m, base + "/attempts?message_id=" + m}
		}},
		{"deliveries_failed_of_endpoint", func() []string { return []string{base + "/deliveries?status=failed&endpoint_id=" + pick()} }},
		{"attempts", func() []string { return []string{base + "/attempts"} }},
		{"attempts_of_endpoint", func() []string { return []string{base + "/attempts?endpoint_id=" + pick()} }},
		{"server_stats", func() []string { return []string{"/v1/stats"} }},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				t0 := time.Now()
				for _, path := range p.paths() {
					r := httptest.NewRequest("GET", path, nil)
					r.Header.Set("Cookie", sessionCookie+"="+s.cookie)
					w := httptest.NewRecorder()
					e.server.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
					}
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.5), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}

// seedConsoleBench fills the SQLite file at path with n messages of app spread over the
// last benchDays days, one delivery each (to one of eps, round robin) and 1 to 5
// attempts per delivery, in transactions of benchChunk messages. It returns a sample
// of message ids and the number of attempts.
func seedConsoleBench(b *testing.B, path, app string, eps []string, n int, now time.Time) (sample []string, attempts int) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	span := time.Duration(benchDays) * 24 * time.Hour
	rng := rand.New(rand.NewPCG(3, 4))
	payload := []byte(`{"id":"evt_bench","object":"event","data":{"amount":4200,"currency":"eur","note":"<script>alert(1)</script>"}}`)
	for lo := 0; lo < n; lo += benchChunk {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		insMsg, _ := tx.Prepare(`INSERT INTO messages (id, app_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?)`)
		insDlv, _ := tx.Prepare(`INSERT INTO deliveries (id, app_id, message_id, endpoint_id, seq, status, attempts, retry_step, next_attempt_at,
			last_status_code, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		insAtt, err := tx.Prepare(`INSERT INTO attempts (id, delivery_id, app_id, endpoint_id, message_id, number, started_at, latency_us,
			status_code, response_headers, response_body, error, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for i := lo; i < min(lo+benchChunk, n); i++ {
			at := now.Add(-span + time.Duration(int64(span)/int64(n)*int64(i)))
			typ := benchTypes[i%(len(benchTypes)-1)]
			if i%100 == 0 {
				typ = benchTypes[len(benchTypes)-1]
			}
			msgID, dlvID, ep := idAt("msg", at, i), idAt("dlv", at, i), eps[i%len(eps)]
			if i%(n/100+1) == 0 {
				sample = append(sample, msgID)
			}
			k := 1 + rng.IntN(5) // 1 to 5 attempts, 3 on average
			status, code, errText := domain.DeliverySucceeded, 200, ""
			if rng.IntN(50) == 0 {
				status, code, errText = domain.DeliveryFailed, 503, "HTTP 503"
			}
			mustExec(b, insMsg, msgID, app, typ, payload, at.UnixMilli())
			mustExec(b, insDlv, dlvID, app, msgID, ep, int64(i), status, k, k, nil, code, errText, at.UnixMilli(), at.UnixMilli())
			for j := range k {
				started := at.Add(time.Duration(j) * 5 * time.Second)
				outcome, sc := domain.OutcomeRetrying, 500
				if j == k-1 {
					outcome, sc = domain.OutcomeFailed, code
					if status == domain.DeliverySucceeded {
						outcome = domain.OutcomeSucceeded
					}
				}
				mustExec(b, insAtt, idAt("att", started, i*8+j), dlvID, app, ep, msgID, j+1, started.UnixMilli(), 120000+rng.IntN(80000),
					sc, `{"Content-Type":"application/json"}`, []byte(`{"ok":true}`), "", outcome)
				attempts++
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return sample, attempts
}

func mustExec(b *testing.B, st *sql.Stmt, args ...any) {
	if _, err := st.Exec(args...); err != nil {
		b.Fatal(err)
	}
}

// crockford is the alphabet of ULIDs.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idAt returns an id with the given prefix for time t, unique by n: what ids.New would
// have returned at t.
func idAt(prefix string, t time.Time, n int) string {
	floor := []byte(ids.Floor(prefix, t))
	for i := len(floor) - 1; n > 0; i-- {
		floor[i] = crockford[n%32]
		n /= 32
	}
	return string(floor)
}
