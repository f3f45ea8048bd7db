package runtime

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestReadyz: GET /readyz is a 200 while the store answers and is
// migrated; a 503 problem saying which is wrong when a migration's row is
// missing (a database restored under the process), until it is back;
// and a 503 saying the store does not answer once it is gone.
func TestReadyz(t *testing.T) { onEachStore(t, testReadyz) }

func testReadyz(t *testing.T) {
	st := openTestStore(t)
	srv := startServer(t, Options{Workflows: metricsWorkflows(), Logger: discard, Store: st, Auth: &authConfigKey})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); drain(t, srv, 10*time.Second) })

	wantReady(t, ts.URL, http.StatusOK, "")
	if _, err := rawDB(t, st).Exec(`DELETE FROM bifrost_migrations WHERE version = 4`); err != nil {
		t.Fatal(err)
	}
	wantReady(t, ts.URL, http.StatusServiceUnavailable, "the store's migrations are not applied: 0004_links pending; run the `migrate` command")
	// What migrate writes once 0004 is applied.
	if _, err := rawDB(t, st).Exec(`INSERT INTO bifrost_migrations (version, applied_at) VALUES (4, 0)`); err != nil {
		t.Fatal(err)
	}
	wantReady(t, ts.URL, http.StatusOK, "")

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	wantReady(t, ts.URL, http.StatusServiceUnavailable, "the store does not answer")
}

// wantReady checks GET /readyz: its status and, for a 503, that the
// problem's detail starts with detail.
func wantReady(t *testing.T, base string, status int, detail string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/readyz", nil)
	got, h, body := send(t, req)
	if got != status {
		t.Fatalf("GET /readyz: %d %s, want %d", got, body, status)
	}
	if status == http.StatusOK {
		return
	}
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(body, &p); err != nil || h.Get("Content-Type") != "application/problem+json" || !strings.HasPrefix(p.Detail, detail) {
		t.Errorf("GET /readyz: %s %s; want a problem whose detail starts %q", h.Get("Content-Type"), body, detail)
	}
}
