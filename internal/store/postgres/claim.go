package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
)

// The queue is the deliveries table, as in the SQLite store: a pending delivery is due
// when next_attempt_at has passed, and leasing it moves next_attempt_at to the end of the
// lease, so a leased delivery is simply not due, and becomes due again by itself if its
// holder dies.
//
// Per-endpoint limits across nodes. A claim first locks the rows of the endpoints it
// claims for (FOR NO KEY UPDATE SKIP LOCKED: a node never waits for another, it claims
// for other endpoints meanwhile). Then, in later statements of the same transaction, and
// so with snapshots that include every lease committed by the endpoint's earlier lock
// holders, it reads the endpoint's concurrency slots (see endpoint_slots), and leases at
// most one delivery per free slot, writing the delivery into the slot. Publish's
// lease-on-insert takes slots the same way. A FIFO endpoint has one slot, which is what
// keeps exactly one of its deliveries in flight across nodes, even when two nodes'
// publishes commit out of sequence order.
//
// Rate limits across nodes are a token bucket per endpoint in endpoint_buckets, updated
// under the same lock: a claim refills it by rate × the time since its last update (up to
// a burst of the rate, at least 1) and takes one token per delivery. The alternative,
// dividing each endpoint's rate among the live nodes, needs a heartbeat table, and over-
// or under-sends whenever the node count changes or one node holds all of an endpoint's
// work; the bucket is exact whatever the number of nodes, at the price of one small row
// update per claim of a rate-limited endpoint. Such endpoints are never leased on
// publish, so every send of theirs passes through the bucket.

// activeSlotsSQL counts the slots of endpoint e taken at $2.
const activeSlotsSQL = `(SELECT count(*) FROM endpoint_slots s WHERE s.endpoint_id = e.id AND s.delivery_id IS NOT NULL AND s.until > $2)`

// claimEndpointsSQL finds and locks the endpoints to claim for: enabled, not excluded,
// with due work (for FIFO: a due oldest delivery), not already at their concurrency limit
// (always 1 for FIFO; others only when limits apply, $4 > 0) or, when limits apply, out of
// rate tokens. A loose index scan visits only endpoints with pending deliveries. Oldest
// due work first, with how much is due (up to the claim's limit). It notes the locked
// endpoints for the rest of its transaction (see lockedSQL).
const claimEndpointsSQL = `WITH RECURSIVE pend(id) AS (
		(SELECT endpoint_id FROM deliveries WHERE status = 'pending' ORDER BY endpoint_id LIMIT 1)
		UNION ALL
		SELECT (SELECT d.endpoint_id FROM deliveries d WHERE d.status = 'pending' AND d.endpoint_id > p.id ORDER BY d.endpoint_id LIMIT 1)
		FROM pend p WHERE p.id IS NOT NULL
	),
	locked AS MATERIALIZED (
		SELECT e.id, e.fifo, e.max_concurrency, e.rate_limit,
			(SELECT count(*) FROM (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'
				AND d.next_attempt_at <= $2 LIMIT $3) due) AS due,
			(SELECT min(d.next_attempt_at) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS oldest
		FROM pend JOIN endpoints e ON e.id = pend.id
		WHERE e.state = 'enabled' AND e.id <> ALL($1::text[])
			AND CASE WHEN e.fifo
				THEN (SELECT h.next_attempt_at FROM deliveries h WHERE h.endpoint_id = e.id AND h.status = 'pending' ORDER BY h.seq LIMIT 1) <= $2
				ELSE EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= $2)
			END
			AND CASE WHEN e.fifo THEN ` + activeSlotsSQL + ` < 1
				WHEN $4 = 0 THEN true
				ELSE ` + activeSlotsSQL + ` < CASE WHEN e.max_concurrency > 0 THEN e.max_concurrency ELSE $4 END
			END
			AND ($4 = 0 OR e.rate_limit = 0 OR NOT EXISTS (SELECT 1 FROM endpoint_buckets b WHERE b.endpoint_id = e.id
				AND b.tokens + e.rate_limit * greatest(0, extract(epoch FROM $2::timestamptz - b.updated_at)) < 1))
		ORDER BY oldest, e.id
		LIMIT $3
		FOR NO KEY UPDATE OF e SKIP LOCKED
	),
	noted AS (` + noteLockedSQL + `)
	SELECT l.id, l.fifo, l.max_concurrency, l.rate_limit, l.due FROM locked l, noted ORDER BY l.oldest, l.id`

