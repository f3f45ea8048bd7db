-- Executions: the record of every run, and the state of async ones.
-- Times are Unix microseconds, so SQLite and PostgreSQL store them alike.
CREATE TABLE bifrost_executions (
    id               TEXT PRIMARY KEY,
    workflow         TEXT    NOT NULL,
    mode             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempt          INTEGER NOT NULL DEFAULT 0,
    input            TEXT,
    result           TEXT,
    error            TEXT    NOT NULL DEFAULT '',
    logs             TEXT,
    credential       TEXT    NOT NULL DEFAULT '',
    idempotency_key  TEXT,
    job_id           INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER NOT NULL DEFAULT 0,
    finished_at      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX bifrost_executions_workflow ON bifrost_executions (workflow, id);
CREATE INDEX bifrost_executions_status ON bifrost_executions (status, id);
CREATE UNIQUE INDEX bifrost_executions_idempotency
    ON bifrost_executions (workflow, credential, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
