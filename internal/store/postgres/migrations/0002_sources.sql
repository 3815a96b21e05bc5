-- Rejected requests in age order, for retention across nodes.
CREATE INDEX source_rejections_received ON source_rejections(received_at);
