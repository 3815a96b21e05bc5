-- Listener liveness: when a listener endpoint last had a `herald listen` session, as
-- refreshed by the nodes it is attached to (NULL: never; its created_at counts). The
-- engine fails the pending deliveries of listeners gone too long and removes idle ones.

ALTER TABLE endpoints ADD COLUMN listener_seen_at {{.time}};
