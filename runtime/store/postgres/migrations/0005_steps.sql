-- Durable steps (bifrost.Step): one row per step name of an execution, the
-- last attempt that ran it. A succeeded row holds the step's JSON result,
-- which a later attempt of the execution returns in place of running the
-- step again; a failed row is kept for the timeline and replaced when the
-- next attempt runs the step. Deleted with the execution (retention).
CREATE TABLE bifrost_steps (
    execution_id TEXT    NOT NULL REFERENCES bifrost_executions (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    attempt      INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    result       TEXT,
    error        TEXT    NOT NULL DEFAULT '',
    started_at   BIGINT  NOT NULL,
    ended_at     BIGINT  NOT NULL,
    PRIMARY KEY (execution_id, name)
);
