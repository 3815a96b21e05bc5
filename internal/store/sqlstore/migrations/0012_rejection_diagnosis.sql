-- The verification debugger's diagnosis of a rejected request (webhook/diagnose),
-- computed when the gateway refused it: a JSON array of findings (code, message, hint,
-- confirmed), bounded by domain.MaxRejectionFindings. Rows written before it read as
-- no findings.

ALTER TABLE source_rejections ADD COLUMN diagnosis TEXT NOT NULL DEFAULT '[]';
