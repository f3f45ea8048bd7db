package runtime

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// What an engine adds on PostgreSQL, where several `serve` replicas and
// `worker` processes share one database (docs/deploy.md):
//
//   - the queue runs on River's database/sql driver, with a pgx LISTEN
//     connection so a job inserted by one process is fetched at once by
//     another (engine.queue keeps one type, river.Client[*sql.Tx], for both
//     databases);
//   - worker liveness: every process that runs executions heartbeats in
//     bifrost_workers, and every such process hands the running jobs of
//     workers silent for deadAfter back to the queue (SQLite re-runs orphans
//     at start instead: one process owns the file);
//   - ?wait= long-polls wake on the database's notification that an
//     execution ended, whichever process ended it.

// Worker liveness on PostgreSQL. An execution whose worker died runs again
// within deadAfter + reapEvery + a fetch (≈ 41 s) of the death, and within
// 60 s of a worker being available (SPEC §5).
const (
	heartbeatEvery = 5 * time.Second
	deadAfter      = 30 * time.Second // no heartbeat for this long: the worker is dead
	reapEvery      = 10 * time.Second
	// fenceAfter: a worker that could not heartbeat for this long stops its
	// runs and hands them back, before the others may take them (deadAfter).
	fenceAfter = 20 * time.Second
	// forgetAfter: the rows of workers dead this long are deleted.
	forgetAfter = time.Hour
)

// errLeaseLost is the cause of a run's context when its worker lost its
// lease: it could not heartbeat for fenceAfter, or was taken for dead.
var errLeaseLost = errors.New("this worker lost its lease (no heartbeat): another worker may run the execution")

// listenerPooler is the PostgreSQL store's LISTEN side.
type listenerPooler interface {
	ListenerPool(ctx context.Context) (*pgxpool.Pool, error)
	ListenEnded(ctx context.Context, log *slog.Logger, ended func(id string)) error
}

// queueDriver is the River driver for the store's database: River's SQLite
// driver, or on PostgreSQL its database/sql driver, with a pgx listener when
// this process works jobs.
func queueDriver(ctx context.Context, st store.Store, working bool) (riverdriver.Driver[*sql.Tx], error) {
	if st.Kind() != "postgres" {
		return riversqlite.New(st.DB()), nil
	}
	if !working {
		return riverdatabasesql.New(st.DB()), nil
	}
	lp, ok := st.(listenerPooler)
	if !ok {
		return riverdatabasesql.New(st.DB()), nil
	}
	pool, err := lp.ListenerPool(ctx)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return riverdatabasesql.NewWithPgxListener(st.DB(), pool), nil
}

// migrationLocker is the PostgreSQL store's migration lock.
type migrationLocker interface {
	WithMigrationLock(ctx context.Context, fn func() error) error
}

// migratePostgresQueue runs River's migrations under the store's migration
// lock, so replicas starting together take turns. (Not in one transaction:
// some of River's migrations add an enum value and then use it.)
func migratePostgresQueue(ctx context.Context, st store.Store, log *slog.Logger) error {
	migrator, err := rivermigrate.New(riverdatabasesql.New(st.DB()), &rivermigrate.Config{Logger: quietLogger(log)})
	if err != nil {
		return err
	}
	migrate := func() error {
		_, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	if l, ok := st.(migrationLocker); ok {
		err = l.WithMigrationLock(ctx, migrate)
	} else {
		err = migrate()
	}
	if err != nil {
		return fmt.Errorf("migrate the queue: %w", err)
	}
	return nil
}

// newWorkerID names a worker process: host, pid and a random suffix. It is
// also the process's River client id, so river_job.attempted_by tells which
// worker runs a job.
func newWorkerID() string {
	host, _ := os.Hostname()
	if len(host) > 60 {
		host = host[:60]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// cluster runs the PostgreSQL side of an engine: the listener, and for a
// worker the heartbeat and the reaper.
type cluster struct {
	en     *engine
	db     *sql.DB
	log    *slog.Logger
	id     string // the worker id; "" in a process that runs no executions
	slots  int
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	lastBeat time.Time // the last heartbeat that reached the database
	fenced   bool      // runs were stopped since lastBeat
}

// startCluster starts the listener and, in a worker, registers it (before
// the queue may hand it a job) and starts its heartbeat and reaper. The
// first reap runs at once: a worker that starts takes over the work of the
// dead.
func (en *engine) startCluster(ctx context.Context) error {
	c := &cluster{en: en, db: en.store.DB(), log: en.log, id: en.workerID, slots: en.workers}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	if lp, ok := en.store.(listenerPooler); ok {
		c.wg.Go(func() {
			_ = lp.ListenEnded(bg, en.log, en.waiters.ended)
		})
	}
	if c.id != "" {
		if err := c.register(ctx); err != nil {
			cancel()
			c.wg.Wait()
			return fmt.Errorf("register the worker: %w", err)
		}
		c.reap(ctx)
		c.wg.Go(func() { c.heartbeats(bg) })
		c.wg.Go(func() { c.reaps(bg) })
	}
	en.cluster = c
	return nil
}

// stopCluster stops the loops and, in a worker whose queue has stopped,
// removes its row: it holds no job any more.
func (en *engine) stopCluster() {
	c := en.cluster
	if c == nil {
		return
	}
	c.cancel()
	c.wg.Wait()
	if c.id != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := c.db.ExecContext(ctx, `DELETE FROM bifrost_workers WHERE id = $1`, c.id); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "worker row not removed", slog.String("worker_id", c.id), slog.String("error", err.Error()))
		}
	}
}

