package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// What an engine does beside the queue so that several `serve` replicas and
// `worker` processes can share one database (docs/deploy.md), through the
// store's capabilities (store.Notifications, store.Liveness):
//
//   - ?wait= long-polls wake when the store announces that an execution
//     ended, whichever process ended it;
//   - worker liveness: every process that runs executions heartbeats, and
//     hands back the running jobs of workers silent for deadAfter. A store
//     that one process owns (SQLite) makes these no-ops: it re-runs its
//     orphans at start instead (engine.recoverOrphans).

// Worker liveness. An execution whose worker died runs again within
// deadAfter + reapEvery + a fetch (≈ 41 s) of the death, and within 60 s of
// a worker being available (SPEC §5).
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

// newWorkerID names a worker process: host, pid and a random suffix. It is
// also the process's River client id, so the queue's job tells which worker
// runs it.
func newWorkerID() string {
	host, _ := os.Hostname()
	if len(host) > 60 {
		host = host[:60]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// cluster runs the engine's side of a shared database: the listener, and
// for a worker the heartbeat and the reaper.
type cluster struct {
	en     *engine
	store  store.Store
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
	c := &cluster{en: en, store: en.store, log: en.log, id: en.workerID, slots: en.workers}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.wg.Go(func() {
		_ = en.store.ListenEnded(bg, en.log, en.waiters.ended)
	})
	if c.id != "" {
		if err := c.register(ctx); err != nil {
			cancel()
			c.wg.Wait()
			return fmt.Errorf("register the worker: %w", err)
		}
		c.reap(ctx)
		c.wg.Go(func() { every(bg, heartbeatEvery, c.heartbeat) })
		c.wg.Go(func() { every(bg, reapEvery, c.reap) })
	}
	en.cluster = c
	return nil
}

// stopCluster stops the loops and, in a worker whose queue has stopped,
// forgets it: it holds no job any more.
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
		if err := c.store.RemoveWorker(ctx, c.id); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "worker row not removed", slog.String("worker_id", c.id), slog.String("error", err.Error()))
		}
	}
}

func (c *cluster) register(ctx context.Context) error {
	host, _ := os.Hostname()
	err := c.store.RegisterWorker(ctx, store.Worker{ID: c.id, Host: host, PID: os.Getpid(), Slots: c.slots})
	if err == nil {
		c.mu.Lock()
		c.lastBeat, c.fenced = time.Now(), false
		c.mu.Unlock()
	}
	return err
}

// every calls fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fn(ctx)
	}
}

// heartbeat renews the worker's lease and fences the worker when it lost
// its lease.
func (c *cluster) heartbeat(ctx context.Context) {
	beat, cancel := context.WithTimeout(ctx, heartbeatEvery)
	defer cancel()
	// The age of the previous heartbeat, by the database's clock: past
	// deadAfter, another worker may have taken this one's jobs.
	age, err := c.store.Heartbeat(beat, c.id)
	switch {
	case errors.Is(err, store.ErrNotFound):
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
	if age >= deadAfter {
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

// reap hands back the running jobs of workers silent for deadAfter, and
// their executions, then forgets long-dead workers (store.Liveness).
func (c *cluster) reap(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, reapEvery)
	defer cancel()
	r, err := c.store.ReapWorkers(ctx, deadAfter, forgetAfter)
	if err != nil {
		if ctx.Err() == nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "reaping the jobs of dead workers failed", slog.String("error", err.Error()))
		}
		return
	}
	if r.Jobs > 0 || r.Executions > 0 {
		c.log.LogAttrs(ctx, slog.LevelWarn, "re-running executions of dead workers",
			slog.Int64("executions", r.Executions), slog.Int64("jobs", r.Jobs), slog.String("by", c.id))
	}
}

// handBack is what a run stopped by a lost lease returns to the queue: the
// job is available again at once, without counting an attempt, and this
// worker writes nothing on the execution (another may be running it).
func handBack() error { return river.JobSnooze(0) }
