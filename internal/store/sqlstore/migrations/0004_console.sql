-- The web console and portal: sessions and single-use portal links (only the SHA-256
-- of their tokens), the event catalogue, and the indexes behind the console's pages.

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL, -- console, portal, or link (a portal link not yet used)
    hash         {{.blob}} NOT NULL UNIQUE,
    key_id       TEXT REFERENCES api_keys(id) ON DELETE CASCADE, -- console: ends with its key
    app_id       TEXT REFERENCES apps(id) ON DELETE CASCADE,     -- portal and link
    capabilities {{.list}},
    endpoint_ids {{.list}},
    created_at   {{.time}} NOT NULL,
    expires_at   {{.time}} NOT NULL
);
CREATE INDEX sessions_app ON sessions(app_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE event_types (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    schema      {{.blob}}, -- JSON, byte for byte as given; NULL for none
    example     {{.blob}},
    deprecated  {{.bool}},
    created_at  {{.time}} NOT NULL,
    updated_at  {{.time}} NOT NULL
);

-- An endpoint's attempts over time (its stats), covering the outcome.
CREATE INDEX attempts_endpoint_started ON attempts(endpoint_id, started_at, outcome);
-- The oldest pending delivery (the console's overview).
CREATE INDEX deliveries_pending_created ON deliveries(created_at) WHERE status = 'pending';
