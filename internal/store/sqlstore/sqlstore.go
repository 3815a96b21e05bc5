// Package sqlstore is the relational core that herald's SQL backends (sqlite, postgres)
// share: the statements, row scanners and keyset pagination behind every store.Store
// method whose logic does not depend on the database, written once against a small
// Dialect and a DB that each backend supplies.
//
// Statements use numbered parameters ($1, $2, ...), which PostgreSQL and SQLite both
// understand, so one text serves both. What remains backend-specific is what plays to a
// database's strengths: publishing, claiming and completing deliveries, and purging.
package sqlstore

import (
	"sync"
	"sync/atomic"

	"github.com/heraldhq/herald/internal/filter"
	"github.com/heraldhq/herald/internal/store"
)

// Events is told, after the commit, what a write changed that others may act on.
type Events interface {
	// EndpointsChanged reports endpoints whose configuration, state or secrets changed
	// (or that were deleted).
	EndpointsChanged(ids ...string)
	// WorkQueued reports deliveries that became claimable now (a retry, a replay, a
	// resumed endpoint).
	WorkQueued()
}

// Core implements the store.Store and store.SourceStore methods that every SQL backend
// shares; a backend embeds it and adds publishing, claiming and its own lifecycle.
type Core struct {
	db      DB
	d       Dialect
	cipher  store.Cipher
	events  Events
	rej     store.RejectionLimits
	rejN    atomic.Int64 // rejections recorded, for RejectionLimits.CheckEvery
	filters filterCache
}

// New returns the core of a backend that reads and writes through db, speaks dialect d,
// seals secrets with cipher, reports committed changes to events, and keeps rejections
// within rej (its zero fields: the defaults).
func New(db DB, d Dialect, cipher store.Cipher, events Events, rej store.RejectionLimits) *Core {
	return &Core{db: db, d: d, cipher: cipher, events: events, rej: rej.WithDefaults(), filters: filterCache{m: map[string]*filter.Filter{}}}
}

// maxCachedFilters bounds the compiled filters a Core keeps; past it the cache starts over.
const maxCachedFilters = 10000

// filterCache keeps compiled payload filters by their stored text, so that fan-out
// compiles each endpoint's filter once, not once per publish.
type filterCache struct {
	mu sync.Mutex
	m  map[string]*filter.Filter
}

// Filter returns the compiled form of a stored filter (” for none: nil), for fan-out.
func (c *Core) Filter(text string) (*filter.Filter, error) {
	if text == "" {
		return nil, nil
	}
	fc := &c.filters
	fc.mu.Lock()
	f, ok := fc.m[text]
	fc.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := ParseFilter(text)
	if err != nil {
		return nil, err
	}
	fc.mu.Lock()
	if len(fc.m) >= maxCachedFilters {
		clear(fc.m)
	}
	fc.m[text] = f
	fc.mu.Unlock()
	return f, nil
}