// The endpoints a statement locked are noted in a setting local to its transaction, so
// that the statements that must read their slots after the locks are held (see Claim)
// can be pipelined with it, in the same round trip, instead of waiting for its answer
// to name the endpoints. noteLockedSQL notes the ids of a CTE named locked; lockedSQL is
// them, as text[] (NULL, which matches nothing, when none were noted).
const (
	noteLockedSQL = `SELECT set_config('herald.locked_endpoints', COALESCE((SELECT array_agg(id) FROM locked)::text, ''), true)`
	lockedSQL     = `NULLIF(current_setting('herald.locked_endpoints', true), '')::text[]`
)

// lockedSlotsSQL reads the slots of the endpoints noted locked, and whether each is taken
// at $1. Run once the endpoints' row locks are held, its snapshot includes every slot
// taken before.
const lockedSlotsSQL = `SELECT endpoint_id, slot, COALESCE(delivery_id, ''), delivery_id IS NOT NULL AND until > $1
	FROM endpoint_slots WHERE endpoint_id = ANY(` + lockedSQL + `)`

// lockedBucketsSQL reads the rate buckets of the endpoints noted locked.
const lockedBucketsSQL = `SELECT endpoint_id, tokens, updated_at FROM endpoint_buckets WHERE endpoint_id = ANY(` + lockedSQL + `)`

// takeSlotsSQL writes deliveries into slots until their leases end, creating the slots
// as needed.
const takeSlotsSQL = `INSERT INTO endpoint_slots (endpoint_id, slot, delivery_id, until)
	SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[])
	ON CONFLICT (endpoint_id, slot) DO UPDATE SET delivery_id = EXCLUDED.delivery_id, until = EXCLUDED.until`

// freeSlotsSQL frees the slots deliveries hold, given as (endpoint, delivery) pairs.
const freeSlotsSQL = `UPDATE endpoint_slots s SET delivery_id = NULL, until = NULL
	FROM unnest($1::text[], $2::text[]) AS u(endpoint_id, delivery_id)
	WHERE s.endpoint_id = u.endpoint_id AND s.delivery_id = u.delivery_id`

// claimSQL leases up to n due deliveries of each endpoint (for FIFO: its oldest pending
// one, if due), writes the i-th claimed delivery of an endpoint into the i-th slot given
// for it, stores the rate buckets' new levels, and returns the claimed deliveries with
// their messages' type, payload and headers.
var claimSQL = `WITH want AS (
		SELECT * FROM unnest($1::text[], $2::int[], $3::bool[]) AS w(endpoint_id, n, fifo)
	),
	plain AS (
		SELECT x.id FROM want w CROSS JOIN LATERAL (
			SELECT d.id FROM deliveries d
			WHERE d.endpoint_id = w.endpoint_id AND d.status = 'pending' AND d.next_attempt_at <= $4
			ORDER BY d.next_attempt_at LIMIT w.n
			FOR UPDATE SKIP LOCKED) x
		WHERE NOT w.fifo AND w.n > 0
	),
	heads AS (
		SELECT x.id FROM want w CROSS JOIN LATERAL (
			SELECT d.id FROM deliveries d
			WHERE d.id = (SELECT h.id FROM deliveries h WHERE h.endpoint_id = w.endpoint_id AND h.status = 'pending' ORDER BY h.seq LIMIT 1)
				AND d.next_attempt_at <= $4
			FOR UPDATE SKIP LOCKED) x
		WHERE w.fifo AND w.n > 0
	),
	claimed AS (
		UPDATE deliveries d SET lease_owner = $5, next_attempt_at = $6
		WHERE d.id IN (SELECT id FROM plain UNION ALL SELECT id FROM heads)
		RETURNING ` + deliveryColumnsOf("d") + `
	),
	numbered AS (
		SELECT c.id, c.endpoint_id, row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at, c.id) AS rn FROM claimed c
	),
	slots AS (
		INSERT INTO endpoint_slots (endpoint_id, slot, delivery_id, until)
		SELECT n.endpoint_id, f.slot, n.id, $6
		FROM numbered n JOIN unnest($7::text[], $8::int[], $9::int[]) AS f(endpoint_id, slot, rn) ON f.endpoint_id = n.endpoint_id AND f.rn = n.rn
		ON CONFLICT (endpoint_id, slot) DO UPDATE SET delivery_id = EXCLUDED.delivery_id, until = EXCLUDED.until
	),
	bucket AS (
		INSERT INTO endpoint_buckets (endpoint_id, tokens, updated_at)
		SELECT b.endpoint_id, b.tokens - (SELECT count(*) FROM claimed c WHERE c.endpoint_id = b.endpoint_id), $4
		FROM unnest($10::text[], $11::float8[]) AS b(endpoint_id, tokens)
		ON CONFLICT (endpoint_id) DO UPDATE SET tokens = EXCLUDED.tokens, updated_at = EXCLUDED.updated_at
	)
	SELECT ` + deliveryColumnsOf("c") + `, m.type, m.payload, m.headers, COALESCE(m.trace_parent, ''), COALESCE(m.trace_state, '')
	FROM claimed c JOIN messages m ON m.id = c.message_id
	ORDER BY c.next_attempt_at, c.seq`

