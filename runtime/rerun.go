package runtime

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// A replay runs an execution again: a new async execution with the stored
// input of the original, trigger "replay", linked to it by replay_of. It
// goes through the queue whatever the original's mode, so it survives a
// crash and a caller follows it like any async call. The input is the
// stored one: headers the record never keeps (Authorization, Cookie…) are
// not in it, and a sync input cut at the store limit cannot be replayed.

// notReplayable is why an execution cannot be replayed: a 409.
type notReplayable struct{ reason string }

func (e *notReplayable) Error() string { return e.reason }

// replay accepts a replay of orig started by credential (a key id, "" for
// none) and returns it, pending.
func (en *engine) replay(ctx context.Context, orig *store.Execution, credential string) (*store.Execution, error) {
	e, err := en.replayOf(orig, credential)
	if err != nil {
		return nil, err
	}
	acc, err := en.store.Accept(ctx, []*store.Execution{e}, en.enqueue)
	if err != nil {
		return nil, err
	}
	return acc[0].Execution, nil
}

// replayOf is the new execution that replays orig, or why there can be none.
func (en *engine) replayOf(orig *store.Execution, credential string) (*store.Execution, error) {
	wf := en.workflows[orig.Workflow]
	if wf == nil {
		return nil, &notReplayable{"this binary has no workflow named " + orig.Workflow}
	}
	if err := replayableInput(orig.Input); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(orig.Input, wf.NewArgs()); err != nil {
		return nil, &notReplayable{"the stored input does not decode into the workflow's arguments: " + err.Error()}
	}
	now := time.Now()
	u, err := newV7(now)
	if err != nil {
		return nil, err
	}
	return &store.Execution{
		ID: formatID(u), Workflow: orig.Workflow, Mode: string(workflow.Async), Status: store.Pending,
		Input: orig.Input, Credential: credential, Trigger: store.TriggerReplay, ReplayOf: orig.ID, CreatedAt: now,
	}, nil
}

// replayableInput refuses an input the record does not hold whole: none,
// or the marker capJSON leaves in place of a value past the store limit.
func replayableInput(raw json.RawMessage) error {
	if len(raw) == 0 {
		return &notReplayable{"the execution has no stored input"}
	}
	if !bytes.HasPrefix(raw, []byte(`{"truncated":true,`)) {
		return nil
	}
	// The marker's three members and nothing else: an input of arguments
	// named so would be a remarkable coincidence.
	var fields map[string]json.RawMessage
	var t truncated
	if json.Unmarshal(raw, &fields) == nil && len(fields) == 3 && json.Unmarshal(raw, &t) == nil && t.Truncated {
		return &notReplayable{"the stored input was cut at the store limit (it had " + strconv.Itoa(t.Size) +
			" bytes): it cannot be replayed; raise serve's store limit to keep larger inputs whole"}
	}
	return nil
}

// formatID writes a UUID as the 36 characters of an execution id.
func formatID(u [16]byte) string {
	var b [36]byte
	encodeID(&b, u)
	return string(b[:])
}

// encodeID writes u into b in the 8-4-4-4-12 form of an execution id.
func encodeID(b *[36]byte, u [16]byte) {
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
}

// replayExecution answers POST /api/executions/{id}/replay: 202 and the new
// execution, as an async call's accept. The caller needs a credential that
// may call the workflow; one that may not gets the answer of an unknown id.
func (s *Server) replayExecution(c echo.Context) error {
	cred, p := s.caller(c)
	if p != nil {
		return writeProblem(c, p, "")
	}
	if cred == nil {
		return writeProblem(c, unauthorized(c.Response().Header()), "")
	}
	orig, p := s.readableExecution(c, cred)
	if p != nil {
		return writeProblem(c, p, "")
	}
	if wf := s.engine.workflows[orig.Workflow]; wf != nil && !cred.MayCall(wf.Name, wf.DisableGlobalKey) {
		return s.storeProblem(c, store.ErrNotFound)
	}
	r, p := s.replay(c.Request().Context(), orig, cred.ID)
	if p != nil {
		if p.Status == http.StatusServiceUnavailable {
			c.Response().Header().Set(echo.HeaderRetryAfter, "5")
		}
		return writeProblem(c, p, "")
	}
	url := "/api/executions/" + r.ID
	c.Response().Header().Set(echo.HeaderLocation, url)
	c.Response().Header().Set(HeaderExecutionID, r.ID)
	return c.JSON(http.StatusAccepted, accepted{ExecutionID: r.ID, Status: r.Status, StatusURL: url})
}

// replay is replayExecution once the caller is known to be allowed: the
// pending-executions cap (503), then the accept. The dashboard calls it too.
func (s *Server) replay(ctx context.Context, orig *store.Execution, credential string) (*store.Execution, *bifrost.Error) {
	e, err := s.engine.replayOf(orig, credential)
	var nr *notReplayable
	switch {
	case errors.As(err, &nr):
		return nil, newProblem(http.StatusConflict, nr.reason)
	case err != nil:
		return nil, newProblem(http.StatusInternalServerError, failedDetail(""))
	}
	if s.pressure.full(ctx, s, orig.Workflow) {
		if m := s.metrics.workflows[orig.Workflow]; m != nil {
			inc(m.pressured)
		}
		return nil, tooManyPending()
	}
	acc, err := s.engine.store.Accept(ctx, []*store.Execution{e}, s.engine.enqueue)
	if err != nil {
		s.log.ErrorContext(ctx, "replay not accepted", "execution_id", orig.ID, "error", err.Error())
		return nil, newProblem(http.StatusServiceUnavailable, "the replay could not be stored; nothing was started")
	}
	return acc[0].Execution, nil
}

// maxReplaysShown bounds the replays an execution's view lists, newest first.
const maxReplaysShown = 100

// replays are the ids of the replays of execution id, newest first.
func (en *engine) replays(ctx context.Context, id string) ([]string, error) {
	list, _, err := en.store.List(ctx, store.Filter{ReplayOf: id, Summary: true, Limit: maxReplaysShown})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(list))
	for i, r := range list {
		ids[i] = r.ID
	}
	return ids, nil
}
