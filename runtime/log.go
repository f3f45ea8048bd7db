package runtime

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"
)

// defaultLogger is the process log when Options.Logger is nil: JSON lines on
// stderr at info and above.
func defaultLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}

// logAccess writes the one access line of a request: method, path (never the
// query string), status, duration, workflow, execution id and, when the
// request is traced, its trace id. Headers, bodies and credentials never
// reach it. A zero start leaves the duration out (echo's own errors in the
// standalone handler, timed by nobody).
//
// It hands the record to the handler directly: the line has no use for the
// caller's source position, and finding it would cost more than the rest.
func (s *Server) logAccess(c echo.Context, start time.Time, level slog.Level, workflow, executionID string) {
	ctx := context.Background()
	h := s.log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	now := time.Now()
	req := c.Request()
	rec := slog.NewRecord(now, level, "request", 0)
	rec.AddAttrs(
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("status", c.Response().Status))
	if !start.IsZero() {
		rec.AddAttrs(slog.Float64("duration_ms", float64(now.Sub(start).Microseconds())/1000))
	}
	rec.AddAttrs(
		slog.String("workflow", workflow),
		slog.String("execution_id", executionID))
	if s.tracing != nil {
		if sc := trace.SpanContextFromContext(req.Context()); sc.IsSampled() {
			rec.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
		}
	}
	_ = h.Handle(ctx, rec) // a log that cannot be written is not the caller's problem
}
