package runtime

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/runtime/bind"
)

type benchIn struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

type benchOut struct {
	Greeting string `json:"greeting"`
	Count    int    `json:"count"`
}

func benchGreet(_ context.Context, in benchIn) (benchOut, error) {
	return benchOut{Greeting: "hello, " + in.Name, Count: in.Count + 1}, nil
}

type benchArgs struct{ In benchIn }

func (a *benchArgs) Invoke(ctx context.Context) (bind.Result, error) {
	out, err := benchGreet(ctx, a.In)
	if err != nil {
		return bind.Result{}, err
	}
	return bind.JSON(http.StatusOK, out), nil
}

const benchBody = `{"name":"ada","count":41}`

// benchWriter is a ResponseWriter that keeps only the status, so the
// benchmark measures the handler rather than a recorder.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(status int)      { w.status = status }

func benchRun(b *testing.B, h http.Handler, path string) {
	body := strings.NewReader(benchBody)
	req := httptest.NewRequest("POST", path, body)
	req.Header.Set("Content-Type", "application/json")
	rc := io.NopCloser(body)
	w := &benchWriter{header: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(benchBody)
		req.Body = rc
		clear(w.header)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkHandWritten is the baseline: what an echo handler doing the same
// work by hand costs (read, decode, run under a timeout, answer JSON).
func BenchmarkHandWritten(b *testing.B) {
	e := echo.New()
	e.POST("/api/endpoints/greet", func(c echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		var in benchIn
		if err := json.Unmarshal(body, &in); err != nil {
			return echo.NewHTTPError(400, err.Error())
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), time.Minute)
		defer cancel()
		out, err := benchGreet(ctx, in)
		if err != nil {
			return err
		}
		return c.JSON(200, out)
	})
	benchRun(b, e, "/api/endpoints/greet")
}

func BenchmarkEndpoint(b *testing.B) {
	wf := greetWorkflow("greet", true) // public: this measures the endpoint, not a credential check
	for _, tc := range []struct {
		name string
		log  *slog.Logger
	}{
		{"nolog", slog.New(slog.DiscardHandler)},
		{"jsonlog", slog.New(slog.NewJSONHandler(io.Discard, nil))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := New(Options{Workflows: []*Workflow{wf}, Logger: tc.log})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Shutdown(context.Background())
			benchRun(b, s.Handler(), "/api/endpoints/greet")
		})
	}
}
