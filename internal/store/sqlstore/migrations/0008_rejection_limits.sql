-- Rejections keep a bounded excerpt (see domain.RejectionExcerpt) and the request's own
-- sizes; size is what a row stores, for the store's byte budget of rejections, and the
-- index serves retention and the budget, oldest first.

ALTER TABLE source_rejections ADD COLUMN header_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE source_rejections ADD COLUMN header_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE source_rejections ADD COLUMN body_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE source_rejections ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
UPDATE source_rejections SET size = length(CAST(headers AS TEXT)) + COALESCE(length(body), 0) + length(message);
CREATE INDEX source_rejections_oldest ON source_rejections(received_at, id, size);
