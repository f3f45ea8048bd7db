-- Worker liveness (PostgreSQL only; docs/deploy.md). Every process that runs
-- executions has a row, inserted before it takes work and refreshed every 5
-- seconds (times are the database's clock, so hosts' clocks do not matter).
-- Its id is also its queue client id, which the queue records as the last
-- element of river_job.attempted_by: a running job whose worker has not
-- heartbeated for 30 seconds is handed to another by any live worker.
CREATE TABLE bifrost_workers (
    id           TEXT PRIMARY KEY,
    host         TEXT        NOT NULL DEFAULT '',
    pid          INTEGER     NOT NULL DEFAULT 0,
    slots        INTEGER     NOT NULL DEFAULT 0,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
