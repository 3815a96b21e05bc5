-- PostgreSQL's deliveries_pending_created (shared version 5) served only the oldest
-- pending delivery (GET /v1/stats), yet every publish added an entry to it and every
-- claim, which moves next_attempt_at, added another. Store.OldestPending reads each
-- endpoint's head of deliveries_fifo instead (internal/store/postgres/oldest.go).
DROP INDEX IF EXISTS deliveries_pending_created;
