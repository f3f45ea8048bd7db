package runtime

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// BenchmarkStoreAsync measures async executions on each store, beside River
// alone on the same kind of database, in one run, so each ratio is read off
// one machine at one time (docs/performance.md):
//
//   - phase=accept: N concurrent callers start executions, no workers: for
//     impl=bifrost each is a POST whose 202 follows the commit of the
//     execution and its queue job; for impl=river each is a client.Insert
//     of a no-op job;
//   - phase=complete: the same while BENCH_WORKERS (default 128) workers in
//     the same process run them; the time runs until the database shows all
//     of them over (executions succeeded, jobs completed).
//
// impl=river is the limit this design can reach: the queue itself, with no
// HTTP, no execution record. Compare with benchstat -col /impl.
//
// The PostgreSQL half needs BIFROST_TEST_POSTGRES_URL (a fresh database per
// run) and is skipped without it. BENCH_STORES=sqlite keeps to one store.
//
//	go test ./runtime -run '^$' -bench StoreAsync -benchtime 5000x -count 3
func BenchmarkStoreAsync(b *testing.B) {
	workers := 128
	if v, err := strconv.Atoi(os.Getenv("BENCH_WORKERS")); err == nil && v > 0 {
		workers = v
	}
	stores := []string{"sqlite", "postgres"}
	if v := os.Getenv("BENCH_STORES"); v != "" {
		stores = strings.Split(v, ",")
	}
	for _, kind := range stores {
		for _, n := range benchCallers {
			for _, phase := range []string{"accept", "complete"} {
				w := 0
				if phase == "complete" {
					w = workers
				}
				for _, impl := range []string{"river", "bifrost"} {
					name := fmt.Sprintf("store=%s/callers=%d/phase=%s/impl=%s", kind, n, phase, impl)
					b.Run(name, func(b *testing.B) {
						st := benchStore(b, kind)
						var h asyncHarness
						if impl == "river" {
							h = newRiverHarness(b, st, w)
						} else {
							h = newBifrostHarness(b, st, w)
						}
						runAsync(b, h, n)
					})
				}
			}
		}
	}
}

// benchStore opens a fresh store of kind; it is closed when b ends.
func benchStore(b *testing.B, kind string) store.Store {
	b.Helper()
	dsn := filepath.Join(b.TempDir(), "bifrost.db")
	if kind == "postgres" {
		dsn = storetest.PostgresURL(b)
	}
	return openStore(b, dsn)
}

// asyncHarness starts one execution (or job) and counts those over.
type asyncHarness interface {
	start() error
	done() int // how many the database shows over
	stop()
}

// runAsync warms h, then has n callers start b.N executions, waiting for
// them to end when h has workers.
func runAsync(b *testing.B, h asyncHarness, n int) {
	defer h.stop()
	const warm = 8
	for range warm {
		if err := h.start(); err != nil {
			b.Fatal(err)
		}
	}
	working := h.done() >= 0
	for working && h.done() < warm {
		time.Sleep(2 * time.Millisecond)
	}
	b.ResetTimer()
	cpu := startCPU()
	start := time.Now()
	callers(b, n, b.N, h.start)
	accepted := time.Since(start)
	deadline := start.Add(2*time.Minute + time.Duration(b.N)*time.Millisecond)
	for working && h.done() < b.N+warm {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d over after %s", h.done()-warm, b.N, time.Since(start))
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu.report(b, b.N)
	b.ReportMetric(float64(b.N)/accepted.Seconds(), "accepted/s")
	if working {
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "completed/s")
	}
}

// bifrostHarness is an async workflow served over loopback HTTP.
type bifrostHarness struct {
	b       *testing.B
	st      store.Store
	srv     *Server
	ts      *httptest.Server
	client  *http.Client
	working bool
	stopped bool
}

func newBifrostHarness(b *testing.B, st store.Store, workers int) *bifrostHarness {
	wf := asyncWorkflow("job", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		return bind.JSON(200, a.Value), nil
	})
	wf.Public = true
	srv := startServer(b, Options{Workflows: []*Workflow{wf}, Logger: slog.New(slog.DiscardHandler), Store: st, Workers: workers, MaxPending: -1})
	return &bifrostHarness{
		b: b, st: st, srv: srv, ts: httptest.NewServer(srv.Handler()), working: workers > 0,
		client: &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}},
	}
}

func (h *bifrostHarness) start() error {
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+"/api/endpoints/job", strings.NewReader(asyncBenchBody))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func (h *bifrostHarness) done() int {
	if !h.working {
		return -1
	}
	return countRows(h.b, h.st, `SELECT COUNT(*) FROM bifrost_executions WHERE status = 'succeeded'`)
}

func (h *bifrostHarness) stop() {
	if h.stopped {
		return
	}
	h.stopped = true
	h.client.CloseIdleConnections()
	h.ts.Close()
	drain(h.b, h.srv, time.Minute)
}

func countRows(b *testing.B, st store.Store, query string) int {
	var n int
	if err := rawDB(b, st).QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
