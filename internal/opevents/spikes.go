package opevents

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ingest"
)

// SpikeConfig says when a source's rejections are spiking: in the last Window, at least
// MinRejections requests were rejected and they were at least Rate of its requests. A
// spike is reported once; the next one no sooner than Cooldown later.
type SpikeConfig struct {
	Window        time.Duration // default 5 minutes
	MinRejections int           // default 10
	Rate          float64       // a share of requests, above 0 and at most 1; default 0.5
	Cooldown      time.Duration // default 1 hour
}

// Defaults of SpikeConfig.
const (
	DefaultSpikeWindow        = 5 * time.Minute
	DefaultSpikeMinRejections = 10
	DefaultSpikeRate          = 0.5
	DefaultSpikeCooldown      = time.Hour
)

// spikeSlots is how many slots a window is counted in: it slides by a tenth.
const spikeSlots = 10

// withDefaults returns c with its zero fields set to the defaults, or an error for a
// value out of range.
func (c SpikeConfig) withDefaults() (SpikeConfig, error) {
	if c.Window == 0 {
		c.Window = DefaultSpikeWindow
	}
	if c.MinRejections == 0 {
		c.MinRejections = DefaultSpikeMinRejections
	}
	if c.Rate == 0 {
		c.Rate = DefaultSpikeRate
	}
	if c.Cooldown == 0 {
		c.Cooldown = DefaultSpikeCooldown
	}
	switch {
	case c.Window < spikeSlots*time.Millisecond:
		return c, errors.New("the rejection spike window must be at least 10ms")
	case c.MinRejections < 1:
		return c, errors.New("the rejections of a spike must be at least 1")
	case c.Rate <= 0 || c.Rate > 1:
		return c, errors.New("the rejection rate of a spike must be above 0 and at most 1")
	case c.Cooldown < 0:
		return c, errors.New("the cooldown between spikes must be positive")
	}
	return c, nil
}

// spikes counts each source's requests and rejections in a sliding window.
type spikes struct {
	cfg  SpikeConfig
	slot time.Duration

	mu        sync.Mutex
	sources   map[string]*sourceWindow
	lastSweep time.Time
}

type sourceWindow struct {
	slots     [spikeSlots]spikeSlot
	inSpike   bool
	lastSpike time.Time
	lastSeen  time.Time
	last      ingest.Received // the latest rejection
}

type spikeSlot struct {
	n                  int64 // which slot of time it counts (time / slot length)
	requests, rejected int
}

// spike is a source's rejections crossing the threshold.
type spike struct {
	at                 time.Time
	src                *domain.Source
	requests, rejected int
	last               ingest.Received
}

func newSpikes(cfg SpikeConfig) *spikes {
	return &spikes{cfg: cfg, slot: cfg.Window / spikeSlots, sources: map[string]*sourceWindow{}}
}

// observe counts one answered request and returns the spike it starts, if it does.
func (s *spikes) observe(r ingest.Received) *spike {
	cur := r.At.UnixNano() / int64(s.slot)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(r.At)
	w := s.sources[r.Source.ID]
	if w == nil {
		w = &sourceWindow{}
		s.sources[r.Source.ID] = w
	}
	sl := &w.slots[cur%spikeSlots]
	if sl.n != cur {
		*sl = spikeSlot{n: cur}
	}
	sl.requests++
	w.lastSeen = r.At
	if r.Rejected {
		sl.rejected++
		w.last = r
	}
	var requests, rejected int
	for _, x := range w.slots {
		if x.n > cur-spikeSlots && x.n <= cur {
			requests, rejected = requests+x.requests, rejected+x.rejected
		}
	}
	spiking := rejected >= s.cfg.MinRejections && float64(rejected) >= s.cfg.Rate*float64(requests)
	switch {
	case !spiking:
		w.inSpike = false
	case !w.inSpike && (w.lastSpike.IsZero() || r.At.Sub(w.lastSpike) >= s.cfg.Cooldown):
		w.inSpike, w.lastSpike = true, r.At
		return &spike{at: r.At, src: r.Source, requests: requests, rejected: rejected, last: w.last}
	}
	return nil
}

// sweepLocked forgets, at most once a window, the sources quiet for longer than a
// window and a cooldown: nothing of theirs counts any more. s.mu must be held.
func (s *spikes) sweepLocked(now time.Time) {
	if now.Sub(s.lastSweep) < s.cfg.Window {
		return
	}
	s.lastSweep = now
	for id, w := range s.sources {
		if now.Sub(w.lastSeen) > s.cfg.Window+s.cfg.Cooldown {
			delete(s.sources, id)
		}
	}
}

// Received implements ingest.Observer: a spike becomes source.rejections.spiking.
func (n *Notifier) Received(r ingest.Received) {
	sp := n.spikes.observe(r)
	if sp == nil {
		return
	}
	n.enqueue(domain.OpRejectionsSpiking, func(ctx context.Context) {
		cfg := n.cfg.Spike
		ev := &RejectionsSpikingEvent{
			AppID: sp.src.AppID, AppUID: n.appUID(ctx, sp.src.AppID), SourceID: sp.src.ID,
			WindowSeconds: int64(cfg.Window / time.Second), Requests: sp.requests, Rejected: sp.rejected,
			RejectionRate: float64(sp.rejected) / float64(sp.requests), Threshold: cfg.Rate,
			LastRejection: LastRejection{Status: sp.last.Status, Code: sp.last.Code, Message: sp.last.Message, Timestamp: Time(sp.last.At)},
		}
		// Nodes that see the same spike within one cooldown send it once.
		key := "op:" + domain.OpRejectionsSpiking + ":" + sp.src.ID + ":" + strconv.FormatInt(sp.at.UnixNano()/int64(cfg.Cooldown), 10)
		n.emit(ctx, domain.OpRejectionsSpiking, ev, key)
	})
}
