package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// HeaderIdempotencyKey makes an async call return the first execution started
// with the same key, workflow and credential within 24 hours.
const HeaderIdempotencyKey = "Idempotency-Key"

// maxIdempotencyKey bounds the header: a key is an identifier, not a payload.
const maxIdempotencyKey = 255

// accepted is the 202 answer of an async call.
type accepted struct {
	ExecutionID string       `json:"execution_id"`
	Status      store.Status `json:"status"`
	StatusURL   string       `json:"status_url"`
}

// accept stores an async execution and answers 202 once it is committed: from
// then on it survives a crash. A repeated Idempotency-Key (or the delivery id
// of a signed webhook) answers with the first execution, as the IETF
// Idempotency-Key draft says: the same key with another request is a 422,
// and while the first with that key is being accepted, a 409.
func (s *Server) accept(x *exchange, args bind.Args) error {
	key := x.c.Request().Header.Get(HeaderIdempotencyKey)
	if len(key) > maxIdempotencyKey {
		return s.fail(x, newProblem(http.StatusBadRequest, "the Idempotency-Key header is longer than 255 bytes"))
	}
	if !printableASCII(key) {
		return s.fail(x, newProblem(http.StatusBadRequest, "the Idempotency-Key header must be printable ASCII"))
	}
	if p := s.backpressure(x); p != nil {
		return s.fail(x, p)
	}
	if key == "" && x.delivery != "" {
		key = "delivery:" + x.delivery
	}
	if key != "" {
		inFlight := x.ep.wf.Name + "\x00" + x.credentialID() + "\x00" + key
		if _, busy := s.accepting.LoadOrStore(inFlight, true); busy {
			x.c.Response().Header().Set(echo.HeaderRetryAfter, "1")
			return s.fail(x, newProblem(http.StatusConflict, "a request with this Idempotency-Key is being accepted; retry it"))
		}
		defer s.accepting.Delete(inFlight)
	}
	input, err := json.Marshal(args)
	if err != nil {
		s.log.LogAttrs(x.c.Request().Context(), slog.LevelError, "async input is not JSON",
			slog.String("workflow", x.ep.wf.Name), slog.String("execution_id", x.id), slog.String("error", err.Error()))
		return s.fail(x, newProblem(http.StatusInternalServerError, failedDetail(x.id)))
	}
	e := &store.Execution{
		ID: x.id, Workflow: x.ep.wf.Name, Mode: string(workflow.Async), Status: store.Pending,
		Input: s.redact.input(input), IdempotencyKey: key, CreatedAt: x.start, Credential: x.credentialID(),
		TraceParent: x.traceParent(),
	}
	acc, err := s.engine.accept(x.c.Request().Context(), e)
	if err != nil {
		s.log.LogAttrs(x.c.Request().Context(), slog.LevelError, "async execution not accepted",
			slog.String("workflow", x.ep.wf.Name), slog.String("execution_id", x.id), slog.String("error", err.Error()))
		return s.fail(x, newProblem(http.StatusServiceUnavailable, "the execution could not be stored; nothing was started"))
	}
	first := acc.Execution
	if acc.Duplicate && x.delivery == "" && !sameRequest(first.Input, e.Input) {
		return s.fail(x, newProblem(http.StatusUnprocessableEntity, "this Idempotency-Key was used with another request"))
	}
	if acc.Duplicate {
		x.id = first.ID
		x.c.Response().Header().Set(HeaderExecutionID, first.ID)
	}
	url := "/api/executions/" + first.ID
	x.c.Response().Header().Set(echo.HeaderLocation, url)
	return x.c.JSON(http.StatusAccepted, accepted{ExecutionID: first.ID, Status: first.Status, StatusURL: url})
}

