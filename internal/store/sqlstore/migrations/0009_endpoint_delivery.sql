-- Endpoint transformations and receiver credentials, and what each attempt sent:
-- an endpoint's transformation is its JavaScript source ('' for none); its auth is a
-- domain.Auth as JSON, encrypted as a whole (NULL for none); an attempt's
-- request_headers are the headers it was sent with, credentials redacted ({} when no
-- request was made).

ALTER TABLE endpoints ADD COLUMN transformation TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN auth {{.blob}};
ALTER TABLE attempts ADD COLUMN request_headers {{.json}} NOT NULL DEFAULT '{}';
