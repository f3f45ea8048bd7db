package runtime

import "sync"

// waiters wakes the long-polls of GET /api/executions/{id}?wait= when an
// execution ends: one this process ran, or one the store announces
// (store.Notifications, on PostgreSQL from any process). A missed
// announcement is caught by the polls' own reads of the store.
type waiters struct {
	mu sync.Mutex
	by map[string][]chan struct{}
}

// wait returns a channel closed when id ends, and a func to stop waiting.
func (w *waiters) wait(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	w.mu.Lock()
	if w.by == nil {
		w.by = map[string][]chan struct{}{}
	}
	w.by[id] = append(w.by[id], ch)
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		list := w.by[id]
		for i, c := range list {
			if c == ch {
				w.by[id] = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(w.by[id]) == 0 {
			delete(w.by, id)
		}
	}
}

// ended wakes the waiters of id.
func (w *waiters) ended(id string) {
	w.mu.Lock()
	list := w.by[id]
	delete(w.by, id)
	w.mu.Unlock()
	for _, ch := range list {
		close(ch)
	}
}
