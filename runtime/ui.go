package runtime

import (
	"context"

	"github.com/bifrost-go/bifrost/runtime/internal/dashboard"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// newDashboard is the executions dashboard at /ui (runtime/internal/dashboard)
// of a server with a store: it signs sessions with sessionSecret
// (BIFROST_SESSION_SECRET), and cancels and replays through the engine as
// the executions API does.
func (s *Server) newDashboard(st store.Store, sessionSecret []byte) (*dashboard.Dashboard, error) {
	specs := make([]*workflow.Spec, len(s.workflows))
	for i, wf := range s.workflows {
		specs[i] = &wf.Spec
	}
	return dashboard.New(dashboard.Config{
		Store: st, Auth: s.auth, Workflows: specs, SessionSecret: sessionSecret, Log: s.log,
		Cancel: s.engine.cancel,
		Replay: func(ctx context.Context, e *store.Execution, credential string) (*store.Execution, error) {
			r, p := s.replay(ctx, e, credential)
			if p != nil {
				return nil, &dashboard.ActionError{Status: p.Status, Message: p.Detail}
			}
			return r, nil
		},
	})
}
