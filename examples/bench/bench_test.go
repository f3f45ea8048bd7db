package bench_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/examples/bench"
	"github.com/bifrost-go/bifrost/runtime"
)

const path = "/api/endpoints/create_item"

// handlers are the two ways of serving CreateItem, each on its own echo.
func handlers(tb testing.TB) map[string]http.Handler {
	tb.Helper()
	srv, err := runtime.New(runtime.Options{Workflows: bench.Workflows(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	hand := echo.New()
	hand.POST(path, bench.HandwrittenCreateItem)
	return map[string]http.Handler{"generated": srv.Handler(), "handwritten": hand}
}

func request(body, query, contentType string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path+query, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return req
}

const validBody = `{"name":"widget","count":3,"tags":["a","b","c"],"meta":{"color":"blue","size":2}}`

// TestHandwrittenAnswersAsGenerated keeps the baseline honest: for valid and
// invalid requests both handlers answer with the same status, content type
// and body (execution ids aside).
func TestHandwrittenAnswersAsGenerated(t *testing.T) {
	cases := []struct{ name, body, query, contentType string }{
		{"valid", validBody, "?dry_run=true", "application/json"},
		{"valid without query", validBody, "", "application/json"},
		{"missing members", `{"name":"x"}`, "", "application/json"},
		{"wrong kind", `{"name":"x","count":"3","tags":[],"meta":{}}`, "", "application/json"},
		{"bad query", validBody, "?dry_run=maybe", "application/json"},
	}
	hs := handlers(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			answers := map[string]*httptest.ResponseRecorder{}
			for name, h := range hs {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, request(c.body, c.query, c.contentType))
				answers[name] = rec
			}
			g, h := answers["generated"], answers["handwritten"]
			if g.Code != h.Code || g.Header().Get("Content-Type") != h.Header().Get("Content-Type") {
				t.Fatalf("generated %d %s, handwritten %d %s", g.Code, g.Header().Get("Content-Type"), h.Code, h.Header().Get("Content-Type"))
			}
			if g.Header().Get(runtime.HeaderExecutionID) == "" || h.Header().Get(runtime.HeaderExecutionID) == "" {
				t.Fatal("an answer has no execution id")
			}
			if gb, hb := normalise(t, g.Body.Bytes()), normalise(t, h.Body.Bytes()); gb != hb {
				t.Fatalf("bodies differ:\ngenerated   %s\nhandwritten %s", gb, hb)
			}
		})
	}
}

// normalise drops the execution id and re-encodes, so bodies compare by content.
func normalise(t *testing.T, body []byte) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	delete(v, "execution_id")
	out, _ := json.Marshal(v)
	return string(out)
}

// BenchmarkCreateItem serves the same valid request through the generated
// binding and through the hand-written handler. Compare with benchstat:
// make bench, or benchstat -col /impl.
func BenchmarkCreateItem(b *testing.B) {
	for _, name := range []string{"handwritten", "generated"} {
		h := handlers(b)[name]
		b.Run("impl="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, request(validBody, "?dry_run=true", "application/json"))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