func (c *cluster) register(ctx context.Context) error {
	host, _ := os.Hostname()
	_, err := c.db.ExecContext(ctx, `INSERT INTO bifrost_workers (id, host, pid, slots, started_at, heartbeat_at)
		VALUES ($1, $2, $3, $4, now(), now())
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`, c.id, host, os.Getpid(), c.slots)
	if err == nil {
		c.mu.Lock()
		c.lastBeat, c.fenced = time.Now(), false
		c.mu.Unlock()
	}
	return err
}

// heartbeats refreshes the worker's row every heartbeatEvery and fences the
// worker when it lost its lease.
func (c *cluster) heartbeats(ctx context.Context) {
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.heartbeat(ctx)
	}
}

func (c *cluster) heartbeat(ctx context.Context) {
	beat, cancel := context.WithTimeout(ctx, heartbeatEvery)
	defer cancel()
	// The age of the previous heartbeat, by the database's clock: past
	// deadAfter, another worker may have taken this one's jobs.
	var age sql.NullFloat64
	err := c.db.QueryRowContext(beat, `WITH prev AS (SELECT heartbeat_at FROM bifrost_workers WHERE id = $1)
		UPDATE bifrost_workers AS w SET heartbeat_at = now() FROM prev WHERE w.id = $1
		RETURNING extract(epoch FROM now() - prev.heartbeat_at)::float8`, c.id).Scan(&age)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Forgotten after a long silence: its jobs went to others.
		c.fence(ctx, "the worker's row was gone")
		if err := c.register(beat); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "worker heartbeat failed", slog.String("worker_id", c.id), slog.String("error", err.Error()))
		}
		return
	case err != nil:
		c.mu.Lock()
		silent := time.Since(c.lastBeat)
		c.mu.Unlock()
		c.log.LogAttrs(ctx, slog.LevelWarn, "worker heartbeat failed", slog.String("worker_id", c.id),
			slog.Duration("since_last", silent.Round(time.Second)), slog.String("error", err.Error()))
		if silent >= fenceAfter {
			c.fence(ctx, "no heartbeat for "+silent.Round(time.Second).String())
		}
		return
	}
	if age.Valid && time.Duration(age.Float64*float64(time.Second)) >= deadAfter {
		c.fence(ctx, "the previous heartbeat was older than "+deadAfter.String())
	}
	c.mu.Lock()
	c.lastBeat, c.fenced = time.Now(), false
	c.mu.Unlock()
}

// fence stops this worker's runs, once per lost lease: others may run
// their executions now, and a run must not end after another's.
func (c *cluster) fence(ctx context.Context, why string) {
	c.mu.Lock()
	already := c.fenced
	c.fenced = true
	c.mu.Unlock()
	if already {
		return
	}
	n := 0
	c.en.running.Range(func(_, stop any) bool {
		stop.(context.CancelCauseFunc)(errLeaseLost)
		n++
		return true
	})
	c.log.LogAttrs(ctx, slog.LevelWarn, "worker lost its lease: its running executions are handed back",
		slog.String("worker_id", c.id), slog.String("reason", why), slog.Int("executions", n))
}

// reaps hands back, every reapEvery, the jobs of dead workers.
func (c *cluster) reaps(ctx context.Context) {
	tick := time.NewTicker(reapEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.reap(ctx)
	}
}

// reap makes the running jobs of workers that have not heartbeated for
// deadAfter (or have no row: a process that died before this version, or
// was forgotten) available again, and their executions pending, in one
// statement; then it forgets long-dead workers. The re-run is the job's
// next attempt.
func (c *cluster) reap(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, reapEvery)
	defer cancel()
	var jobs, execs int64
	err := c.db.QueryRowContext(ctx, `WITH orphans AS (
		UPDATE river_job AS j SET state = 'available', scheduled_at = now()
		WHERE j.state = 'running'
		  AND j.attempted_at < now() - make_interval(secs => $1)
		  AND NOT EXISTS (
		      SELECT 1 FROM bifrost_workers AS w
		      WHERE w.id = j.attempted_by[array_upper(j.attempted_by, 1)]
		        AND w.heartbeat_at >= now() - make_interval(secs => $1))
		RETURNING j.id
	), executions AS (
		UPDATE bifrost_executions AS e SET status = 'pending'
		WHERE e.job_id IN (SELECT id FROM orphans) AND e.status = 'running' AND e.mode = 'async'
		RETURNING e.id
	)
	SELECT (SELECT count(*) FROM orphans), (SELECT count(*) FROM executions)`, deadAfter.Seconds()).Scan(&jobs, &execs)
	if err != nil {
		if ctx.Err() == nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "reaping the jobs of dead workers failed", slog.String("error", err.Error()))
		}
		return
	}
	if jobs > 0 || execs > 0 {
		c.log.LogAttrs(ctx, slog.LevelWarn, "re-running executions of dead workers",
			slog.Int64("executions", execs), slog.Int64("jobs", jobs), slog.String("by", c.id))
	}
	if _, err := c.db.ExecContext(ctx, `DELETE FROM bifrost_workers WHERE heartbeat_at < now() - make_interval(secs => $1)`,
		forgetAfter.Seconds()); err != nil && ctx.Err() == nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "forgetting dead workers failed", slog.String("error", err.Error()))
	}
}

// handBack is what a run stopped by a lost lease returns to the queue: the
// job is available again at once, without counting an attempt, and this
// worker writes nothing on the execution (another may be running it).
func handBack() error { return river.JobSnooze(0) }
