-- Fewer b-trees per delivery (issue 18): every index of messages, deliveries and
-- attempts is written by each publish or attempt, so the ones the remaining indexes
-- or the primary keys can stand in for go.
--
-- Ids are time-ordered (internal/ids), so retention and the all-endpoint attempt counts
-- select a time range as a range of the primary key (ids.Floor): the indexes by
-- creation and start time are not needed.
DROP INDEX IF EXISTS messages_created;
DROP INDEX IF EXISTS attempts_started;
-- An app's messages (its list, deleting the app) are served by messages_app_created,
-- whose first column is the app.
DROP INDEX IF EXISTS messages_app;
-- The status of a delivery changes when it completes: an index holding it was
-- rewritten by every completion. An endpoint's deliveries of one status are found
-- through deliveries_endpoint, newest first; the partial indexes of pending deliveries
-- (deliveries_due, deliveries_fifo, deliveries_pending_created) are the queue.
DROP INDEX IF EXISTS deliveries_endpoint_status;
