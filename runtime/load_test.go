package runtime

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/auth"
)

// TestLoadMixedTraffic: 32 callers for 3 seconds (at most 20,000 requests)
// over loopback against a public endpoint, a keyed one and the executions
// API, mixing valid calls with malformed, oversized, deep and
// unauthenticated ones, as an internet-facing receiver gets. No answer may
// be a 5xx or fail to arrive, every execution is recorded, and the heap after
// a GC grows by less than 16 MiB (docs/reliability.md reports the figures).
func TestLoadMixedTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-second load")
	}
	st := openTestStore(t)
	srv := startServer(t, Options{Workflows: []*Workflow{greetWorkflow("open", true), greetWorkflow("keyed", false)},
		Store: st, Workers: 2, BodyLimit: 4 << 10, MaxJSONDepth: 32, Logger: discard, Auth: &auth.Config{EnvKey: testKey}})
	ts := httptest.NewServer(srv.Handler())
	url := ts.URL

	requests := []struct {
		path, body, key string
		want            int
	}{
		{"/api/endpoints/open", benchBody, "", 200},
		{"/api/endpoints/open", `{"name":`, "", 400},
		{"/api/endpoints/open", strings.Repeat("[", 64) + strings.Repeat("]", 64), "", 400},
		{"/api/endpoints/open", `{"name":"` + strings.Repeat("x", 8<<10) + `"}`, "", 413},
		{"/api/endpoints/keyed", benchBody, "", 401},
		{"/api/endpoints/keyed", benchBody, "bf_aaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 401},
		{"/api/endpoints/keyed", benchBody, testKey, 200},
		{"/api/executions/0190a0a0-0000-7000-8000-000000000000", "", testKey, 404},
		{"/api/executions/0190a0a0-0000-7000-8000-000000000000?wait=%zz", "", "", 400},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)

	var sent, wrong, failed atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Second)
	start := time.Now()
	for c := range 32 {
		wg.Go(func() {
			for i := c; time.Now().Before(deadline) && sent.Add(1) <= 20000; i++ {
				r := requests[i%len(requests)]
				method := "POST"
				if r.body == "" {
					method = "GET"
				}
				req, _ := http.NewRequest(method, url+r.path, bytes.NewReader([]byte(r.body)))
				req.Header.Set("Content-Type", "application/json")
				if r.key != "" {
					req.Header.Set("Authorization", "Bearer "+r.key)
				}
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != r.want {
					if wrong.Add(1) <= 5 {
						t.Errorf("%s %s: %d, want %d", method, r.path, resp.StatusCode, r.want)
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	client.CloseIdleConnections()
	ts.Close()
	drain(t, srv, 30*time.Second) // writes the records still queued
	goruntime.GC()
	goruntime.ReadMemStats(&after)

	n := min(sent.Load(), 20000)
	growth := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("%d requests in %s (%.0f/s) from 32 callers: %d wrong statuses, %d failed; heap in use %d → %d KiB (%+d KiB)",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), wrong.Load(), failed.Load(),
		before.HeapInuse>>10, after.HeapInuse>>10, growth>>10)
	if failed.Load() > 0 || wrong.Load() > 0 {
		t.Fatalf("%d requests failed and %d answered another status", failed.Load(), wrong.Load())
	}
	if growth > 16<<20 {
		t.Errorf("the heap grew by %d KiB under load", growth>>10)
	}
}
