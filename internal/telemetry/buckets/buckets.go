// Package buckets holds the histogram buckets herald's Prometheus latency metrics share,
// so that latencies measured in different places (a publish through the API, a webhook
// at the receiving gateway, an attempt) compare bucket for bucket.
package buckets

// Latency returns the buckets, in seconds, of a latency that a request waits for: from
// half a millisecond to 5 seconds. The slice is new, free to append to.
func Latency() []float64 {
	return []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
}
