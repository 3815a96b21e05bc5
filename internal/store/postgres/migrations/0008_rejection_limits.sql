-- PostgreSQL's own index on received_at (version 2) is served by the shared
-- source_rejections_oldest of this version.
DROP INDEX IF EXISTS source_rejections_received;
