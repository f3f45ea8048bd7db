package runtime

import (
	"net/http"
	"sync"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/webhook"
)

// A sender retries a delivery it thinks failed (a timeout, a dropped
// connection) with the same delivery id. Within the signature tolerance,
// such a retry answers as the first did and runs nothing (SPEC §8): an
// async one through the store's idempotency keys ("delivery:<id>"), across
// replicas; a sync one from the answers this process keeps for
// deliveryWindow. A delivery whose first answer was not a success runs
// again: that is what the sender's retry is for.

const (
	deliveryWindow  = 5 * time.Minute // the schemes' signature tolerance
	maxDeliveries   = 10000           // answers kept at once
	maxDeliveryBody = 64 << 10        // an answer larger than this is not kept
)

// delivery is the first answer to one delivery id, once it is known.
type delivery struct {
	at          time.Time
	done        bool
	status      int
	contentType string
	body        []byte
	executionID string
}

// deliveries are the answers kept, by workflow and delivery id.
type deliveries struct {
	mu    sync.Mutex
	seen  map[string]*delivery
	order []claimed // claims by arrival, to forget the oldest
}

// claimed is one claim in arrival order: the key and the entry it made, so
// that forgetting an old claim never drops a newer one of the same key.
type claimed struct {
	key   string
	entry *delivery
}

// deliveryID is the sender's delivery id of a verified request, "" for none.
func deliveryID(x *exchange) string {
	if x.ep.verifier == nil {
		return ""
	}
	return webhook.DeliveryID(x.ep.wf.Verify.Kind, x.c.Request().Header, x.req.Body)
}

// claim returns the answer already given to key, or records that this
// request answers it. A delivery still being answered is a 409.
func (d *deliveries) claim(key string, now time.Time) (*delivery, *bifrost.Error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = map[string]*delivery{}
	}
	d.forget(now)
	if prev := d.seen[key]; prev != nil {
		if !prev.done {
			return nil, newProblem(http.StatusConflict, "this delivery is being processed; retry later")
		}
		return prev, nil
	}
	e := &delivery{at: now}
	d.seen[key] = e
	d.order = append(d.order, claimed{key, e})
	return nil, nil
}

// settle keeps the answer to key when it was a success small enough to
// keep, and forgets the claim otherwise, so a retry runs again.
func (d *deliveries) settle(key string, status int, contentType string, body []byte, executionID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.seen[key]
	if e == nil {
		return
	}
	if status < 200 || status > 299 || len(body) > maxDeliveryBody {
		delete(d.seen, key)
		return
	}
	e.done, e.status, e.contentType, e.body, e.executionID = true, status, contentType, body, executionID
}

// forget drops the answers older than the window, and the oldest past the cap.
func (d *deliveries) forget(now time.Time) {
	n := 0
	for ; n < len(d.order); n++ {
		c := d.order[n]
		if now.Sub(c.entry.at) < deliveryWindow && len(d.order)-n <= maxDeliveries {
			break
		}
		if d.seen[c.key] == c.entry { // not a newer claim of the same key
			delete(d.seen, c.key)
		}
	}
	d.order = d.order[n:]
}

// replayDelivery answers a sync delivery seen before as it was answered,
// or claims it. It reports whether the request was answered.
func (s *Server) replayDelivery(x *exchange) (bool, error) {
	if x.delivery == "" {
		return false, nil
	}
	x.delivery = x.ep.wf.Name + "\x00" + x.delivery // ids are the sender's: one namespace per workflow
	prev, p := s.deliveries.claim(x.delivery, time.Now())
	switch {
	case p != nil:
		x.delivery = "" // not ours to settle
		return true, s.fail(x, p)
	case prev == nil:
		return false, nil
	}
	x.delivery = ""
	h := x.c.Response().Header()
	h.Set(HeaderExecutionID, prev.executionID)
	h.Set(HeaderReplayed, "true")
	if prev.contentType != "" {
		h.Set("Content-Type", prev.contentType)
	}
	x.c.Response().WriteHeader(prev.status)
	_, err := x.c.Response().Write(prev.body)
	return true, err
}

// HeaderReplayed marks the answer to a delivery seen before, given again
// without running the workflow.
const HeaderReplayed = "X-Bifrost-Replayed"
