package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// QueueDriver implements store.Store: River's database/sql driver on the
// store's pool (so the engine's client keeps one type, river.Client[*sql.Tx],
// on both databases), with a pgx LISTEN connection in a process that works
// jobs, so a job inserted by one process is fetched at once by another.
func (s *Store) QueueDriver(ctx context.Context, working bool) (riverdriver.Driver[*sql.Tx], error) {
	if !working {
		return riverdatabasesql.New(s.db), nil
	}
	pool, err := s.listenerPool(ctx)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return riverdatabasesql.NewWithPgxListener(s.db, pool), nil
}

// MigrateQueue implements store.Store: River's migrations run under the
// migration lock, so replicas starting together take turns. (Not in one
// transaction: some of River's migrations add an enum value and then use it.)
func (s *Store) MigrateQueue(ctx context.Context, log *slog.Logger) error {
	migrator, err := rivermigrate.New(riverdatabasesql.New(s.db), &rivermigrate.Config{Logger: log})
	if err != nil {
		return err
	}
	err = s.withLock(ctx, func(*sql.Conn) error {
		_, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate the queue: %w", err)
	}
	return nil
}

// RecoverOrphans implements store.Store: a no-op. Other processes share
// the database and may be running what is running; the work of dead workers
// is handed back by ReapWorkers.
func (s *Store) RecoverOrphans(context.Context) (store.Recovered, error) {
	return store.Recovered{}, nil
}