// executionView is an execution as the API shows it (SPEC §4).
type executionView struct {
	ID         string          `json:"id"`
	Workflow   string          `json:"workflow"`
	Mode       string          `json:"mode"`
	Trigger    string          `json:"trigger"`
	ReplayOf   string          `json:"replay_of,omitempty"`
	Replays    []string        `json:"replays,omitempty"`
	TraceID    string          `json:"trace_id,omitempty"`
	Status     store.Status    `json:"status"`
	Attempt    int             `json:"attempt"`
	Input      json.RawMessage `json:"input"`
	Result     json.RawMessage `json:"result"`
	Error      *string         `json:"error"`
	Logs       []logView       `json:"logs"`
	Steps      []stepView      `json:"steps,omitempty"`
	CreatedAt  string          `json:"created_at"`
	StartedAt  *string         `json:"started_at"`
	FinishedAt *string         `json:"finished_at"`
	DurationMS *int64          `json:"duration_ms"`
}

type logView struct {
	Time    string         `json:"time"`
	Level   string         `json:"level"`
	Message string         `json:"message"`
	Attrs   map[string]any `json:"attrs,omitempty"`
}

// traceID is the trace id of a W3C traceparent (version-traceid-spanid-flags),
// "" when there is none.
func traceID(traceparent string) string {
	if len(traceparent) < 35 || traceparent[2] != '-' {
		return ""
	}
	return traceparent[3:35]
}

func viewOf(e *store.Execution) executionView {
	v := executionView{
		ID: e.ID, Workflow: e.Workflow, Mode: e.Mode, Trigger: e.Trigger, ReplayOf: e.ReplayOf, TraceID: traceID(e.TraceParent),
		Status: e.Status, Attempt: e.Attempt,
		Input: renderable(e.Input), Result: renderable(e.Result), Logs: make([]logView, 0, len(e.Logs)),
		CreatedAt: rfc3339(e.CreatedAt), StartedAt: optionalTime(e.StartedAt), FinishedAt: optionalTime(e.FinishedAt),
	}
	if e.Error != "" {
		v.Error = &e.Error
	}
	for _, l := range e.Logs {
		v.Logs = append(v.Logs, logView{Time: rfc3339(l.Time), Level: l.Level, Message: l.Message, Attrs: l.Attrs})
	}
	v.Steps = stepViews(e.Steps)
	if !e.StartedAt.IsZero() && !e.FinishedAt.IsZero() {
		ms := e.FinishedAt.Sub(e.StartedAt).Milliseconds()
		v.DurationMS = &ms
	}
	return v
}

// unrenderable stands for a stored value the API cannot write back: one
// stored before the depth limit, nested deeper than encoding/json reads.
var unrenderable = json.RawMessage(`{"error":"this value cannot be shown: it is not JSON encoding/json can read (nested too deep?)"}`)

// renderable is raw when it can be written as JSON, else the marker: one
// bad record must never fail a page of them.
func renderable(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || json.Valid(raw) {
		return raw
	}
	return unrenderable
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := rfc3339(t)
	return &s
}

// getExecution answers GET /api/executions/{id}; ?wait=30s (or ?wait=30)
// holds the answer until the execution ends, at most 60 seconds. The caller
// is known before the store is asked anything, and only then is it polled.
func (s *Server) getExecution(c echo.Context) error {
	if p := checkQuery(c); p != nil {
		return writeProblem(c, p, "")
	}
	var wait time.Duration
	if w := c.QueryParam("wait"); w != "" {
		d, err := parseWait(w)
		if err != nil {
			return s.apiProblem(c, http.StatusBadRequest, "wait must be a duration such as 30s, at most 60s", "query.wait", err.Error())
		}
		wait = d
	}
	cred, p := s.caller(c)
	if p != nil {
		return writeProblem(c, p, "")
	}
	if wait > 0 && cred != nil {
		// A sync execution is recorded just after its answer: a caller
		// asking at once waits for the record too. Not an anonymous one:
		// how long an unknown id takes must not tell it from a hidden one.
		s.engine.recorded(c.Request().Context(), c.Param("id"), min(wait, 2*time.Second))
	}
	e, p := s.readableExecution(c, cred)
	if p != nil {
		return writeProblem(c, p, "")
	}
	var err error
	if wait > 0 && !e.Status.Terminal() {
		if e, err = s.engine.wait(c.Request().Context(), e.ID, wait); err != nil {
			return s.storeProblem(c, err)
		}
	}
	if cred != nil { // the steps are shown where the logs are
		if e.Steps, err = s.engine.store.Steps(c.Request().Context(), e.ID); err != nil {
			return s.storeProblem(c, err)
		}
	}
	v := viewFor(e, cred)
	if cred != nil {
		if v.Replays, err = s.engine.replays(c.Request().Context(), e.ID); err != nil {
			return s.storeProblem(c, err)
		}
	}
	return c.JSON(http.StatusOK, v)
}

