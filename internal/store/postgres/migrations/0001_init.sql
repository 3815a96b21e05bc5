-- herald schema for PostgreSQL, version 1: the SQLite schema's version 1 with native
-- types (timestamptz, jsonb, text[], bytea), plus what several nodes sharing the
-- database need (delivery_seq, endpoint_slots, endpoint_buckets, settings).

CREATE TABLE apps (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    uid        text UNIQUE,
    metadata   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    app_id     text REFERENCES apps(id) ON DELETE CASCADE,
    name       text NOT NULL DEFAULT '',
    prefix     text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
CREATE INDEX api_keys_app ON api_keys(app_id, id);

CREATE TABLE endpoints (
    id              text PRIMARY KEY,
    app_id          text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    url             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    event_types     text[] NOT NULL DEFAULT '{}',
    headers         jsonb NOT NULL DEFAULT '{}',
    state           text NOT NULL,
    disabled_reason text NOT NULL DEFAULT '',
    max_concurrency integer NOT NULL DEFAULT 0,
    rate_limit      double precision NOT NULL DEFAULT 0,
    timeout_ms      integer NOT NULL DEFAULT 0,
    fifo            boolean NOT NULL DEFAULT false,
    metadata        jsonb NOT NULL DEFAULT '{}',
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX endpoints_app ON endpoints(app_id, id);

CREATE TABLE endpoint_secrets (
    id          text PRIMARY KEY,
    endpoint_id text NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    secret      bytea NOT NULL, -- encrypted
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets(endpoint_id);

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

CREATE TABLE messages (
    id              text PRIMARY KEY,
    app_id          text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    type            text NOT NULL,
    payload         bytea, -- byte for byte as published; NULL once purged
    idempotency_key text,
    created_at      timestamptz NOT NULL
);
CREATE INDEX messages_app ON messages(app_id, id);
CREATE INDEX messages_created ON messages(created_at);

CREATE TABLE idempotency_keys (
    app_id     text NOT NULL,
    key        text NOT NULL,
    message_id text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (app_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- Publish order across every node, for FIFO endpoints.
CREATE SEQUENCE delivery_seq;

CREATE TABLE deliveries (
    id               text PRIMARY KEY,
    app_id           text NOT NULL,
    message_id       text NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    endpoint_id      text NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    seq              bigint NOT NULL,
    status           text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    retry_step       integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    lease_owner      text, -- set while a node holds the delivery; its lease ends at next_attempt_at
    last_status_code integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
) WITH (
    -- Every delivery leaves a few dead row versions, and the queue's scans step over their
    -- index entries until a vacuum removes them: vacuum after 2% rather than 20% changed.
    autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000
);
-- The queue: pending deliveries in due order, per endpoint, and in FIFO order.
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint_due ON deliveries(endpoint_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_fifo ON deliveries(endpoint_id, seq) WHERE status = 'pending';
CREATE INDEX deliveries_app ON deliveries(app_id, id);
CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id, id);
CREATE INDEX deliveries_message ON deliveries(message_id);

CREATE TABLE attempts (
    id               text PRIMARY KEY,
    delivery_id      text NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    app_id           text NOT NULL,
    endpoint_id      text NOT NULL,
    message_id       text NOT NULL,
    number           integer NOT NULL,
    started_at       timestamptz NOT NULL,
    latency_us       bigint NOT NULL,
    status_code      integer NOT NULL DEFAULT 0,
    response_headers jsonb NOT NULL DEFAULT '{}',
    response_body    bytea,
    error            text NOT NULL DEFAULT '',
    outcome          text NOT NULL
);
CREATE INDEX attempts_delivery ON attempts(delivery_id, id);
CREATE INDEX attempts_app ON attempts(app_id, id);
CREATE INDEX attempts_started ON attempts(started_at);

-- Facts about the database itself, such as a value encrypted with the nodes' key, so
-- that a node started with a different key refuses to run instead of failing later.
CREATE TABLE settings (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);
