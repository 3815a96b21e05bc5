package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestRunRaw runs the raw HTTP baseline briefly and checks that it counted answered
// requests and derived its rate from them.
func TestRunRaw(t *testing.T) {
	res, err := RunRaw(context.Background(), 200*time.Millisecond, 4)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests <= 0 || res.Concurrency != 4 || res.BodySize != RawBodySize || res.Seconds < 0.2 {
		t.Fatalf("result %+v", res)
	}
	if want := float64(res.Requests) / res.Seconds; res.PerSecond < want*0.95 || res.PerSecond > want*1.05 {
		t.Errorf("%v requests/s, want about %v (%d in %v s)", res.PerSecond, want, res.Requests, res.Seconds)
	}
}

func TestRunRawCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RunRaw(ctx, time.Minute, 2); err == nil {
		t.Fatal("RunRaw with a cancelled context succeeded")
	}
	if _, err := RunRaw(context.Background(), 0, 2); err == nil {
		t.Fatal("RunRaw for 0 s succeeded")
	}
}

// TestReportRawShares checks that the delivery and ingest reports carry the raw rate
// and each throughput's share of it, in JSON and in their tables.
func TestReportRawShares(t *testing.T) {
	raw := &RawResult{PerSecond: 40000}
	rep := &Report{PublishPerSecond: 5000, DeliveriesPerSec: 10000}
	rep.SetRaw(raw)
	if rep.RawHTTPPerSec != 40000 || rep.PublishPerRaw != 0.125 || rep.DeliveriesPerRaw != 0.25 {
		t.Fatalf("report %+v", rep)
	}
	b, _ := json.Marshal(rep)
	for _, want := range []string{`"raw_http_per_s":40000`, `"publish_per_raw":0.125`, `"deliveries_per_raw":0.25`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	var table strings.Builder
	rep.WriteTable(&table)
	for _, want := range []string{"12.5% of raw HTTP", "25.0% of raw HTTP", "40000 POST/s"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}

	in := &IngestReport{PerSecond: 6000}
	in.SetRaw(raw)
	if in.RawHTTPPerSec != 40000 || in.AcceptedPerRaw != 0.15 {
		t.Fatalf("ingest report %+v", in)
	}
	table.Reset()
	in.WriteTable(&table)
	if !strings.Contains(table.String(), "15.0% of raw HTTP") || !strings.Contains(table.String(), "40000 POST/s") {
		t.Errorf("ingest table:\n%s", table.String())
	}

	// Without a baseline, nothing of it appears.
	plain := &Report{DeliveriesPerSec: 10000}
	plain.SetRaw(nil)
	b, _ = json.Marshal(plain)
	table.Reset()
	plain.WriteTable(&table)
	if bytes.Contains(b, []byte("raw")) || strings.Contains(table.String(), "raw") {
		t.Errorf("a report without a baseline mentions it: %s\n%s", b, table.String())
	}
}
