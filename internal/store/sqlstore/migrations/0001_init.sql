-- herald schema, version 1, for every SQL backend. The {{"{{"}}.name{{"}}"}} placeholders
-- are each backend's column types: SQLite stores times as unix milliseconds, maps as
-- JSON text and lists as JSON arrays; PostgreSQL uses timestamptz, jsonb and text[].

CREATE TABLE apps (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    uid        TEXT UNIQUE,
    metadata   {{.json}} NOT NULL DEFAULT '{}',
    created_at {{.time}} NOT NULL,
    updated_at {{.time}} NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    app_id     TEXT REFERENCES apps(id) ON DELETE CASCADE,
    name       TEXT NOT NULL DEFAULT '',
    prefix     TEXT NOT NULL,
    hash       {{.blob}} NOT NULL UNIQUE,
    created_at {{.time}} NOT NULL
);
CREATE INDEX api_keys_app ON api_keys(app_id, id);

CREATE TABLE endpoints (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     {{.list}},
    headers         {{.json}} NOT NULL DEFAULT '{}',
    state           TEXT NOT NULL,
    disabled_reason TEXT NOT NULL DEFAULT '',
    max_concurrency INTEGER NOT NULL DEFAULT 0,
    rate_limit      {{.real}} NOT NULL DEFAULT 0,
    timeout_ms      INTEGER NOT NULL DEFAULT 0,
    fifo            {{.bool}},
    metadata        {{.json}} NOT NULL DEFAULT '{}',
    failing_since   {{.time}},
    created_at      {{.time}} NOT NULL,
    updated_at      {{.time}} NOT NULL
);
CREATE INDEX endpoints_app ON endpoints(app_id, id);

CREATE TABLE endpoint_secrets (
    id          TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    secret      {{.blob}} NOT NULL, -- encrypted
    created_at  {{.time}} NOT NULL,
    expires_at  {{.time}}
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets(endpoint_id);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    payload         {{.blob}}, -- byte for byte as published; NULL once purged
    idempotency_key TEXT,
    created_at      {{.time}} NOT NULL
);
CREATE INDEX messages_app ON messages(app_id, id);
CREATE INDEX messages_created ON messages(created_at);

CREATE TABLE idempotency_keys (
    app_id     TEXT NOT NULL,
    key        TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at {{.time}} NOT NULL,
    PRIMARY KEY (app_id, key)
){{.keyed}};
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    app_id           TEXT NOT NULL,
    message_id       TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    endpoint_id      TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    seq              {{.bigint}} NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    retry_step       INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  {{.time}},
    lease_owner      TEXT, -- set while a node holds the delivery; its lease ends at next_attempt_at
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       {{.time}} NOT NULL,
    updated_at       {{.time}} NOT NULL
){{.queue}};
-- The queue: pending deliveries in due order, and in FIFO order.
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_fifo ON deliveries(endpoint_id, seq) WHERE status = 'pending';
CREATE INDEX deliveries_app ON deliveries(app_id, id);
CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id, id);
CREATE INDEX deliveries_message ON deliveries(message_id);

CREATE TABLE attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    app_id           TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    number           INTEGER NOT NULL,
    started_at       {{.time}} NOT NULL,
    latency_us       {{.bigint}} NOT NULL,
    status_code      INTEGER NOT NULL DEFAULT 0,
    response_headers {{.json}} NOT NULL DEFAULT '{}',
    response_body    {{.blob}},
    error            TEXT NOT NULL DEFAULT '',
    outcome          TEXT NOT NULL
){{.keyed}};
CREATE INDEX attempts_delivery ON attempts(delivery_id, id);
CREATE INDEX attempts_app ON attempts(app_id, id);
CREATE INDEX attempts_started ON attempts(started_at);
