package runtime

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/bifrost-go/bifrost"
)

// verify checks the signature of a verify= workflow over the raw bytes
// received, before authentication and decoding: a missing, bad or stale
// signature is a plain 401 (the reason goes to the process log only). The
// body is read here, once; decoding reads the same bytes.
func (s *Server) verify(x *exchange) *bifrost.Error {
	v := x.ep.verifier
	if v == nil {
		return nil
	}
	if p := s.readBody(x); p != nil {
		return p
	}
	ctx := x.c.Request().Context()
	name := x.ep.wf.Verify.Secret
	secret, found, err := s.config.value(ctx, name)
	if err != nil || !found || secret == "" {
		reason := "not set"
		if err != nil {
			reason = err.Error()
		}
		s.log.LogAttrs(context.Background(), slog.LevelError, "webhook secret unavailable",
			slog.String("workflow", x.ep.wf.Name), slog.String("execution_id", x.id), slog.String("config_key", name), slog.String("reason", reason))
		return newProblem(http.StatusInternalServerError, "the webhook's secret is not configured")
	}
	if err := v.Verify(x.c.Request().Header, x.req.Body, secret, time.Now()); err != nil {
		inc(x.ep.metrics.sigRefused)
		s.log.LogAttrs(context.Background(), slog.LevelInfo, "refused a webhook signature",
			slog.String("workflow", x.ep.wf.Name), slog.String("execution_id", x.id), slog.String("reason", err.Error()))
		return newProblem(http.StatusUnauthorized, "the webhook signature is missing, invalid or stale")
	}
	return nil
}
