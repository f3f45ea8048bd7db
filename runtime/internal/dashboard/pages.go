package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/internal/schedule"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// pageSize is how many executions a page of the list shows.
const pageSize = 50

// since are the list's time filters: created in the last …
var since = []struct{ Value, Label string }{
	{"", "any time"}, {"15m", "last 15 minutes"}, {"1h", "last hour"}, {"24h", "last 24 hours"}, {"168h", "last 7 days"},
}

var statuses = []store.Status{store.Pending, store.Running, store.Succeeded, store.Failed, store.TimedOut, store.Cancelled}

// listData is the executions list: its filters, one page, the next page's
// link, and the workers when the store tracks them.
type listData struct {
	Workflows        []string
	Statuses         []store.Status
	Since            []struct{ Value, Label string }
	Workflow, Status string
	SinceValue       string
	Rows             []*store.Execution
	Next             string
	First            bool
	Workers          []store.WorkerState
	WorkersTracked   bool
	LiveAfter        time.Duration
	Scoped           bool
	DurationOf       func(*store.Execution) string
}

// liveAfter: a worker whose heartbeat is older is shown as silent (the
// reaper hands its jobs to others after 30 seconds).
const liveAfter = 15 * time.Second

// list shows executions, newest first, a page at a time. A key scoped to
// workflows lists one of its workflows at a time (its first by default), so
// a page never holds executions it may not see.
func (d *Dashboard) list(c echo.Context, v *visitor) error {
	q := c.QueryParams()
	data := listData{Workflows: v.visible(d), Statuses: statuses, Since: since, Workflow: q.Get("workflow"),
		Status: q.Get("status"), SinceValue: q.Get("since"), First: q.Get("cursor") == "", Scoped: !v.cred.Global(),
		LiveAfter: liveAfter, DurationOf: runTime}
	f := store.Filter{Workflow: data.Workflow, Status: store.Status(data.Status), Limit: pageSize, Summary: true}
	if f.Status != "" && !f.Status.Valid() {
		return d.fail(c, v, http.StatusBadRequest, "Unknown status "+data.Status+".")
	}
	if cur := q.Get("cursor"); cur != "" {
		if !store.ValidID(cur) {
			return d.fail(c, v, http.StatusBadRequest, "That page link is not one this dashboard gave.")
		}
		f.Cursor = cur
	}
	if data.SinceValue != "" {
		age, err := time.ParseDuration(data.SinceValue)
		if err != nil || age <= 0 {
			return d.fail(c, v, http.StatusBadRequest, "Unknown time filter "+data.SinceValue+".")
		}
		f.After = time.Now().Add(-age)
	}
	switch {
	case f.Workflow != "" && !v.mayCall(d, f.Workflow):
		return d.fail(c, v, http.StatusNotFound, "No workflow of that name, or your key may not see it.")
	case f.Workflow == "" && data.Scoped:
		if len(data.Workflows) == 0 {
			return d.fail(c, v, http.StatusNotFound, "Your key may call no workflow of this binary.")
		}
		f.Workflow, data.Workflow = data.Workflows[0], data.Workflows[0]
	}
	rows, next, err := d.cfg.Store.List(c.Request().Context(), f)
	if err != nil {
		d.cfg.Log.ErrorContext(c.Request().Context(), "dashboard: list failed", "error", err.Error())
		return d.fail(c, v, http.StatusServiceUnavailable, "The store did not answer.")
	}
	for _, e := range rows {
		if v.mayCall(d, e.Workflow) { // a global key does not see a disable_global_key workflow's
			data.Rows = append(data.Rows, e)
		}
	}
	if next != "" {
		q.Set("cursor", next)
		data.Next = Prefix + "?" + q.Encode()
	}
	if data.First {
		if data.Workers, data.WorkersTracked, err = d.cfg.Store.Workers(c.Request().Context()); err != nil {
			data.WorkersTracked = false // the list matters more than the workers
		}
	}
	return d.render(c, http.StatusOK, "list", "Executions", v, data)
}

// runTime is how long an execution ran, "" before it ended.
func runTime(e *store.Execution) string {
	if e.StartedAt.IsZero() || e.FinishedAt.IsZero() {
		return ""
	}
	return duration(e.FinishedAt.Sub(e.StartedAt))
}

// executionData is one execution whole, its links, and what may be done.
type executionData struct {
	E          *store.Execution
	Known      bool // the binary has its workflow
	RunTime    string
	Waited     string // from creation to start
	TraceID    string
	Request    string // the request member of the input, when the workflow takes it
	Replays    []*store.Execution
	Steps      []*store.Step // its durable steps, as a timeline
	Message    string        // what an action said
	CanReplay  bool
	CanCancel  bool
	DurationOf func(*store.Execution) string
}

