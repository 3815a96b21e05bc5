package webhook

import (
	"context"
	"sync"
	"time"
)

// ClaimState is the answer of a DedupeStore to a claim on a delivery id.
type ClaimState uint8

const (
	// ClaimNew means the id was not seen: the caller now owns it and must call Done or Release.
	ClaimNew ClaimState = iota + 1
	// ClaimDone means the id was already handled successfully: acknowledge without handling.
	ClaimDone
	// ClaimBusy means another request is handling the id right now: ask the sender to retry later.
	ClaimBusy
)

// DedupeStore remembers which delivery ids were handled, so that a delivery the sender
// retried (or duplicated) is handled once. Implementations must be safe for concurrent use;
// a shared store (a database table, Redis) makes dedupe hold across several receiver processes.
type DedupeStore interface {
	// Claim marks id as in progress unless it is already in progress or done.
	Claim(ctx context.Context, id string) (ClaimState, error)
	// Done marks a claimed id as handled, to be remembered for the store's retention time.
	Done(ctx context.Context, id string) error
	// Release forgets a claim whose handling failed, so that the sender's retry is handled.
	Release(ctx context.Context, id string) error
}

// DefaultDedupeTTL covers OpenAI's retry window of up to 72 hours.
const DefaultDedupeTTL = 72 * time.Hour

// DefaultDedupeMaxEntries bounds the memory of a MemoryDedupe (about 100 bytes an entry).
const DefaultDedupeMaxEntries = 1_000_000

// MemoryDedupe is an in-process DedupeStore that remembers handled ids for a fixed TTL,
// evicting the oldest when it holds more than its maximum. It forgets everything on restart.
type MemoryDedupe struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	state map[string]*dedupeEntry
	order []*dedupeEntry // done entries in completion order, hence expiry order
	head  int            // first live element of order
}

type dedupeEntry struct {
	id      string
	done    bool
	expires time.Time
}

// NewMemoryDedupe returns a MemoryDedupe that remembers ids for ttl (DefaultDedupeTTL if zero)
// and at most maxEntries of them (DefaultDedupeMaxEntries if zero).
func NewMemoryDedupe(ttl time.Duration, maxEntries int) *MemoryDedupe {
	if ttl <= 0 {
		ttl = DefaultDedupeTTL
	}
	if maxEntries <= 0 {
		maxEntries = DefaultDedupeMaxEntries
	}
	return &MemoryDedupe{ttl: ttl, max: maxEntries, now: time.Now, state: make(map[string]*dedupeEntry)}
}

// Claim implements DedupeStore.
func (m *MemoryDedupe) Claim(_ context.Context, id string) (ClaimState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire()
	if e, ok := m.state[id]; ok {
		if e.done {
			return ClaimDone, nil
		}
		return ClaimBusy, nil
	}
	m.state[id] = &dedupeEntry{id: id}
	return ClaimNew, nil
}

// Done implements DedupeStore.
func (m *MemoryDedupe) Done(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.state[id]
	if !ok {
		e = &dedupeEntry{id: id}
		m.state[id] = e
	}
	if e.done {
		return nil
	}
	e.done = true
	e.expires = m.now().Add(m.ttl)
	m.order = append(m.order, e)
	for len(m.order)-m.head > m.max {
		m.evict()
	}
	return nil
}

// Release implements DedupeStore.
func (m *MemoryDedupe) Release(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.state[id]; ok && !e.done {
		delete(m.state, id)
	}
	return nil
}

// Len returns how many ids are remembered or in progress.
func (m *MemoryDedupe) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire()
	return len(m.state)
}

func (m *MemoryDedupe) expire() {
	now := m.now()
	for m.head < len(m.order) && !now.Before(m.order[m.head].expires) {
		m.evict()
	}
}

// evict drops the oldest done entry and compacts the queue once half of it is dead.
func (m *MemoryDedupe) evict() {
	e := m.order[m.head]
	m.order[m.head] = nil
	m.head++
	if cur, ok := m.state[e.id]; ok && cur == e {
		delete(m.state, e.id)
	}
	if m.head > 1024 && m.head*2 > len(m.order) {
		n := copy(m.order, m.order[m.head:])
		clear(m.order[n:])
		m.order = m.order[:n]
		m.head = 0
	}
}
