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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// BenchmarkStoreAsync measures async executions on each store in one run,
// SQLite beside PostgreSQL, so their ratio is read off one machine at one
// time (docs/performance.md):
//
//   - accept: 64 concurrent callers POST an async workflow, no workers: each
//     202 follows the commit of the execution and its queue job;
//   - complete: the same callers while BENCH_WORKERS (default 128) workers
//     in the same process run them; the time runs until the store shows all
//     of them succeeded.
//
// The PostgreSQL half needs BIFROST_TEST_POSTGRES_URL (a fresh database per
// run) and is skipped without it.
//
//	go test ./runtime -run '^$' -bench StoreAsync -benchtime 20000x -count 3
func BenchmarkStoreAsync(b *testing.B) {
	workers := 128
	if v, err := strconv.Atoi(os.Getenv("BENCH_WORKERS")); err == nil && v > 0 {
		workers = v
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run("accept/store="+kind, func(b *testing.B) { benchAsync(b, kind, 0) })
		b.Run("complete/store="+kind, func(b *testing.B) { benchAsync(b, kind, workers) })
	}
}

const storeBenchCallers = 64

func benchAsync(b *testing.B, kind string, workers int) {
	var dsn string
	switch kind {
	case "postgres":
		dsn = storetest.PostgresURL(b)
	default:
		dsn = filepath.Join(b.TempDir(), "bifrost.db")
	}
	st := openStore(b, dsn)
	defer st.Close()
	var runs atomic.Int64
	wf := asyncWorkflow("job", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		runs.Add(1)
		return bind.JSON(200, a.Value), nil
	})
	wf.Public = true
	srv := startServer(b, Options{Workflows: []*Workflow{wf}, Logger: slog.New(slog.DiscardHandler), Store: st, Workers: workers})
	ts := httptest.NewServer(srv.Handler())
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		client.CloseIdleConnections()
		ts.Close()
		drain(b, srv, time.Minute)
	}
	defer stop()
	post := func() error {
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/endpoints/job", strings.NewReader(`{"value":"x"}`))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
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
	count := func(query string) int {
		var n int
		if err := rawDB(b, st).QueryRowContext(context.Background(), query).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	for range 8 { // warm the pools
		if err := post(); err != nil {
			b.Fatal(err)
		}
	}
	if workers > 0 {
		for count(`SELECT COUNT(*) FROM bifrost_executions WHERE status = 'succeeded'`) < 8 {
			time.Sleep(5 * time.Millisecond)
		}
	}

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range storeBenchCallers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) && failed.Load() == nil {
				if err := post(); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	accepted := time.Since(start)
	if workers > 0 {
		deadline := start.Add(2*time.Minute + time.Duration(b.N)*time.Millisecond)
		for runs.Load() < int64(b.N+8) ||
			count(`SELECT COUNT(*) FROM bifrost_executions WHERE status = 'succeeded'`) < b.N+8 {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d executions run after %s", runs.Load()-8, b.N, time.Since(start))
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/accepted.Seconds(), "accepted/s")
	if workers > 0 {
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "completed/s")
		if r := runs.Load(); r != int64(b.N+8) {
			b.Fatalf("%d runs for %d executions", r, b.N+8)
		}
	} else if n := count(`SELECT COUNT(*) FROM river_job`); n != b.N+8 {
		b.Fatalf("%d jobs queued, want %d", n, b.N+8)
	}
	stop()
}