// deliveryColumnsOf is sqlstore.DeliveryColumns qualified by a table alias.
func deliveryColumnsOf(alias string) string {
	return alias + `.` + strings.ReplaceAll(strings.Join(strings.Fields(sqlstore.DeliveryColumns), " "), ", ", ", "+alias+`.`)
}

// slotState is what an endpoint's slots say: which are taken, and by which deliveries.
type slotState struct {
	taken   map[int]bool
	holders map[string]bool
}

// free returns up to n free slots below limit, lowest first, leaving room for no more
// deliveries than limit minus those holding slots (a delivery counts once, should two
// slots name it; taken slots above a lowered limit count too).
func (st *slotState) free(limit, n int) []int32 {
	if st != nil {
		n = min(n, limit-len(st.holders))
	}
	var out []int32
	for slot := 0; slot < limit && len(out) < n; slot++ {
		if st == nil || !st.taken[slot] {
			out = append(out, int32(slot))
		}
	}
	return out
}

// readSlots reads lockedSlotsSQL's answer.
func readSlots(rows pgx.Rows, err error) (map[string]*slotState, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*slotState{}
	for rows.Next() {
		var ep, dlv string
		var slot int
		var taken bool
		if err := rows.Scan(&ep, &slot, &dlv, &taken); err != nil {
			return nil, err
		}
		if !taken {
			continue
		}
		st := out[ep]
		if st == nil {
			st = &slotState{taken: map[int]bool{}, holders: map[string]bool{}}
			out[ep] = st
		}
		st.taken[slot], st.holders[dlv] = true, true
	}
	return out, rows.Err()
}

// bucket is a rate bucket read under its endpoint's lock.
type bucket struct {
	tokens float64
	at     time.Time
}

// level returns how many tokens a bucket of rate per second holds at now: a missing one
// is full, and a bucket holds at most the burst (the rate, at least 1).
func (b *bucket) level(rate float64, now time.Time) float64 {
	burst := max(1, math.Floor(rate))
	if b == nil {
		return burst
	}
	return min(burst, b.tokens+rate*max(0, now.Sub(b.at).Seconds()))
}

// claimEndpoint is an endpoint claimEndpointsSQL locked, with how much of its work is due.
type claimEndpoint struct {
	id      string
	fifo    bool
	maxConc int
	rate    float64
	due     int
}

