// Package store is the interface to what a Bifrost deployment must not
// lose: the record of every execution, API keys and configuration, and the
// capabilities the runtime needs of the database (its queue, notifications,
// migrations, orphan recovery, worker liveness). It holds no SQL: each
// database is a driver package (store/sqlite, store/postgres) that passes
// one test suite (storetest), and storeopen picks the driver from a --db
// value.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river/riverdriver"
)

// ErrNotFound is returned for an unknown execution id, key, config value or
// worker.
var ErrNotFound = errors.New("store: not found")

// ErrStaleAttempt is Finish's answer, on a store that several processes
// share, for an attempt older than the execution's current one: another
// worker re-ran it after this attempt's worker was taken for dead, and the
// record keeps the later attempt.
var ErrStaleAttempt = errors.New("store: a later attempt of this execution has started")

// DefaultDB is the store used when --db is not given: a SQLite file in the
// working directory.
const DefaultDB = "bifrost.db"

// Status is where an execution is in its lifecycle.
type Status string

const (
	Pending   Status = "pending"
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	TimedOut  Status = "timed_out"
	Cancelled Status = "cancelled"
)

// Triggers: how an execution was started. An empty Trigger is stored as
// TriggerHTTP.
const (
	TriggerHTTP     = "http"     // a request to the workflow's endpoint
	TriggerReplay   = "replay"   // a replay of an earlier execution
	TriggerSchedule = "schedule" // a tick of the workflow's schedule
	TriggerEnqueue  = "enqueue"  // a typed Start call from Go code
)

// ValidID reports whether id is written as an execution id: a UUID, 36
// characters of hex and dashes. Anything else names no execution.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// Terminal reports whether an execution in status s is over.
func (s Status) Terminal() bool {
	switch s {
	case Succeeded, Failed, TimedOut, Cancelled:
		return true
	}
	return false
}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool { return s == Pending || s == Running || s.Terminal() }

// Execution is the record of one run of a workflow, sync or async.
type Execution struct {
	ID       string
	Workflow string
	Mode     string // "sync" or "async"
	Status   Status
	Attempt  int // 1 on the first run; 0 while an async execution waits for its first

	Input  json.RawMessage // the decoded arguments, as the worker reads them
	Result json.RawMessage // the workflow's JSON result, when it succeeded
	Error  string          // the real error message, for operators
	Logs   []LogEntry
	// Steps are the durable steps: Record inserts them with a sync
	// execution; Get and List leave them out (Store.Steps reads them).
	Steps []*Step

	Credential     string // who started it: a key id or a user; "" for a public call
	IdempotencyKey string
	JobID          int64 // the queue's job, for async executions

	Trigger     string // how it was started: TriggerHTTP (the default), TriggerReplay, ...
	ReplayOf    string // for a replay, the id of the execution it repeats
	TraceParent string // the W3C traceparent of the request that started it

	CreatedAt  time.Time
	StartedAt  time.Time // zero until it runs
	FinishedAt time.Time // zero until it ends
}

// LogEntry is one line a workflow logged through bifrost.Logger(ctx).
type LogEntry struct {
	Time    time.Time      `json:"time"`
	Level   string         `json:"level"`
	Message string         `json:"message"`
	Attrs   map[string]any `json:"attrs,omitempty"`
}

// Filter selects executions for List, newest first.
type Filter struct {
	Workflow string
	Status   Status
	Limit    int    // 1 to 500; 0 means 50
	Cursor   string // the id of the last execution of the previous page
	// ReplayOf selects the replays of one execution.
	ReplayOf string
	// After and Before bound the creation time: at or after After, before
	// Before (zero: unbounded). They are read from the ids, which the
	// runtime makes UUIDv7 (their first 48 bits are the creation time in
	// milliseconds), so a bound costs a range of the primary key, not a
	// scan.
	After, Before time.Time
	// Summary leaves out each execution's input, result and logs, so that
	// a page costs the same whatever the executions hold.
	Summary bool
}

// Accepted is the outcome of accepting one async execution: the execution
// itself or, for a repeated idempotency key, the first one.
type Accepted struct {
	Execution *Execution
	Duplicate bool
}

// EnqueueFunc adds the queue jobs of freshly accepted executions inside the
// store's transaction and returns their job ids, in order.
type EnqueueFunc func(ctx context.Context, tx *sql.Tx, fresh []*Execution) ([]int64, error)

