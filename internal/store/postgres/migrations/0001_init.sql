-- What several nodes sharing the database need besides sqlstore's schema, version 1:
-- one delivery sequence, concurrency slots, rate buckets and settings.

-- Publish order across every node, for FIFO endpoints.
CREATE SEQUENCE delivery_seq;

-- Pending deliveries of each endpoint in due order, for claims across nodes.
CREATE INDEX deliveries_endpoint_due ON deliveries(endpoint_id, next_attempt_at) WHERE status = 'pending';

-- Concurrency slots, shared by every node: an endpoint with a limit of N has slots 0..N-1
-- (created when first needed). A slot is taken by a leased delivery until its lease ends
-- (until, renewed with the lease) or the delivery is completed or released, which clears
-- it; a node that dies leaves slots that free themselves when their leases run out.
-- Claims and publishes take free slots while they hold the endpoint's row lock. Small
-- rows updated in place (HOT), unlike the deliveries, where counting leases would have to
-- step over the index entries of every recent row version.
CREATE TABLE endpoint_slots (
    endpoint_id text NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    slot        integer NOT NULL,
    delivery_id text,
    until       timestamptz,
    PRIMARY KEY (endpoint_id, slot)
) WITH (fillfactor = 50);

-- Token buckets of rate-limited endpoints, shared by every node: a claim takes tokens
-- while it holds the endpoint's row lock.
CREATE TABLE endpoint_buckets (
    endpoint_id text PRIMARY KEY REFERENCES endpoints(id) ON DELETE CASCADE,
    tokens      double precision NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Facts about the database itself, such as a value encrypted with the nodes' key, so
-- that a node started with a different key refuses to run instead of failing later.
CREATE TABLE settings (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);
