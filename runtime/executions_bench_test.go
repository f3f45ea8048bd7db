package runtime

import (
	"context"
	"encoding/json"
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

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
	"github.com/bifrost-go/bifrost/workflow"
)

// These benchmarks measure executions end to end: a real loopback HTTP
// server, the echo app, the engine, the SQLite store and River on the same
// file. Each run of a benchmark function (one b.N) builds its own server and
// database, so a run's figure includes no state left by a previous one.
//
//	go test ./runtime -run '^$' -bench 'Sync|Async' -benchtime 3s -count 3
//
// Targets (the issue):
//   - BenchmarkSyncRecording: record=on keeps ≥ 0.7× the req/s of record=off.
//   - BenchmarkAsyncAccept: ≥ 5,000 accepted/s on SQLite.
//   - BenchmarkAsyncComplete: ≥ 2,000 completed/s.

// benchServer is a runtime served over loopback HTTP, with a client whose
// pool keeps a connection per concurrent caller.
type benchServer struct {
	url    string
	st     store.Store // nil without a store
	srv    *Server
	ts     *httptest.Server
	client *http.Client
	closed bool
}

// newBenchServer starts a server for workflows; withStore opens a fresh
// SQLite file (records on, async possible) and workers runs that many async
// executions at once.
func newBenchServer(b *testing.B, withStore bool, workers int, workflows ...*Workflow) *benchServer {
	b.Helper()
	// No pending cap: the accept benchmarks queue far more than its default.
	opts := Options{Workflows: workflows, Logger: slog.New(slog.DiscardHandler), Workers: workers, MaxPending: -1}
	s := &benchServer{}
	if withStore {
		dsn := filepath.Join(b.TempDir(), "bifrost.db")
		if os.Getenv("BIFROST_BENCH_DURABLE") != "" { // the cost of serve --durable
			dsn += storeopen.DurableSuffix
		}
		st := openStore(b, dsn)
		s.st, opts.Store = st, st
	}
	srv := startServer(b, opts)
	s.srv = srv
	s.ts = httptest.NewServer(srv.Handler())
	s.url = s.ts.URL
	s.client = &http.Client{Transport: &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     time.Minute,
	}}
	b.Cleanup(func() { s.close(b) })
	return s
}

// shutdown drains the server: records still queued are written, running
// async executions finish.
func (s *benchServer) shutdown(b *testing.B) {
	b.Helper()
	drain(b, s.srv, time.Minute)
	s.closed = true
}

func (s *benchServer) close(b *testing.B) {
	s.client.CloseIdleConnections()
	s.ts.Close()
	if !s.closed {
		s.shutdown(b)
	}
	if s.st != nil {
		s.st.Close()
	}
}

// startJob starts one execution of the async benchmark workflow: anything
// but a 202 is an error.
func (s *benchServer) startJob() error {
	status, err := s.post("/api/endpoints/job", asyncBenchBody)
	if err == nil && status != 202 {
		err = fmt.Errorf("status %d", status)
	}
	return err
}

