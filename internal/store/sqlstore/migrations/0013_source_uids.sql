-- A source may have a uid, a name unique on the server, so that it is reachable at
-- /in/{uid} as well as /in/{id}. NULL (no uid) may repeat.
ALTER TABLE sources ADD COLUMN uid TEXT;
CREATE UNIQUE INDEX sources_uid_key ON sources(uid);
