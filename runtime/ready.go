package runtime

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/bifrost-go/bifrost"
)

// storeReady is nil when the store answers and its schema is migrated, or
// the 503 that says which is not so. The detail names no host and quotes no
// driver error (anyone may probe /readyz); the process log has the error.
func (s *Server) storeReady(ctx context.Context) *bifrost.Error {
	st := s.engine.store
	if err := st.Ping(ctx); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "not ready: the store does not answer", slog.String("error", err.Error()))
		return newProblem(http.StatusServiceUnavailable, "the store does not answer")
	}
	pending, err := st.PendingMigrations(ctx)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "not ready: the store's migrations cannot be read", slog.String("error", err.Error()))
		return newProblem(http.StatusServiceUnavailable, "the store does not answer: its migrations cannot be read")
	}
	if len(pending) > 0 {
		// Opening a store migrates it: a database restored or replaced under
		// the running process is the usual way here.
		return newProblem(http.StatusServiceUnavailable, "the store's migrations are not applied: "+
			strings.Join(pending, ", ")+" pending; run the `migrate` command, or restart")
	}
	return nil
}
