package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// BenchmarkDashboard times the dashboard's pages over 100,000 executions
// spread over the last two days, on SQLite and (with
// BIFROST_TEST_POSTGRES_URL) PostgreSQL: each page must cost the same on a
// large store as on a small one (cursor paging, summaries, bounded stats).
//
//	go test ./runtime -run '^$' -bench Dashboard -benchtime 50x
func BenchmarkDashboard(b *testing.B) {
	dsns := map[string]string{"sqlite": ""}
	if os.Getenv(storetest.PostgresEnv) != "" {
		dsns["postgres"] = storetest.PostgresURL(b)
	}
	for name, dsn := range dsns {
		b.Run(name, func(b *testing.B) { benchDashboard(b, dsn) })
	}
}

func benchDashboard(b *testing.B, dsn string) {
	st := openStore(b, dsn)
	ids := seedExecutions(b, st, 100000)
	srv := startServer(b, Options{Workflows: []*Workflow{asyncWorkflow("orders", 0, time.Minute, nil), asyncWorkflow("invoices", 0, time.Minute, nil)},
		Logger: discard, Store: st, Auth: &auth.Config{EnvKey: testKey}})
	defer drain(b, srv, 10*time.Second)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	client := signedInClient(b, ts.URL)
	pages := []struct{ name, path string }{
		{"list", "/ui"},
		{"list_workflow_failed", "/ui?workflow=orders&status=failed"},
		{"list_last_hour", "/ui?since=1h"},
		{"list_deep_page", "/ui?cursor=" + ids[len(ids)/10]},
		{"execution", "/ui/executions/" + ids[len(ids)/2]},
		{"workflow_stats", "/ui/workflows/orders"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				resp, err := client.Get(ts.URL + p.path)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("%s: %v %v", p.path, resp.Status, err)
				}
				resp.Body.Close()
			}
		})
	}
}

// seedExecutions records n ended executions over the last two days, ids
// made at their creation time, and returns the ids, oldest first.
func seedExecutions(b *testing.B, st store.Store, n int) []string {
	b.Helper()
	start := time.Now().Add(-48 * time.Hour)
	step := 48 * time.Hour / time.Duration(n)
	ids := make([]string, 0, n)
	batch := make([]*store.Execution, 0, 1000)
	statuses := []store.Status{store.Succeeded, store.Succeeded, store.Succeeded, store.Failed, store.TimedOut}
	for i := range n {
		at := start.Add(time.Duration(i) * step)
		u, err := newV7(at)
		if err != nil {
			b.Fatal(err)
		}
		e := &store.Execution{ID: formatID(u), Workflow: []string{"orders", "invoices"}[i%2], Mode: "sync",
			Status: statuses[i%len(statuses)], Attempt: 1, Input: json.RawMessage(fmt.Sprintf(`{"value":"%d"}`, i)),
			Result: json.RawMessage(`{"ok":true}`), Trigger: store.TriggerHTTP, CreatedAt: at, StartedAt: at,
			FinishedAt: at.Add(time.Duration(i%100) * time.Millisecond)}
		ids = append(ids, e.ID)
		if batch = append(batch, e); len(batch) == cap(batch) || i == n-1 {
			if err := st.Record(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return ids
}

// signedInClient is a client holding a dashboard session of the test key.
func signedInClient(b *testing.B, base string) *http.Client {
	b.Helper()
	br := newBrowser(b, base)
	br.signIn(testKey)
	br.client.CheckRedirect = nil
	return br.client
}