// Claim implements store.Store, in two round trips: the first locks the endpoints to
// claim for and reads their slots and rate buckets (in later statements, pipelined);
// the second leases the deliveries that fit and commits.
func (s *Store) Claim(ctx context.Context, r store.ClaimRequest) ([]*store.Claimed, error) {
	if r.Limit <= 0 {
		return nil, nil
	}
	var out []*store.Claimed
	err := s.pipelined(ctx, true, func(p *pipe) error {
		out = out[:0]
		eps, slots, buckets, err := lockForClaim(ctx, p, r)
		if err != nil {
			return fmt.Errorf("claim: endpoints: %w", err)
		}
		if len(eps) == 0 {
			return nil
		}
		plan := planClaim(eps, slots, buckets, r)
		if len(plan.wantIDs) == 0 && len(plan.bucketEps) == 0 {
			return nil
		}
		b := &pgx.Batch{}
		b.Queue(claimSQL, plan.wantIDs, plan.wantN, plan.wantFIFO, r.Now, r.Owner, r.LeaseUntil,
			plan.slotEps, plan.slotNums, plan.slotRanks, plan.bucketEps, plan.bucketLevels)
		br := p.send(ctx, b, true)
		rows, err := br.Query()
		out, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (*store.Claimed, error) {
			c := &store.Claimed{}
			d, err := sqlstore.ScanDeliveryWith(dialect{}, row, &c.Type, &c.Payload, &c.Headers, &c.Trace.Parent, &c.Trace.State)
			c.Delivery = d
			if len(c.Headers) == 0 {
				c.Headers = nil
			}
			return c, err
		})
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockForClaim locks the endpoints to claim for and reads their slots and rate buckets,
// in one round trip that begins the claim's transaction.
func lockForClaim(ctx context.Context, p *pipe, r store.ClaimRequest) ([]claimEndpoint, map[string]*slotState, map[string]*bucket, error) {
	b := &pgx.Batch{}
	b.Queue(claimEndpointsSQL, sqlstore.NonNil(r.Exclude), r.Now, r.Limit, r.EndpointConcurrency)
	b.Queue(lockedSlotsSQL, r.Now)
	b.Queue(lockedBucketsSQL)
	br := p.send(ctx, b, false)
	rows, err := br.Query()
	eps, err := sqlstore.Collect(rows, err, func(row sqlstore.Row) (claimEndpoint, error) {
		var e claimEndpoint
		err := row.Scan(&e.id, &e.fifo, &e.maxConc, &e.rate, &e.due)
		return e, err
	})
	var slots map[string]*slotState
	buckets := map[string]*bucket{}
	if err == nil {
		rows, err = br.Query()
		slots, err = readSlots(rows, err)
	}
	if err == nil {
		rows, err = br.Query()
		_, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (struct{}, error) {
			var id string
			var b bucket
			err := row.Scan(&id, &b.tokens, &b.at)
			buckets[id] = &b
			return struct{}{}, err
		})
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return eps, slots, buckets, err
}

// claimPlan is what claimSQL is asked to lease: how many deliveries of each endpoint,
// into which slots, and the new levels of the rate buckets.
type claimPlan struct {
	wantIDs             []string
	wantN               []int32
	wantFIFO            []bool
	slotEps             []string
	slotNums, slotRanks []int32
	bucketEps           []string
	bucketLevels        []float64
}

// planClaim decides, oldest due work first, how much of each endpoint's due work to
// lease within r.Limit, its free slots and its rate bucket.
func planClaim(eps []claimEndpoint, slots map[string]*slotState, buckets map[string]*bucket, r store.ClaimRequest) *claimPlan {
	p := &claimPlan{}
	limited := r.EndpointConcurrency > 0
	remaining := r.Limit
	for _, e := range eps {
		if remaining == 0 {
			break
		}
		n := min(e.due, remaining)
		if e.fifo {
			n = 1
		}
		if limited && e.rate > 0 {
			level := buckets[e.id].level(e.rate, r.Now)
			n = min(n, int(level))
			p.bucketEps, p.bucketLevels = append(p.bucketEps, e.id), append(p.bucketLevels, level)
		}
		if e.fifo || limited {
			limit := 1
			switch {
			case e.fifo:
			case e.maxConc > 0:
				limit = e.maxConc
			default:
				limit = r.EndpointConcurrency
			}
			free := slots[e.id].free(limit, n)
			n = len(free)
			for i, slot := range free {
				p.slotEps, p.slotNums, p.slotRanks = append(p.slotEps, e.id), append(p.slotNums, slot), append(p.slotRanks, int32(i+1))
			}
		}
		if n <= 0 {
			continue
		}
		remaining -= n
		p.wantIDs, p.wantN, p.wantFIFO = append(p.wantIDs, e.id), append(p.wantN, int32(n)), append(p.wantFIFO, e.fifo)
	}
	return p
}
