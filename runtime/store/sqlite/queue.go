package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

// QueueDriver implements store.Store: River's SQLite driver on the store's
// pool. SQLite announces nothing, so working changes nothing: the queue
// polls.
func (s *Store) QueueDriver(context.Context, bool) (riverdriver.Driver[*sql.Tx], error) {
	return riversqlite.New(s.db), nil
}

// MigrateQueue implements store.Store.
func (s *Store) MigrateQueue(ctx context.Context, log *slog.Logger) error {
	migrator, err := rivermigrate.New(riversqlite.New(s.db), &rivermigrate.Config{Logger: log})
	if err != nil {
		return err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate the queue: %w", err)
	}
	return nil
}

// RecoverOrphans implements store.Store. One process owns the file, so at
// its start nothing can be running: every running async execution and
// running job was left by a process that died, and runs again at once
// (the queue's rescuer would wait for the longest timeout).
func (s *Store) RecoverOrphans(ctx context.Context) (store.Recovered, error) {
	var r store.Recovered
	err := sqlrow.InTx(ctx, &s.tables, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE bifrost_executions SET status = ? WHERE status = ? AND mode = 'async'`,
			store.Pending, store.Running)
		if err != nil {
			return err
		}
		r.Executions, _ = res.RowsAffected()
		res, err = tx.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = ? WHERE state = 'running'`,
			time.Now().UTC())
		if err != nil {
			return err
		}
		r.Jobs, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return store.Recovered{}, fmt.Errorf("recover orphans: %w", err)
	}
	return r, nil
}

// Worker liveness is a shared database's: one process owns a SQLite file,
// and its orphans are recovered at start. These succeed and do nothing.

// RegisterWorker implements store.Store: a no-op.
func (s *Store) RegisterWorker(context.Context, store.Worker) error { return nil }

// Heartbeat implements store.Store: a no-op; the lease is always fresh.
func (s *Store) Heartbeat(context.Context, string) (time.Duration, error) { return 0, nil }

// RemoveWorker implements store.Store: a no-op.
func (s *Store) RemoveWorker(context.Context, string) error { return nil }

// Workers implements store.Store: SQLite tracks no workers.
func (s *Store) Workers(context.Context) ([]store.WorkerState, bool, error) { return nil, false, nil }

// ReapWorkers implements store.Store: a no-op (no worker of another
// process can hold a job).
func (s *Store) ReapWorkers(context.Context, time.Duration, time.Duration) (store.Recovered, error) {
	return store.Recovered{}, nil
}
