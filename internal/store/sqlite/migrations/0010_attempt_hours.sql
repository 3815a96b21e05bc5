-- SQLite's upkeep of attempt_hours (shared part of version 10): a trigger per attempt
-- inserted or deleted (retention, a deleted endpoint or app) keeps the hour's counts
-- equal to the attempts'; an hour whose counts fall to zero is removed. Times are unix
-- milliseconds, so an hour starts at started_at - started_at % 3600000. An attempt a
-- transformation cancelled made no request: it is neither a success nor a failure.

CREATE TRIGGER attempt_hours_insert AFTER INSERT ON attempts WHEN NEW.outcome <> 'cancelled' BEGIN
    INSERT INTO attempt_hours (endpoint_id, hour, succeeded, failed)
    VALUES (NEW.endpoint_id, NEW.started_at - NEW.started_at % 3600000,
        NEW.outcome = 'succeeded', NEW.outcome <> 'succeeded')
    ON CONFLICT (endpoint_id, hour) DO UPDATE SET
        succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed;
END;

CREATE TRIGGER attempt_hours_delete AFTER DELETE ON attempts WHEN OLD.outcome <> 'cancelled' BEGIN
    UPDATE attempt_hours SET succeeded = succeeded - (OLD.outcome = 'succeeded'), failed = failed - (OLD.outcome <> 'succeeded')
    WHERE endpoint_id = OLD.endpoint_id AND hour = OLD.started_at - OLD.started_at % 3600000;
    DELETE FROM attempt_hours
    WHERE endpoint_id = OLD.endpoint_id AND hour = OLD.started_at - OLD.started_at % 3600000 AND succeeded = 0 AND failed = 0;
END;

-- The attempts recorded before this version.
INSERT INTO attempt_hours (endpoint_id, hour, succeeded, failed)
SELECT endpoint_id, started_at - started_at % 3600000, SUM(outcome = 'succeeded'), SUM(outcome <> 'succeeded')
FROM attempts WHERE outcome <> 'cancelled' GROUP BY endpoint_id, started_at - started_at % 3600000;
