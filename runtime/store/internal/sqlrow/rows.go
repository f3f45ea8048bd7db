// Package sqlrow is what the SQLite and PostgreSQL stores share and no SQL
// dialect decides: how a record is laid out in columns (times as
// microseconds, JSON as text), how a row scans back into it, the migration
// runner, and Tables: the store methods whose statements both databases
// accept, written once with ? placeholders that a driver may renumber. Each
// store writes the rest of its SQL itself (Start, Finish, the queue, worker
// liveness).
package sqlrow

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// Now is the stores' clock, in microseconds like the columns.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Micros is a time as stored: microseconds since the epoch, 0 for zero.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros is a stored time, in UTC.
func FromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// Columns are bifrost_executions' columns, in the order ScanExecution reads.
const Columns = `id, workflow, mode, status, attempt, input, result, error, logs, credential,
	idempotency_key, job_id, created_at, started_at, finished_at, trigger, replay_of, trace_parent`

// Scanner is a row: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(...any) error }

// SummaryColumns are Columns without the input, result and logs (NULL in
// their place), for a list whose cost must not depend on what they hold.
const SummaryColumns = `id, workflow, mode, status, attempt, NULL, NULL, error, NULL, credential,
	idempotency_key, job_id, created_at, started_at, finished_at, trigger, replay_of, trace_parent`

// ScanExecution reads a row of Columns or SummaryColumns.
func ScanExecution(row Scanner) (*store.Execution, error) {
	var (
		e                         store.Execution
		input, result, logs, ikey sql.NullString
		created, started, ended   int64
	)
	err := row.Scan(&e.ID, &e.Workflow, &e.Mode, &e.Status, &e.Attempt, &input, &result, &e.Error, &logs,
		&e.Credential, &ikey, &e.JobID, &created, &started, &ended, &e.Trigger, &e.ReplayOf, &e.TraceParent)
	if err != nil {
		return nil, err
	}
	if input.Valid {
		e.Input = json.RawMessage(input.String)
	}
	if result.Valid {
		e.Result = json.RawMessage(result.String)
	}
	if logs.Valid && logs.String != "" {
		if err := json.Unmarshal([]byte(logs.String), &e.Logs); err != nil {
			return nil, fmt.Errorf("execution %s: logs: %w", e.ID, err)
		}
	}
	e.IdempotencyKey = ikey.String
	e.CreatedAt, e.StartedAt, e.FinishedAt = FromMicros(created), FromMicros(started), FromMicros(ended)
	return &e, nil
}

// Trigger is e's trigger as stored: TriggerHTTP when none is set.
func Trigger(e *store.Execution) string {
	if e.Trigger == "" {
		return store.TriggerHTTP
	}
	return e.Trigger
}

// NullString is s, NULL when empty.
func NullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// NullJSON is raw as text, NULL when empty.
func NullJSON(raw json.RawMessage) sql.NullString {
	return sql.NullString{String: string(raw), Valid: len(raw) > 0}
}

// LogsJSON is logs as stored: a JSON array, NULL when empty.
func LogsJSON(logs []store.LogEntry) (sql.NullString, error) {
	if len(logs) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(logs)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// KeyColumns are bifrost_keys' columns, in the order ScanKey reads.
const KeyColumns = `id, hash, workflows, description, created_at, expires_at, revoked_at, last_used_at`

// ScanKey reads a row of KeyColumns.
func ScanKey(row Scanner) (*store.Key, error) {
	var (
		k                               store.Key
		workflows                       sql.NullString
		created, expires, revoked, used int64
	)
	if err := row.Scan(&k.ID, &k.Hash, &workflows, &k.Description, &created, &expires, &revoked, &used); err != nil {
		return nil, err
	}
	if workflows.Valid {
		if err := json.Unmarshal([]byte(workflows.String), &k.Workflows); err != nil {
			return nil, err
		}
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = FromMicros(created), FromMicros(expires), FromMicros(revoked), FromMicros(used)
	return &k, nil
}

// KeyWorkflows is a key's scope as stored: a JSON array, NULL for a global key.
func KeyWorkflows(k *store.Key) (sql.NullString, error) {
	if len(k.Workflows) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(k.Workflows)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// ConfigColumns are bifrost_config's columns, in the order ScanConfig reads.
const ConfigColumns = `name, value, secret, key_id, updated_at`

// ScanConfig reads a row of ConfigColumns.
func ScanConfig(row Scanner) (*store.ConfigValue, error) {
	var (
		c       store.ConfigValue
		secret  int
		updated int64
	)
	if err := row.Scan(&c.Name, &c.Value, &secret, &c.KeyID, &updated); err != nil {
		return nil, err
	}
	c.Secret, c.UpdatedAt = secret != 0, FromMicros(updated)
	return &c, nil
}

// Bool is b as the stores keep flags: 1 or 0.
func Bool(b bool) int {
	if b {
		return 1
	}
	return 0
}