func (x executionData) refresh() int {
	if x.E.Status.Terminal() {
		return 0
	}
	return 1
}

func (d *Dashboard) execution(c echo.Context, v *visitor) error {
	e, answered, err := d.visibleExecution(c, v)
	if answered {
		return err
	}
	return d.showExecution(c, v, e, http.StatusOK, "")
}

// showExecution renders e's page with status and an action's message.
func (d *Dashboard) showExecution(c echo.Context, v *visitor, e *store.Execution, status int, message string) error {
	x := executionData{E: e, Known: d.workflows[e.Workflow] != nil, RunTime: runTime(e), TraceID: traceID(e.TraceParent),
		Request: requestOf(e.Input), Message: message, DurationOf: runTime}
	if !e.StartedAt.IsZero() {
		x.Waited = duration(e.StartedAt.Sub(e.CreatedAt))
	}
	x.CanReplay = x.Known && e.Status.Terminal()
	x.CanCancel = !e.Status.Terminal()
	replays, _, err := d.cfg.Store.List(c.Request().Context(), store.Filter{ReplayOf: e.ID, Summary: true, Limit: 20})
	if err != nil {
		d.cfg.Log.ErrorContext(c.Request().Context(), "dashboard: replays not read", "error", err.Error())
	}
	x.Replays = replays
	if x.Steps, err = d.cfg.Store.Steps(c.Request().Context(), e.ID); err != nil {
		d.cfg.Log.ErrorContext(c.Request().Context(), "dashboard: steps not read", "error", err.Error())
	}
	return d.render(c, status, "execution", "Execution "+e.ID, v, x)
}

// traceID is the trace id of a W3C traceparent, "" without one.
func traceID(traceparent string) string {
	if len(traceparent) < 35 || traceparent[2] != '-' {
		return ""
	}
	return traceparent[3:35]
}

// requestOf is the request a workflow taking *bifrost.Request was started
// by, as stored (its credential headers never are), indented; "" when the
// input holds none.
func requestOf(input json.RawMessage) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(input, &top) != nil {
		return ""
	}
	if r, ok := top["request"]; ok {
		return pretty(r)
	}
	if h, ok := top["header"]; ok {
		return pretty(json.RawMessage(`{"header":` + string(h) + `}`))
	}
	return ""
}

// workflowData is one workflow: its options, recent figures and a call.
type workflowData struct {
	Spec          *workflow.Spec
	Mode          string
	Access        string
	Rate, Verify  string
	Hour, Day     store.WorkflowStats
	Curl          string
	ExecutionsURL string
	Methods       string
	NextRun       time.Time // when its schedule next fires; zero without one
}

func (d *Dashboard) workflow(c echo.Context, v *visitor) error {
	name := c.Param("name")
	wf := d.workflows[name]
	if wf == nil || !v.mayCall(d, name) {
		return d.fail(c, v, http.StatusNotFound, "No workflow of that name, or your key may not see it.")
	}
	ctx, now := c.Request().Context(), time.Now()
	x := workflowData{Spec: wf, Mode: string(wf.Mode), Access: access(wf), Rate: rate(wf), Verify: verify(wf),
		Curl: curl(wf, c.Scheme()+"://"+c.Request().Host), ExecutionsURL: Prefix + "?" + url.Values{"workflow": {name}}.Encode(),
		Methods: joinOr(wf.Methods, "– (no endpoint)")}
	if x.Mode == "" {
		x.Mode = string(workflow.Sync)
	}
	if wf.Schedule != "" {
		if sched, err := schedule.Parse(wf.Schedule); err == nil {
			x.NextRun = sched.Next(now)
		}
	}
	var err error
	if x.Hour, err = d.cfg.Store.Stats(ctx, name, now.Add(-time.Hour)); err == nil {
		x.Day, err = d.cfg.Store.Stats(ctx, name, now.Add(-24*time.Hour))
	}
	if err != nil {
		d.cfg.Log.ErrorContext(ctx, "dashboard: stats failed", "error", err.Error())
		return d.fail(c, v, http.StatusServiceUnavailable, "The store did not answer.")
	}
	return d.render(c, http.StatusOK, "workflow", "Workflow "+name, v, x)
}

func joinOr(list []string, none string) string {
	if len(list) == 0 {
		return none
	}
	out := slices.Clone(list)
	s := out[0]
	for _, m := range out[1:] {
		s += ", " + m
	}
	return s
}