// Store is what the runtime asks of a database: every capability it needs
// is a method, so the runtime never asks which database it runs on and
// never writes SQL. Each database has its package (store/sqlite,
// store/postgres); storeopen picks one from a --db value. A capability
// that does not apply to a database is a documented no-op there.
type Store interface {
	Executions
	Retention
	Keys
	Configs
	Queue
	Notifications
	Liveness
	Steps

	// Ping checks that the database answers, for the health endpoint.
	Ping(ctx context.Context) error
	// PendingMigrations lists the store's schema migrations not applied to
	// the database (by name: "0004_links"), for the readiness endpoint:
	// opening a store migrates it, but a database restored or replaced
	// under a running process may lack them. It only reads.
	PendingMigrations(ctx context.Context) ([]string, error)
	// Close releases the database; what is pending (notifications) is sent
	// first, for a few seconds at most.
	Close() error
}

// Executions are the records of executions.
type Executions interface {
	// Accept records new async executions and, in the same transaction, their
	// queue jobs. An execution whose workflow, credential and idempotency key
	// match one created within IdempotencyWindow is not recorded: that one
	// is returned in its place.
	Accept(ctx context.Context, execs []*Execution, enqueue EnqueueFunc) ([]Accepted, error)
	// AcceptTx is Accept within the caller's transaction tx, which must be
	// open on the store's own database (the same SQLite file, the same
	// PostgreSQL database): the executions and their jobs commit or roll
	// back with the caller's own writes. The caller commits; until then no
	// worker sees them.
	AcceptTx(ctx context.Context, tx *sql.Tx, execs []*Execution, enqueue EnqueueFunc) ([]Accepted, error)
	// Record inserts finished sync executions.
	Record(ctx context.Context, execs []*Execution) error
	// Start marks an async execution running in the given attempt and returns
	// it, input included. A cancelled execution is returned unchanged.
	Start(ctx context.Context, id string, attempt int, at time.Time) (*Execution, error)
	// Finish stores an attempt's outcome: status, result, error, logs and
	// times. A pending status means the attempt failed and another will run.
	// A store that several processes share refuses an attempt older than the
	// execution's current one with ErrStaleAttempt.
	Finish(ctx context.Context, e *Execution) error
	// Cancel ends a pending execution as cancelled, or asks a running one to
	// stop. It returns the execution as it now is.
	Cancel(ctx context.Context, id string, at time.Time) (*Execution, error)
	// CancelRequested reports whether Cancel was asked of a running execution.
	CancelRequested(ctx context.Context, id string) (bool, error)
	// Get returns one execution, or ErrNotFound.
	Get(ctx context.Context, id string) (*Execution, error)
	// List returns a page of executions, newest first, and the cursor of the
	// next page ("" on the last).
	List(ctx context.Context, f Filter) ([]*Execution, string, error)
	// Stats summarizes the executions of workflow created at or after since
	// (read from the ids, as Filter.After), for the dashboard. Its cost is
	// bounded: counts over an index range, durations of the latest
	// StatsSample ended executions only.
	Stats(ctx context.Context, workflow string, since time.Time) (WorkflowStats, error)
}

// StatsSample is how many of the latest ended executions Stats reads
// durations from.
const StatsSample = 10000

// WorkflowStats summarize a workflow's executions over a window.
type WorkflowStats struct {
	Calls  int // executions created in the window, in any status
	Ended  int // of them, those that ended (succeeded, failed, timed out, cancelled)
	Failed int // of them, those that failed or timed out
	// P50 and P95 are the durations (start to end) of the ended executions
	// with a start, nearest-rank over the latest StatsSample; zero when
	// there are none.
	P50, P95 time.Duration
}

// Keys are the API keys.
type Keys interface {
	// CreateKey stores a new API key.
	CreateKey(ctx context.Context, k *Key) error
	// GetKey returns a key by id, live or not, or ErrNotFound.
	GetKey(ctx context.Context, id string) (*Key, error)
	// ListKeys returns every key, oldest first.
	ListKeys(ctx context.Context) ([]*Key, error)
	// RevokeKey revokes a key; revoking a revoked key changes nothing.
	RevokeKey(ctx context.Context, id string, at time.Time) error
	// TouchKeys records when keys were last used (never moving a time back).
	TouchKeys(ctx context.Context, used map[string]time.Time) error
	// CountKeys counts every key, revoked ones included.
	CountKeys(ctx context.Context) (int, error)
}

// Configs are the configuration values.
type Configs interface {
	// SetConfig creates or replaces a configuration value.
	SetConfig(ctx context.Context, c *ConfigValue) error
	// GetConfig returns a configuration value, or ErrNotFound.
	GetConfig(ctx context.Context, name string) (*ConfigValue, error)
	// ListConfig returns every configuration value, by name.
	ListConfig(ctx context.Context) ([]*ConfigValue, error)
	// DeleteConfig removes a configuration value, or returns ErrNotFound.
	DeleteConfig(ctx context.Context, name string) error
}

