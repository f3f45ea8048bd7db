package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// Worker liveness. Every process that runs executions heartbeats in
// bifrost_workers; its id is also its River client id, so the last entry of
// river_job.attempted_by says which worker holds a running job. Times are
// the database's (now()), so the processes' clocks do not matter.

// RegisterWorker implements store.Store.
func (s *Store) RegisterWorker(ctx context.Context, w store.Worker) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO bifrost_workers (id, host, pid, slots, started_at, heartbeat_at)
		VALUES ($1, $2, $3, $4, now(), now())
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`, w.ID, w.Host, w.PID, w.Slots)
	return err
}

// Heartbeat implements store.Store.
func (s *Store) Heartbeat(ctx context.Context, id string) (time.Duration, error) {
	var age sql.NullFloat64
	err := s.db.QueryRowContext(ctx, `WITH prev AS (SELECT heartbeat_at FROM bifrost_workers WHERE id = $1)
		UPDATE bifrost_workers AS w SET heartbeat_at = now() FROM prev WHERE w.id = $1
		RETURNING extract(epoch FROM now() - prev.heartbeat_at)::float8`, id).Scan(&age)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	if err != nil || !age.Valid {
		return 0, err
	}
	return time.Duration(age.Float64 * float64(time.Second)), nil
}

// RemoveWorker implements store.Store.
func (s *Store) RemoveWorker(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM bifrost_workers WHERE id = $1`, id)
	return err
}

// ReapWorkers implements store.Store. The jobs and executions are handed
// back in one statement; the re-run is the job's next attempt. A job whose
// worker has no row (a process older than liveness, or forgotten) counts as
// a dead worker's.
func (s *Store) ReapWorkers(ctx context.Context, deadAfter, forgetAfter time.Duration) (store.Recovered, error) {
	var r store.Recovered
	err := s.db.QueryRowContext(ctx, `WITH orphans AS (
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
	SELECT (SELECT count(*) FROM orphans), (SELECT count(*) FROM executions)`, deadAfter.Seconds()).Scan(&r.Jobs, &r.Executions)
	if err != nil {
		return store.Recovered{}, err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM bifrost_workers WHERE heartbeat_at < now() - make_interval(secs => $1)`,
		forgetAfter.Seconds()); err != nil {
		return r, err
	}
	return r, nil
}

// Workers implements store.Store.
func (s *Store) Workers(ctx context.Context) ([]store.WorkerState, bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, host, pid, slots, started_at,
		extract(epoch FROM now() - heartbeat_at)::float8 FROM bifrost_workers ORDER BY heartbeat_at DESC, id LIMIT 1000`)
	if err != nil {
		return nil, true, err
	}
	defer rows.Close()
	out := []store.WorkerState{}
	for rows.Next() {
		var w store.WorkerState
		var age float64
		if err := rows.Scan(&w.ID, &w.Host, &w.PID, &w.Slots, &w.StartedAt, &age); err != nil {
			return nil, true, err
		}
		w.StartedAt = w.StartedAt.UTC()
		w.HeartbeatAge = time.Duration(age * float64(time.Second))
		out = append(out, w)
	}
	return out, true, rows.Err()
}
