-- Operational webhooks and the status report (docs/operational-webhooks.md).
-- The app that holds the operator's operational endpoints is marked reserved (NULL for
-- every customer app; unique, so that nodes starting at once create only one); the
-- store hides it from app lookups and lists.
-- failing_notified_at is set when message.attempt.failing was sent for an endpoint's
-- current failure streak (to when the streak began), so that it is sent once per streak
-- across restarts and nodes, and message.attempt.recovered once when the streak ends.
-- The partial indexes read only the endpoints that are failing: GET /v1/status's list
-- and the set of notified streaks.
ALTER TABLE apps ADD COLUMN reserved TEXT;
CREATE UNIQUE INDEX apps_reserved ON apps(reserved);
ALTER TABLE endpoints ADD COLUMN failing_notified_at {{.time}};
CREATE INDEX endpoints_failing ON endpoints(failing_since) WHERE failing_since IS NOT NULL;
CREATE INDEX endpoints_failing_notified ON endpoints(failing_notified_at) WHERE failing_notified_at IS NOT NULL;