// post calls an endpoint and returns its status, reading the answer whole so
// the connection goes back to the pool.
func (s *benchServer) post(path, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

// count runs a COUNT(*) query on the store.
func (s *benchServer) count(b *testing.B, query string, args ...any) int {
	b.Helper()
	var n int
	if err := rawDB(b, s.st).QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// callers runs n concurrent callers that share total calls between them,
// each call being call(); the first error stops the benchmark.
func callers(b *testing.B, n, total int, call func() error) {
	b.Helper()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for next.Add(1) <= int64(total) && failed.Load() == nil {
				if err := call(); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
}

// processCPU is the CPU time (user and system) this process has used, read
// from /proc/self/stat; ok is false where there is no such file. The
// benchmarks report it per operation ("cpu-µs/op"): on a small, shared
// machine it is steadier than the wall clock, and the ratio of two
// variants' cpu-µs/op is the ratio of their throughputs when the CPU is
// what limits them.
func processCPU() (d time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// The fields after the command name, which is in parentheses: state is
	// the first; utime and stime, in clock ticks (USER_HZ, 100 on Linux),
	// the 12th and 13th.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * (time.Second / 100), true
}

// cpuMeter measures the process's CPU time from its start to report.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	d, ok := processCPU()
	return cpuMeter{start: d, ok: ok}
}

// report adds the CPU time per operation, over n operations, to b's metrics.
func (m cpuMeter) report(b *testing.B, n int) {
	if end, ok := processCPU(); ok && m.ok && n > 0 {
		b.ReportMetric(float64((end-m.start).Microseconds())/float64(n), "cpu-µs/op")
	}
}

// greetWorkflow is a trivial sync JSON endpoint: decode, greet, answer.
func greetWorkflow(name string, public bool) *Workflow {
	return &Workflow{
		Spec: workflow.Spec{
			Name:     name,
			Endpoint: true,
			Public:   public,
			Methods:  []string{"POST"},
			Body:     workflow.BodyDecoded,
			Mode:     workflow.Sync,
			Timeout:  time.Minute,
		},
		Decode: func(in *bind.Input) (bind.Args, error) {
			a := &benchArgs{}
			if err := json.Unmarshal(in.Body(), &a.In); err != nil {
				return nil, &bifrost.Error{Status: 400, Detail: err.Error()}
			}
			return a, nil
		},
	}
}

// BenchmarkSyncRecording serves the same sync endpoint without a store and
// with one (every execution recorded after its answer, in batches). The
// time runs from the first call to the end of Shutdown, which writes the
// records still queued: the recording is paid for in full. Compare req/s
// (or ns/op) of the two within one run; the target is on/off ≥ 0.7.
func BenchmarkSyncRecording(b *testing.B) {
	for _, record := range []bool{false, true} {
		name := "record=off"
		if record {
			name = "record=on"
		}
		b.Run(name, func(b *testing.B) {
			// Public: this measures execution and its record, not credential checks.
			s := newBenchServer(b, record, 0, greetWorkflow("greet", true))
			// Warm the pool and the store before timing.
			for range 16 {
				if status, err := s.post("/api/endpoints/greet", benchBody); err != nil || status != 200 {
					b.Fatalf("warm-up: %d %v", status, err)
				}
			}
			var failed atomic.Pointer[error]
			b.SetParallelism(8) // 8 callers per core: loopback HTTP needs several in flight
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					status, err := s.post("/api/endpoints/greet", benchBody)
					if err == nil && status != 200 {
						err = fmt.Errorf("status %d", status)
					}
					if err != nil {
						failed.CompareAndSwap(nil, &err)
					}
				}
			})
			answered := time.Since(start)
			s.shutdown(b)
			elapsed := time.Since(start)
			b.StopTimer()
			cpu.report(b, b.N)
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64((elapsed-answered).Microseconds())/1000, "drain-ms")
			if record {
				if n := s.count(b, `SELECT COUNT(*) FROM bifrost_executions`); n != b.N+16 {
					b.Fatalf("%d executions recorded, want %d", n, b.N+16)
				}
			}
		})
	}
}

// asyncBenchWorkflow is a public async endpoint that answers its input and
// counts its runs.
func asyncBenchWorkflow(runs *atomic.Int64) *Workflow {
	wf := asyncWorkflow("job", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		runs.Add(1)
		return bind.JSON(200, a.Value), nil
	})
	wf.Public = true
	return wf
}

const asyncBenchBody = `{"value":"x"}`

var benchCallers = []int{1, 8, 64}

// BenchmarkAsyncAccept measures the 202: N concurrent callers POST an async
// workflow; no workers run (Workers 0), so the store does nothing but accept.
// Each 202 comes after the commit of the execution and its queue job.
func BenchmarkAsyncAccept(b *testing.B) {
	for _, n := range benchCallers {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			var runs atomic.Int64
			s := newBenchServer(b, true, 0, asyncBenchWorkflow(&runs))
			for range 8 {
				if status, err := s.post("/api/endpoints/job", asyncBenchBody); err != nil || status != 202 {
					b.Fatalf("warm-up: %d %v", status, err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			start := time.Now()
			callers(b, n, b.N, s.startJob)
			elapsed := time.Since(start)
			b.StopTimer()
			cpu.report(b, b.N)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "accepted/s")
			if got := s.count(b, `SELECT COUNT(*) FROM river_job`); got != b.N+8 {
				b.Fatalf("%d jobs queued, want %d", got, b.N+8)
			}
		})
	}
}

// BenchmarkAsyncComplete measures executions run to the end: N concurrent
// callers POST b.N async executions while 64 workers run them; the time runs
// until the store shows all b.N succeeded (what GET /api/executions/{id}
// would answer). b.N grows to fill -benchtime like any benchmark: use
// -benchtime 2s or an explicit count (-benchtime 5000x) to bound a run.
func BenchmarkAsyncComplete(b *testing.B) {
	for _, n := range benchCallers {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			var runs atomic.Int64
			s := newBenchServer(b, true, 64, asyncBenchWorkflow(&runs))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			start := time.Now()
			callers(b, n, b.N, s.startJob)
			accepted := time.Since(start)
			deadline := start.Add(2*time.Minute + time.Duration(b.N)*time.Millisecond)
			for {
				// The workflow's counter says when to look; the store says
				// when the executions are over.
				if runs.Load() >= int64(b.N) &&
					s.count(b, `SELECT COUNT(*) FROM bifrost_executions WHERE status = ?`, store.Succeeded) == b.N {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d executions run after %s", runs.Load(), b.N, time.Since(start))
				}
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cpu.report(b, b.N)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "completed/s")
			b.ReportMetric(float64(b.N)/accepted.Seconds(), "accepted/s")
			if r := runs.Load(); r != int64(b.N) {
				b.Fatalf("%d runs for %d executions", r, b.N)
			}
		})
	}
}
