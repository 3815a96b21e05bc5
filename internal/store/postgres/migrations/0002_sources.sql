-- Receiving gateway (mirrors the SQLite store's migration 2): sources (inbound provider
-- webhooks), rejected requests, and the columns that carry a source's events through
-- the delivery engine.

CREATE TABLE sources (
    id             text PRIMARY KEY,
    app_id         text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name           text NOT NULL DEFAULT '',
    provider       text NOT NULL,
    secrets        bytea NOT NULL,          -- encrypted JSON array of secret strings
    hmac_config    text NOT NULL DEFAULT '', -- JSON, for the generic hmac provider
    max_body_bytes bigint NOT NULL DEFAULT 0,
    dedupe_seconds bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX sources_app ON sources(app_id, id);

CREATE TABLE source_rejections (
    id          text PRIMARY KEY,
    source_id   text NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    app_id      text NOT NULL,
    received_at timestamptz NOT NULL,
    status      integer NOT NULL,
    code        text NOT NULL,
    message     text NOT NULL,
    remote_addr text NOT NULL DEFAULT '',
    headers     jsonb NOT NULL DEFAULT '{}',
    body        bytea
);
CREATE INDEX source_rejections_source ON source_rejections(source_id, id);
CREATE INDEX source_rejections_received ON source_rejections(received_at);

-- Messages that arrived through a source remember it, and carry the provider's
-- headers (and content type) to pass along.
ALTER TABLE messages ADD COLUMN source_id text;
ALTER TABLE messages ADD COLUMN headers jsonb NOT NULL DEFAULT '{}';
CREATE INDEX messages_source ON messages(source_id, id) WHERE source_id IS NOT NULL;

-- An endpoint may take only one source's events (a listener attached to a source).
ALTER TABLE endpoints ADD COLUMN source_id text NOT NULL DEFAULT '';
