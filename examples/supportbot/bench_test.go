package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	emulator "github.com/heraldhq/herald/internal/emulate/openai"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// The push-versus-polling workload: conversations arrive at a steady rate and each
// reply takes between replyMin and replyMax to generate (the same time for the same
// text, in both runs).
const (
	conversations = 1000
	arrivalRate   = 100 // conversations per second
	replyMin      = 1 * time.Second
	replyMax      = 5 * time.Second
	pollInterval  = 500 * time.Millisecond
)

// measured is the outcome of one run of the workload.
type measured struct {
	ttr      []time.Duration // time to reply of each conversation
	extra    []time.Duration // the part of it after the reply was generated
	creates  int64           // POST /v1/responses
	gets     int64           // GET /v1/responses/{id}
	webhooks int64           // webhook requests received
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.999999) - 1
	return s[max(i, 0)]
}

func (r *measured) report(b *testing.B) {
	for _, p := range []struct {
		name string
		q    float64
	}{{"p50", .50}, {"p90", .90}, {"p99", .99}, {"max", 1}} {
		b.ReportMetric(float64(percentile(r.ttr, p.q).Milliseconds()), "ms-ttr-"+p.name)
		b.ReportMetric(float64(percentile(r.extra, p.q).Milliseconds()), "ms-extra-"+p.name)
	}
	b.ReportMetric(float64(r.creates+r.gets), "api-requests")
	b.ReportMetric(float64(r.webhooks), "webhooks")
}

func customerText(i int) string { return fmt.Sprintf("Hello, this is customer %d with a question.", i) }

// arrive calls start(i) for each conversation at the arrival rate and waits for all.
func arrive(start func(i int)) {
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / arrivalRate)
	defer tick.Stop()
	for i := range conversations {
		<-tick.C
		wg.Add(1)
		go func() { defer wg.Done(); start(i) }()
	}
	wg.Wait()
}

// BenchmarkPushVersusPolling runs the same 1,000 conversations twice: once as the
// supportbot does (background responses, webhooks through herald, one GET per
// finished response), once with a client that polls each response every 500 ms.
// It reports the time to reply (from the customer's message to the reply being
// available) and the requests made to the API. Run it once:
//
//	go test ./examples/supportbot -run '^$' -bench PushVersusPolling -benchtime 1x -v
func BenchmarkPushVersusPolling(b *testing.B) {
	cfg := emulator.Config{Delay: replyMin, DelayMax: replyMax}
	var push, poll *measured
	b.Run("webhooks", func(b *testing.B) {
		for range b.N {
			push = runPush(b, cfg)
			push.report(b)
		}
	})
	b.Run("polling", func(b *testing.B) {
		for range b.N {
			poll = runPoll(b, cfg)
			poll.report(b)
		}
	})
	if push == nil || poll == nil {
		return
	}
	b.Logf("%d conversations, %d/s, replies take %v..%v to generate, polling every %v", conversations, arrivalRate, replyMin, replyMax, pollInterval)
	b.Logf("%-9s %8s %8s %8s %8s | %8s %8s %8s %8s | %8s %8s %9s", "", "ttr p50", "p90", "p99", "max",
		"extra p50", "p90", "p99", "max", "creates", "gets", "webhooks")
	ms := func(d []time.Duration, q float64) time.Duration { return percentile(d, q).Round(time.Millisecond) }
	for _, r := range []struct {
		name string
		r    *measured
	}{{"webhooks", push}, {"polling", poll}} {
		b.Logf("%-9s %8v %8v %8v %8v | %8v %8v %8v %8v | %8d %8d %9d", r.name,
			ms(r.r.ttr, .5), ms(r.r.ttr, .9), ms(r.r.ttr, .99), ms(r.r.ttr, 1),
			ms(r.r.extra, .5), ms(r.r.extra, .9), ms(r.r.extra, .99), ms(r.r.extra, 1), r.r.creates, r.r.gets, r.r.webhooks)
	}
}

// runPush drives the supportbot: herald delivers each response.completed to it and
// it fetches the response once.
func runPush(b *testing.B, cfg emulator.Config) *measured {
	s := startStack(b, cfg, nil, false)
	ids := make([]string, conversations)
	arrive(func(i int) {
		c := s.send(b, "", customerText(i))
		ids[i] = c.ID
		s.settled(b, c.ID)
	})
	r := &measured{webhooks: s.hooks.Load()}
	for _, id := range ids {
		c, err := s.bot.store.Get(context.Background(), id)
		if err != nil || c.State != StateAnswered {
			b.Fatalf("conversation %s: %v %+v", id, err, c)
		}
		ttr := c.Messages[1].At.Sub(c.Messages[0].At)
		r.ttr = append(r.ttr, ttr)
		r.extra = append(r.extra, ttr-s.emu.Emulator.ResponseDelay(c.Messages[0].Text))
	}
	req := s.emu.Emulator.Requests()
	r.creates, r.gets = req["POST /v1/responses"], req["GET /v1/responses/{id}"]
	return r
}

// runPoll drives a client that creates the same background responses and polls each
// one every 500 ms until it is done; no webhooks.
func runPoll(b *testing.B, cfg emulator.Config) *measured {
	cfg.Logger = slog.New(slog.DiscardHandler)
	em := emulator.New(cfg)
	srv := httptest.NewServer(em)
	defer srv.Close()
	defer em.Close()
	ai := openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey("sk-emulated"), option.WithHTTPClient(loopbackClient()))
	bot := NewBot(ai, "gpt-5-mini", nil, nil) // only for its request parameters
	ttr := make([]time.Duration, conversations)
	arrive(func(i int) {
		ctx := context.Background()
		t0 := time.Now()
		resp, err := ai.Responses.New(ctx, bot.params(fmt.Sprint(i), "", responses.ResponseNewParamsInputUnion{OfString: openai.String(customerText(i))}))
		for err == nil && (resp.Status == responses.ResponseStatusQueued || resp.Status == responses.ResponseStatusInProgress) {
			time.Sleep(pollInterval)
			resp, err = ai.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
		}
		if err != nil || resp.Status != responses.ResponseStatusCompleted {
			b.Errorf("conversation %d: %v", i, err)
			return
		}
		ttr[i] = time.Since(t0)
	})
	r := &measured{ttr: ttr}
	for i, d := range ttr {
		r.extra = append(r.extra, d-em.ResponseDelay(customerText(i)))
	}
	req := em.Requests()
	r.creates, r.gets = req["POST /v1/responses"], req["GET /v1/responses/{id}"]
	return r
}
