-- Node liveness: every node records a heartbeat every few seconds. The leases of a node
-- whose heartbeat is older than the cluster's node timeout are released by the others
-- (a node killed with kill -9 loses its deliveries to them within seconds, not when
-- its 2-minute leases run out); a node that is only slow keeps heartbeating, and so its work.
CREATE TABLE nodes (
    id           text PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);
