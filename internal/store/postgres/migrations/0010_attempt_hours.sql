-- PostgreSQL's upkeep of attempt_hours (shared part of version 10): statement triggers
-- see every attempt a statement inserted or deleted (retention, a deleted endpoint or
-- app) and add or subtract them per endpoint and hour, in the statement's transaction;
-- an hour whose counts fall to zero is removed. Rows are changed in (endpoint, hour)
-- order, so that two transactions lock them in the same order. An attempt a
-- transformation cancelled made no request: it is neither a success nor a failure.
--
-- The triggers exist before the backfill below: creating them locks the attempts
-- against writes until this migration commits, so no attempt is counted twice or missed.

CREATE FUNCTION attempt_hours_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO attempt_hours (endpoint_id, hour, succeeded, failed)
    SELECT endpoint_id, date_trunc('hour', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
        count(*) FILTER (WHERE outcome = 'succeeded'), count(*) FILTER (WHERE outcome <> 'succeeded')
    FROM new_attempts WHERE outcome <> 'cancelled' GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (endpoint_id, hour) DO UPDATE SET
        succeeded = attempt_hours.succeeded + excluded.succeeded, failed = attempt_hours.failed + excluded.failed;
    RETURN NULL;
END $$;

CREATE FUNCTION attempt_hours_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (
        SELECT endpoint_id, date_trunc('hour', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
            count(*) FILTER (WHERE outcome = 'succeeded') AS ok, count(*) FILTER (WHERE outcome <> 'succeeded') AS bad
        FROM old_attempts WHERE outcome <> 'cancelled' GROUP BY 1, 2
    ), locked AS (
        SELECT h.endpoint_id, h.hour FROM attempt_hours h JOIN gone g ON g.endpoint_id = h.endpoint_id AND g.hour = h.hour
        ORDER BY 1, 2 FOR UPDATE OF h
    )
    UPDATE attempt_hours h SET succeeded = h.succeeded - g.ok, failed = h.failed - g.bad
    FROM gone g, locked l WHERE h.endpoint_id = g.endpoint_id AND h.hour = g.hour AND l.endpoint_id = g.endpoint_id AND l.hour = g.hour;
    DELETE FROM attempt_hours h USING (
        SELECT DISTINCT endpoint_id, date_trunc('hour', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour FROM old_attempts
        WHERE outcome <> 'cancelled'
    ) g WHERE h.endpoint_id = g.endpoint_id AND h.hour = g.hour AND h.succeeded = 0 AND h.failed = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER attempt_hours_insert AFTER INSERT ON attempts
    REFERENCING NEW TABLE AS new_attempts FOR EACH STATEMENT EXECUTE FUNCTION attempt_hours_insert();
CREATE TRIGGER attempt_hours_delete AFTER DELETE ON attempts
    REFERENCING OLD TABLE AS old_attempts FOR EACH STATEMENT EXECUTE FUNCTION attempt_hours_delete();

-- The attempts recorded before this version.
INSERT INTO attempt_hours (endpoint_id, hour, succeeded, failed)
SELECT endpoint_id, date_trunc('hour', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
    count(*) FILTER (WHERE outcome = 'succeeded'), count(*) FILTER (WHERE outcome <> 'succeeded')
FROM attempts WHERE outcome <> 'cancelled' GROUP BY 1, 2;