func parseWait(w string) (time.Duration, error) {
	if _, err := strconv.Atoi(w); err == nil {
		w += "s" // a plain number is seconds
	}
	d, err := time.ParseDuration(w)
	if err != nil || d < 0 {
		return 0, errors.New("expected duration, such as 30s")
	}
	return min(d, maxWait), nil
}

// cancelExecution answers POST /api/executions/{id}/cancel with 202 and the
// execution: a pending one is cancelled at once; a running one is asked to
// stop (its context is cancelled) and ends as cancelled.
func (s *Server) cancelExecution(c echo.Context) error {
	cred, p := s.caller(c)
	if p != nil {
		return writeProblem(c, p, "")
	}
	if _, p := s.readableExecution(c, cred); p != nil {
		return writeProblem(c, p, "")
	}
	e, err := s.engine.cancel(c.Request().Context(), c.Param("id"))
	if err != nil {
		return s.storeProblem(c, err)
	}
	return c.JSON(http.StatusAccepted, viewFor(e, cred))
}

// listExecutions answers GET /api/executions?workflow=&status=&limit=&cursor=,
// newest first, with the cursor of the next page.
func (s *Server) listExecutions(c echo.Context) error {
	if p := checkQuery(c); p != nil {
		return writeProblem(c, p, "")
	}
	cred, err := s.auth.Authenticate(c.Request().Context(), c.Request().Header, time.Now())
	if err != nil {
		return writeProblem(c, s.authProblem(c, err), "")
	}
	if !cred.Global() {
		return writeProblem(c, newProblem(http.StatusForbidden, "listing executions needs a global credential"), "")
	}
	f := store.Filter{Workflow: c.QueryParam("workflow"), Status: store.Status(c.QueryParam("status")), Cursor: c.QueryParam("cursor"), Summary: true}
	if f.Cursor != "" && !validID(f.Cursor) {
		return s.apiProblem(c, http.StatusBadRequest, "the cursor is not one this server gave", "query.cursor", "expected the next_cursor of a page")
	}
	if f.Status != "" && !f.Status.Valid() {
		return s.apiProblem(c, http.StatusBadRequest, "unknown status", "query.status",
			"expected one of pending, running, succeeded, failed, timed_out, cancelled")
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return s.apiProblem(c, http.StatusBadRequest, "limit must be between 1 and 500", "query.limit", "expected integer between 1 and 500")
		}
		f.Limit = n
	}
	list, next, err := s.engine.store.List(c.Request().Context(), f)
	if err != nil {
		return s.storeProblem(c, err)
	}
	page := struct {
		Executions []executionView `json:"executions"`
		NextCursor string          `json:"next_cursor,omitempty"`
	}{Executions: make([]executionView, 0, len(list)), NextCursor: next}
	for _, e := range list {
		page.Executions = append(page.Executions, viewOf(e))
	}
	return c.JSON(http.StatusOK, page)
}

// caller is who asks: a credential, or nil for an anonymous caller. Without
// a valid credential the answer is a 401 at once, before the store is asked
// anything, unless some workflow is public: anyone holding the id of one of
// its executions may read it, so such a caller goes on as anonymous.
func (s *Server) caller(c echo.Context) (*auth.Credential, *bifrost.Error) {
	cred, err := s.auth.Authenticate(c.Request().Context(), c.Request().Header, time.Now())
	switch {
	case err == nil:
		return cred, nil
	case s.anyPublic && (errors.Is(err, auth.ErrNoCredential) || errors.Is(err, auth.ErrInvalid)):
		return nil, nil
	}
	return nil, s.authProblem(c, err)
}

