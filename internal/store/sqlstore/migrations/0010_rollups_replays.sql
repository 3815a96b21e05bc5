-- The console's rollups and background work: attempts counted per endpoint and hour
-- (the endpoint charts read them instead of the attempts), app-wide replay jobs, and
-- where a listener's `herald listen` session is connected.

-- Attempts per endpoint and hour (hour: the start of the UTC hour), kept equal to the
-- attempts table by each backend's triggers on insert and delete, in the same
-- transaction; filled from the attempts by this migration.
CREATE TABLE attempt_hours (
    endpoint_id TEXT NOT NULL,
    hour        {{.time}} NOT NULL,
    succeeded   {{.bigint}} NOT NULL DEFAULT 0,
    failed      {{.bigint}} NOT NULL DEFAULT 0, -- retrying or failed
    PRIMARY KEY (endpoint_id, hour)
){{.keyed}};

-- App-wide replays (POST /v1/apps/{app}/replay): the filter, the cursor (the last
-- message looked at, in (created_at, id) order), counts, and the node running it.
CREATE TABLE replay_jobs (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    range_since {{.time}},
    range_until {{.time}} NOT NULL,
    statuses    {{.list}},
    event_types {{.list}},
    cursor_at   {{.time}},
    cursor_id   TEXT NOT NULL DEFAULT '',
    first_at    {{.time}},
    scanned     {{.bigint}} NOT NULL DEFAULT 0,
    replayed    {{.bigint}} NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    lease_owner TEXT,
    lease_until {{.time}},
    created_at  {{.time}} NOT NULL,
    updated_at  {{.time}} NOT NULL,
    finished_at {{.time}}
);
CREATE INDEX replay_jobs_app ON replay_jobs(app_id, id);
CREATE INDEX replay_jobs_running ON replay_jobs(created_at) WHERE state = 'running';

-- A listener's current session: when it connected and the node holding it (NULL when
-- none); listener_seen_at (version 7) says how fresh that is.
ALTER TABLE endpoints ADD COLUMN listener_connected_at {{.time}};
ALTER TABLE endpoints ADD COLUMN listener_node TEXT;
