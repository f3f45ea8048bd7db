// Package store keeps what a Bifrost deployment must not lose: the record of
// every execution. It sits behind the Store interface so the embedded SQLite
// default and PostgreSQL pass one test suite (storetest).
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned for an unknown execution id.
var ErrNotFound = errors.New("store: not found")

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

	Credential     string // who started it: a key id or a user; "" for a public call
	IdempotencyKey string
	JobID          int64 // the queue's job, for async executions

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

// Store is the execution store.
type Store interface {
	// Accept records new async executions and, in the same transaction, their
	// queue jobs. An execution whose workflow, credential and idempotency key
	// match one created within IdempotencyWindow is not recorded: that one
	// is returned in its place.
	Accept(ctx context.Context, execs []*Execution, enqueue EnqueueFunc) ([]Accepted, error)
	// Record inserts finished sync executions.
	Record(ctx context.Context, execs []*Execution) error
	// Start marks an async execution running in the given attempt and returns
	// it, input included. A cancelled execution is returned unchanged.
	Start(ctx context.Context, id string, attempt int, at time.Time) (*Execution, error)
	// Finish stores an attempt's outcome: status, result, error, logs and
	// times. A pending status means the attempt failed and another will run.
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
	// Orphans marks async executions left running by a process that died as
	// pending again and returns their ids. Only a store that one process owns
	// (the embedded SQLite file) may call it at start.
	Orphans(ctx context.Context) ([]string, error)
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

	// SetConfig creates or replaces a configuration value.
	SetConfig(ctx context.Context, c *ConfigValue) error
	// GetConfig returns a configuration value, or ErrNotFound.
	GetConfig(ctx context.Context, name string) (*ConfigValue, error)
	// ListConfig returns every configuration value, by name.
	ListConfig(ctx context.Context) ([]*ConfigValue, error)
	// DeleteConfig removes a configuration value, or returns ErrNotFound.
	DeleteConfig(ctx context.Context, name string) error

	// DB is the database the queue shares, so a job and its execution commit together.
	DB() *sql.DB
	// Kind is "sqlite" or "postgres".
	Kind() string
	Close() error
}

// IdempotencyWindow is how long an idempotency key returns its first execution.
const IdempotencyWindow = 24 * time.Hour
