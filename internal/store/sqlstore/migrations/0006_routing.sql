-- Routing: an endpoint's payload filter (its JSON as given, '' for none; see package
-- filter) and its own retry schedule (Go durations such as 5s, 1m; empty: the server's).

ALTER TABLE endpoints ADD COLUMN filter TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN retry_schedule {{.list}};