// Queue is the job queue (River) that shares the store's database, so a job
// and its execution commit together.
type Queue interface {
	// QueueDriver returns the River driver the engine builds its queue
	// client on. working says the process works jobs: where the database can
	// announce new jobs (PostgreSQL's LISTEN), the driver then listens, so a
	// job inserted by another process is fetched at once.
	QueueDriver(ctx context.Context, working bool) (riverdriver.Driver[*sql.Tx], error)
	// MigrateQueue creates or updates the queue's tables, under the
	// migration lock where processes share the database. log receives the
	// migrator's messages.
	MigrateQueue(ctx context.Context, log *slog.Logger) error
	// RecoverOrphans hands back, when a process starts, the work that a
	// process killed mid-run left running: the running async executions
	// become pending and their running jobs available, to run again at once.
	// Only a store that one process owns (SQLite) can know nothing else runs
	// them; on a shared store (PostgreSQL) it is a no-op, and ReapWorkers
	// hands back the work of dead workers instead.
	RecoverOrphans(ctx context.Context) (Recovered, error)
}

// Recovered counts the work handed back by RecoverOrphans or ReapWorkers.
type Recovered struct {
	Executions int64 // async executions made pending again
	Jobs       int64 // queue jobs made available again
}

// Notifications announce ended executions, for the ?wait= long-polls.
type Notifications interface {
	// ListenEnded calls ended with the id of every execution that reaches a
	// terminal status through Finish or Cancel, until ctx ends; then it
	// returns nil. On a shared store (PostgreSQL) that includes the
	// executions other processes end; a notification sent while the
	// listener reconnects is missed, so callers keep polling as a fallback.
	// On SQLite it hears this store's ends only: one process owns the file.
	ListenEnded(ctx context.Context, log *slog.Logger, ended func(id string)) error
}

// Liveness tells live workers from dead ones where several processes share
// the database (PostgreSQL): each worker heartbeats, and the running jobs of
// a worker silent too long are handed back. On a store one process owns
// (SQLite) every method is a no-op that succeeds (Heartbeat reports a fresh
// lease): its orphans are recovered at start (RecoverOrphans).
type Liveness interface {
	// RegisterWorker records a worker that is about to take jobs, with a
	// fresh heartbeat; registering again renews it.
	RegisterWorker(ctx context.Context, w Worker) error
	// Heartbeat renews the worker's heartbeat and returns the age of the
	// previous one, by the database's clock: past the reaper's deadAfter,
	// others may have taken the worker's jobs. ErrNotFound: the worker's row
	// was forgotten (its jobs went to others); register it again.
	Heartbeat(ctx context.Context, id string) (time.Duration, error)
	// RemoveWorker forgets a worker that stopped and holds no job.
	RemoveWorker(ctx context.Context, id string) error
	// ReapWorkers makes the running jobs of workers with no heartbeat for
	// deadAfter (or no row at all), fetched at least deadAfter ago,
	// available again and their executions pending, in one step; then it
	// forgets the workers silent for forgetAfter.
	ReapWorkers(ctx context.Context, deadAfter, forgetAfter time.Duration) (Recovered, error)
	// Workers lists the registered workers, most recent heartbeat first,
	// and whether the store tracks them at all (false on SQLite: nil, false).
	Workers(ctx context.Context) ([]WorkerState, bool, error)
}

// WorkerState is a registered worker as its last heartbeat left it.
type WorkerState struct {
	Worker
	StartedAt    time.Time
	HeartbeatAge time.Duration // by the database's clock
}

// Worker is a process that runs executions.
type Worker struct {
	ID    string // also its queue client id: a job records which worker fetched it
	Host  string
	PID   int
	Slots int // how many executions it runs at once
}

// IdempotencyWindow is how long an idempotency key returns its first execution.
const IdempotencyWindow = 24 * time.Hour

// Retention bounds what the store holds: old executions are deleted, and
// the queue's depth can be read cheaply to refuse work past a cap.
type Retention interface {
	// Prune deletes at most f.Limit ended executions created before
	// f.Before (of f.Workflow, or of every workflow but f.Except when
	// f.Workflow is ""), oldest first, and returns how many it deleted.
	// Pending and running executions are never deleted.
	Prune(ctx context.Context, f PruneFilter) (int, error)
	// CountPending counts the pending executions, in all and by workflow.
	CountPending(ctx context.Context) (total int, byWorkflow map[string]int, err error)
	// CountActive counts the pending and the running executions, in one
	// read of the status index: what the metrics' gauges show.
	CountActive(ctx context.Context) (pending, running int, err error)
}

// PruneFilter selects the executions Prune deletes.
type PruneFilter struct {
	Before   time.Time
	Workflow string   // "" for every workflow but Except
	Except   []string // with Workflow "": workflows kept by a window of their own
	Limit    int      // at most this many in one call; 0 means 1000
}
