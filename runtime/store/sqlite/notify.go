package sqlite

import (
	"context"
	"log/slog"
	"sync"
)

// hub passes the ids of executions that ended through this store to its
// ListenEnded listeners, in this process: the only one that uses the file.
type hub struct {
	mu        sync.Mutex
	listeners map[*func(string)]struct{}
}

func (h *hub) announce(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for l := range h.listeners {
		(*l)(id)
	}
}

// ListenEnded implements store.Store.
func (s *Store) ListenEnded(ctx context.Context, _ *slog.Logger, ended func(id string)) error {
	l := &ended
	s.ended.mu.Lock()
	if s.ended.listeners == nil {
		s.ended.listeners = map[*func(string)]struct{}{}
	}
	s.ended.listeners[l] = struct{}{}
	s.ended.mu.Unlock()
	<-ctx.Done()
	s.ended.mu.Lock()
	delete(s.ended.listeners, l)
	s.ended.mu.Unlock()
	return nil
}