// readableExecution returns the execution of the path's id when cred may
// see it: anyone holding the id of a public workflow's execution; otherwise
// a credential that may call its workflow. Whoever may not see it gets the
// same answer as for an unknown id, so ids cannot be probed: 401 without a
// credential, 404 with one.
func (s *Server) readableExecution(c echo.Context, cred *auth.Credential) (*store.Execution, *bifrost.Error) {
	var e *store.Execution
	err := store.ErrNotFound // an id that is no execution id is unknown, whatever the database makes of its bytes
	if validID(c.Param("id")) {
		e, err = s.engine.store.Get(c.Request().Context(), c.Param("id"))
	}
	hidden := func() *bifrost.Error {
		if cred == nil {
			return unauthorized(c.Response().Header())
		}
		return s.storeError(c, store.ErrNotFound)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, hidden()
	case err != nil:
		return nil, s.storeError(c, err)
	}
	wf := s.engine.workflows[e.Workflow]
	switch {
	case wf != nil && wf.Public:
		return e, nil
	case cred == nil, wf == nil && !cred.Global(), wf != nil && !cred.MayCall(wf.Name, wf.DisableGlobalKey):
		return nil, hidden()
	}
	return e, nil
}

// viewFor is the execution as cred may see it: whole with a credential;
// without one (a public workflow's execution) its status, times and result,
// never its input (request headers included), error text or logs.
func viewFor(e *store.Execution, cred *auth.Credential) executionView {
	v := viewOf(e)
	if cred == nil {
		v.Input, v.Error, v.Logs, v.Steps = nil, nil, nil, nil
	}
	return v
}

// authProblem is the answer to a failed authentication: 401 with the
// challenge, or 503 when the store could not be read.
func (s *Server) authProblem(c echo.Context, err error) *bifrost.Error {
	if !errors.Is(err, auth.ErrNoCredential) && !errors.Is(err, auth.ErrInvalid) {
		return s.storeError(c, err)
	}
	return unauthorized(c.Response().Header())
}

func (s *Server) apiProblem(c echo.Context, status int, detail, location, message string) error {
	p := newProblem(status, detail)
	if location != "" {
		p.Errors = append(p.Errors, fieldError(location, message))
	}
	return writeProblem(c, p, "")
}

func (s *Server) storeProblem(c echo.Context, err error) error {
	return writeProblem(c, s.storeError(c, err), "")
}

// storeError is the problem for a store error: 404 for an unknown id, 503
// (logged) for anything else.
func (s *Server) storeError(c echo.Context, err error) *bifrost.Error {
	if errors.Is(err, store.ErrNotFound) {
		return newProblem(http.StatusNotFound, "no execution has this id")
	}
	s.log.LogAttrs(c.Request().Context(), slog.LevelError, "store failed", slog.String("error", err.Error()))
	return newProblem(http.StatusServiceUnavailable, "the store did not answer")
}

// checkQuery refuses a query string echo would read as empty: invalid
// percent-encoding, or ';' as a separator.
func checkQuery(c echo.Context) *bifrost.Error {
	if raw := c.Request().URL.RawQuery; raw != "" {
		if _, err := url.ParseQuery(raw); err != nil {
			return malformedQuery(err)
		}
	}
	return nil
}

// validID reports whether id is written as the execution ids this server
// makes: anything else is no execution, and never reaches the store.
func validID(id string) bool { return store.ValidID(id) }

// printableASCII reports whether s is made of visible ASCII and spaces, as
// the IETF draft's Idempotency-Key (a structured-field string) is.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// sameRequest reports whether two stored inputs are one request sent again:
// equal but for the headers, which a client's retry may change (a new
// trace id, a new date) without asking for anything else. A delivery's
// retry is not compared at all: its sender signs each attempt anew.
func sameRequest(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	return bytes.Equal(withoutHeaders(a), withoutHeaders(b))
}

// withoutHeaders is an input with its request headers left out: the
// "header" member, and the "header" and "remote_addr" of a "request".
func withoutHeaders(raw []byte) []byte {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return raw
	}
	delete(top, "header")
	if req, ok := top["request"]; ok {
		var fields map[string]json.RawMessage
		if json.Unmarshal(req, &fields) == nil {
			delete(fields, "header")
			delete(fields, "remote_addr")
			top["request"], _ = json.Marshal(fields)
		}
	}
	out, _ := json.Marshal(top)
	return out
}
