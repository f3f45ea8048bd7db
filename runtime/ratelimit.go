package runtime

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/bifrost-go/bifrost/workflow"
	"golang.org/x/time/rate"
)

// limiter enforces rate= per workflow and caller: the credential, or the
// client address on a public endpoint. Counts live in this process: with
// several replicas behind a load balancer each allows the rate.
type limiter struct {
	mu       sync.Mutex
	buckets  map[string]*bucket
	lastSwep time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// allow takes one call from the bucket of key; when there is none left it
// returns how long until there is.
func (l *limiter) allow(key string, r *workflow.Rate, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	if now.Sub(l.lastSwep) > time.Minute {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(rate.Limit(float64(r.N)/r.Per.Seconds()), r.N)}
		l.buckets[key] = b
	}
	b.seen = now
	res := b.l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets callers idle for ten minutes: their buckets are full again.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.seen) > 10*time.Minute {
			delete(l.buckets, k)
		}
	}
	l.lastSwep = now
}

// retryAfter is the Retry-After header for a wait: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
