package runtime

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bifrost-go/bifrost"
)

// DefaultMaxPending is Options.MaxPending when zero: past 10,000 async
// executions waiting to run, new calls are refused with 503 until workers
// catch up, rather than the queue growing without bound.
const DefaultMaxPending = 10000

// pendingRefresh is how stale the pending counts may be: they are read from
// the store, shared by every replica, at most this often.
const pendingRefresh = time.Second

// pressure holds the last pending counts read from the store.
type pressure struct {
	maxTotal, maxPerWorkflow int

	mu    sync.Mutex
	at    time.Time
	total int
	by    map[string]int
}

// backpressure refuses an async call when the pending executions, in all
// or of its workflow, are at their cap: 503 with Retry-After.
func (s *Server) backpressure(x *exchange) *bifrost.Error {
	if !s.pressure.full(x.c.Request().Context(), s, x.ep.wf.Name) {
		return nil
	}
	inc(x.ep.metrics.pressured)
	x.c.Response().Header().Set("Retry-After", strconv.Itoa(5))
	return tooManyPending()
}

func tooManyPending() *bifrost.Error {
	return newProblem(http.StatusServiceUnavailable, "too many executions are waiting to run; retry later")
}

// full reports whether the pending executions, in all or of workflow, are
// at their cap; when not, it counts one more for workflow.
func (p *pressure) full(ctx context.Context, s *Server, workflow string) bool {
	if p.maxTotal <= 0 && p.maxPerWorkflow <= 0 {
		return false
	}
	total, mine, err := p.counts(ctx, s, workflow)
	if err != nil {
		return false // the accept that follows reports a store that does not answer
	}
	full := p.maxTotal > 0 && total >= p.maxTotal || p.maxPerWorkflow > 0 && mine >= p.maxPerWorkflow
	if !full {
		p.took(workflow)
	}
	return full
}

func (p *pressure) counts(ctx context.Context, s *Server, workflow string) (int, int, error) {
	p.mu.Lock()
	stale := time.Since(p.at) > pendingRefresh
	if stale {
		p.at = time.Now() // one caller reads the store; the others use the last counts meanwhile
	}
	total, mine, read := p.total, p.by[workflow], p.by != nil
	p.mu.Unlock()
	if !stale {
		if !read {
			return 0, 0, errNoCounts
		}
		return total, mine, nil
	}
	total, by, err := s.engine.store.CountPending(ctx)
	if err != nil {
		return 0, 0, err
	}
	p.mu.Lock()
	p.total, p.by = total, by
	p.mu.Unlock()
	return total, by[workflow], nil
}

// errNoCounts: no count has been read yet (the first read failed).
var errNoCounts = errors.New("pending counts not read yet")

// took counts an accept of this process since the last read, so a burst
// between two reads cannot overshoot the cap by much.
func (p *pressure) took(workflow string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.by != nil {
		p.total++
		p.by[workflow]++
	}
}
