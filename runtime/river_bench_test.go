package runtime

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// riverHarness is River alone on the store's database, with the engine's
// queue settings: callers insert no-op jobs, workers complete them. It is
// the ceiling of BenchmarkStoreAsync: what the queue costs with no HTTP and
// no execution record.
type riverHarness struct {
	b       *testing.B
	st      store.Store
	client  *river.Client[*sql.Tx]
	working bool
}

type noopJob struct{}

func (noopJob) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopJob]
}

func (noopWorker) Work(context.Context, *river.Job[noopJob]) error { return nil }

func newRiverHarness(b *testing.B, st store.Store, workers int) *riverHarness {
	b.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	if err := st.MigrateQueue(ctx, log); err != nil {
		b.Fatal(err)
	}
	driver, err := st.QueueDriver(ctx, workers > 0)
	if err != nil {
		b.Fatal(err)
	}
	ws := river.NewWorkers()
	river.AddWorker(ws, noopWorker{})
	cfg := &river.Config{
		Logger:                      log,
		Workers:                     ws,
		CompletedJobRetentionPeriod: time.Hour,
		FetchCooldown:               10 * time.Millisecond,
		FetchPollInterval:           200 * time.Millisecond,
	}
	if workers > 0 {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}}
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if workers > 0 {
		if err := client.Start(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return &riverHarness{b: b, st: st, client: client, working: workers > 0}
}

func (h *riverHarness) start() error {
	_, err := h.client.Insert(context.Background(), noopJob{}, nil)
	return err
}

func (h *riverHarness) done() int {
	if !h.working {
		return -1
	}
	return countRows(h.b, h.st, `SELECT COUNT(*) FROM river_job WHERE state = 'completed'`)
}

func (h *riverHarness) stop() {
	if !h.working {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.client.Stop(ctx); err != nil {
		h.b.Error(err)
	}
}
