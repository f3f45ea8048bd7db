-- What started an execution, and what it belongs to: trigger is how it was
-- started (http, replay, schedule, enqueue); replay_of the execution a replay
-- repeats; trace_parent the W3C traceparent of the request that accepted it,
-- so a worker's attempt joins the caller's trace even in another process.
ALTER TABLE bifrost_executions ADD COLUMN trigger TEXT NOT NULL DEFAULT 'http';
ALTER TABLE bifrost_executions ADD COLUMN replay_of TEXT NOT NULL DEFAULT '';
ALTER TABLE bifrost_executions ADD COLUMN trace_parent TEXT NOT NULL DEFAULT '';

CREATE INDEX bifrost_executions_replay_of ON bifrost_executions (replay_of) WHERE replay_of <> '';
