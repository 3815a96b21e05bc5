package delivery

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrape returns the herald_ sample lines that GET url answers.
func scrape(t *testing.T, url string) []string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "herald_") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestMetricsSeriesBounded publishes to 200 failing endpoints and checks that /metrics
// names none of them and holds a number of series that does not grow with the endpoints.
func TestMetricsSeriesBounded(t *testing.T) {
	const endpoints = 200
	const maxSeries = 100 // every herald_ series, histogram buckets included, whatever the endpoint count
	reg := prometheus.NewRegistry()
	h := newHarness(t, func(c *Config) { c.Metrics = NewMetrics(reg) })
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(metrics.Close)

	r := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
	var epIDs []string
	for i := 0; i < endpoints; i++ {
		epIDs = append(epIDs, h.endpoint(r, nil).ID)
	}
	h.publish("metrics.test", 1)

	var lines []string
	eventually(t, "a failed attempt to every endpoint", func() bool {
		lines = scrape(t, metrics.URL)
		var failures float64
		for _, l := range lines {
			if strings.HasPrefix(l, "herald_endpoint_failures_total") {
				v, _ := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
				failures += v
			}
		}
		return failures >= endpoints
	})
	if len(lines) > maxSeries {
		t.Errorf("/metrics has %d herald_ series after publishing to %d endpoints, want at most %d:\n%s", len(lines), endpoints, maxSeries, strings.Join(lines[:10], "\n"))
	}
	text := strings.Join(lines, "\n")
	for _, id := range epIDs {
		if strings.Contains(text, id) {
			t.Fatalf("/metrics names endpoint %s:\n%s", id, text)
		}
	}
	if strings.Contains(text, h.app.ID) {
		t.Errorf("/metrics names app %s", h.app.ID)
	}
}
