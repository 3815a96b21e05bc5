-- Endpoint kinds: "http" (herald POSTs to the URL) or "listener" (a `herald listen`
-- session, URL listen:NAME). An app has one listener of each name: older versions could
-- create two at once, so all but the oldest of each are disabled and renamed first.

ALTER TABLE endpoints ADD COLUMN kind TEXT NOT NULL DEFAULT 'http';
UPDATE endpoints SET kind = 'listener' WHERE url LIKE 'listen:%';

UPDATE endpoints SET state = 'disabled', disabled_reason = 'duplicate listener endpoint', url = url || '#' || id
WHERE kind = 'listener' AND EXISTS (
    SELECT 1 FROM endpoints older
    WHERE older.app_id = endpoints.app_id AND older.url = endpoints.url AND older.kind = 'listener'
        AND (older.created_at < endpoints.created_at OR (older.created_at = endpoints.created_at AND older.id < endpoints.id)));

CREATE UNIQUE INDEX endpoints_listener_url ON endpoints(app_id, url) WHERE kind = 'listener';
