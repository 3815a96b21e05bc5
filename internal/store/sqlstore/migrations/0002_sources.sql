-- Receiving gateway: sources (inbound provider webhooks), rejected requests, and the
-- columns that carry a source's events through the delivery engine.

CREATE TABLE sources (
    id             TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name           TEXT NOT NULL DEFAULT '',
    provider       TEXT NOT NULL,
    secrets        {{.blob}} NOT NULL,          -- encrypted JSON array of secret strings
    hmac_config    TEXT NOT NULL DEFAULT '', -- JSON, for the generic hmac provider
    max_body_bytes {{.bigint}} NOT NULL DEFAULT 0,
    dedupe_seconds {{.bigint}} NOT NULL DEFAULT 0,
    created_at     {{.time}} NOT NULL,
    updated_at     {{.time}} NOT NULL
);
CREATE INDEX sources_app ON sources(app_id, id);

CREATE TABLE source_rejections (
    id          TEXT PRIMARY KEY,
    source_id   TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    app_id      TEXT NOT NULL,
    received_at {{.time}} NOT NULL,
    status      INTEGER NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    remote_addr TEXT NOT NULL DEFAULT '',
    headers     {{.json}} NOT NULL DEFAULT '{}',
    body        {{.blob}}
){{.keyed}};
CREATE INDEX source_rejections_source ON source_rejections(source_id, id);

-- Messages that arrived through a source remember it, and carry the provider's
-- headers (and content type) to pass along.
ALTER TABLE messages ADD COLUMN source_id TEXT;
ALTER TABLE messages ADD COLUMN headers {{.json}} NOT NULL DEFAULT '{}';
CREATE INDEX messages_source ON messages(source_id, id) WHERE source_id IS NOT NULL;

-- An endpoint may take only one source's events (a listener attached to a source).
ALTER TABLE endpoints ADD COLUMN source_id TEXT NOT NULL DEFAULT '';
