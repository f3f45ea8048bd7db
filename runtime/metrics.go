package runtime

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// metricsPath is where the main listener answers Prometheus scrapes, unless
// Options.DisableMetrics.
const metricsPath = "/metrics"

// metrics are a server's Prometheus families, in a registry of its own: two
// servers in one process do not collide, and nothing lands in the global
// default registry. docs/operations.md describes each family.
//
// Label values are bounded: workflow names of this binary, HTTP methods
// (others are "other"), status codes and fixed words. An unknown workflow
// in a 404 is the workflow "", never the name it asked for.
type metrics struct {
	reg *prometheus.Registry

	requests   *prometheus.CounterVec   // workflow, method, status
	reqSeconds *prometheus.HistogramVec // workflow, method
	executions *prometheus.CounterVec   // workflow, mode, status
	execSecs   *prometheus.HistogramVec // workflow, mode
	retries    *prometheus.CounterVec   // workflow
	authRefuse *prometheus.CounterVec   // reason
	sigRefuse  *prometheus.CounterVec   // workflow
	rateLimit  *prometheus.CounterVec   // workflow
	pressure   *prometheus.CounterVec   // workflow
	batchSize  prometheus.Histogram
	storeWrite prometheus.Histogram

	authMissing, authInvalid, authForbidden prometheus.Counter
	noWorkflow                              *requestMetrics // requests that named no workflow of ours
	workflows                               map[string]*workflowMetrics
}

// workflowMetrics are one workflow's children, resolved once at New so the
// request path does no label hashing for them.
type workflowMetrics struct {
	requests   *requestMetrics
	ended      map[store.Status]prometheus.Counter // terminal statuses only
	duration   prometheus.Observer
	retries    prometheus.Counter // nil unless async
	sigRefused prometheus.Counter // nil without verify=
	limited    prometheus.Counter // nil without a rate
	pressured  prometheus.Counter // nil unless async
}

// requestMetrics caches one workflow's request children by method and
// status as they first occur: the set is small, and series that never
// happen are not exported.
type requestMetrics struct {
	m        *metrics
	workflow string

	mu       sync.RWMutex
	counters map[requestKey]prometheus.Counter
	seconds  map[string]prometheus.Observer
}

type requestKey struct {
	method string
	status int
}

// terminalStatuses are the statuses an execution ends with.
var terminalStatuses = []store.Status{store.Succeeded, store.Failed, store.TimedOut, store.Cancelled}

func newMetrics(workflows []*Workflow, st store.Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), workflows: make(map[string]*workflowMetrics, len(workflows))}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(v)
		return v
	}
	m.requests = counter("bifrost_http_requests_total", "Endpoint requests answered, by workflow, method and status code.", "workflow", "method", "status")
	m.executions = counter("bifrost_executions_total", "Executions ended, by workflow, mode and final status.", "workflow", "mode", "status")
	m.retries = counter("bifrost_execution_retries_total", "Failed or timed-out async attempts scheduled to run again.", "workflow")
	m.authRefuse = counter("bifrost_auth_refused_total", "Endpoint calls refused for their credential: missing, invalid (401) or forbidden (403).", "reason")
	m.sigRefuse = counter("bifrost_signature_refused_total", "Webhook deliveries refused for a missing, invalid or stale signature (401).", "workflow")
	m.rateLimit = counter("bifrost_rate_limited_total", "Endpoint calls refused by the workflow's rate limit (429).", "workflow")
	m.pressure = counter("bifrost_backpressure_refused_total", "Async calls refused because too many executions are pending (503).", "workflow")
	m.reqSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bifrost_http_request_duration_seconds",
		Help: "Time to answer an endpoint request.", Buckets: prometheus.DefBuckets}, []string{"workflow", "method"})
	m.execSecs = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bifrost_execution_duration_seconds",
		Help:    "Time an execution's last attempt ran, by workflow and mode.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900}}, []string{"workflow", "mode"})
	m.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bifrost_record_batch_size",
		Help: "Sync execution records written per store transaction.", Buckets: prometheus.ExponentialBuckets(1, 2, 9)})
	m.storeWrite = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bifrost_store_write_seconds",
		Help: "Time of one store write of a batch of sync execution records.", Buckets: prometheus.DefBuckets})
	m.reg.MustRegister(m.reqSeconds, m.execSecs, m.batchSize, m.storeWrite,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		m.reg.MustRegister(newActiveCollector(st))
	}

	m.authMissing = m.authRefuse.WithLabelValues("missing")
	m.authInvalid = m.authRefuse.WithLabelValues("invalid")
	m.authForbidden = m.authRefuse.WithLabelValues("forbidden")
	m.noWorkflow = m.newRequestMetrics("")
	for _, wf := range workflows {
		m.workflows[wf.Name] = m.newWorkflowMetrics(wf)
	}
	return m
}

func (m *metrics) newWorkflowMetrics(wf *Workflow) *workflowMetrics {
	mode := modeLabel(wf.Mode)
	w := &workflowMetrics{
		requests: m.newRequestMetrics(wf.Name),
		ended:    make(map[store.Status]prometheus.Counter, len(terminalStatuses)),
		duration: m.execSecs.WithLabelValues(wf.Name, mode),
	}
	for _, st := range terminalStatuses {
		w.ended[st] = m.executions.WithLabelValues(wf.Name, mode, string(st))
	}
	if wf.Mode == workflow.Async {
		w.retries = m.retries.WithLabelValues(wf.Name)
		w.pressured = m.pressure.WithLabelValues(wf.Name)
	}
	if wf.Verify != nil {
		w.sigRefused = m.sigRefuse.WithLabelValues(wf.Name)
	}
	if wf.Rate != nil {
		w.limited = m.rateLimit.WithLabelValues(wf.Name)
	}
	return w
}

func (m *metrics) newRequestMetrics(workflow string) *requestMetrics {
	return &requestMetrics{m: m, workflow: workflow,
		counters: make(map[requestKey]prometheus.Counter), seconds: make(map[string]prometheus.Observer)}
}

func modeLabel(m workflow.Mode) string {
	if m == workflow.Async {
		return string(workflow.Async)
	}
	return string(workflow.Sync)
}

// observe counts one answered request and its duration.
func (r *requestMetrics) observe(method string, status int, d time.Duration) {
	method = methodLabel(method)
	key := requestKey{method, status}
	r.mu.RLock()
	c, cok := r.counters[key]
	o, ook := r.seconds[method]
	r.mu.RUnlock()
	if !cok || !ook {
		r.mu.Lock()
		if c, cok = r.counters[key]; !cok {
			c = r.m.requests.WithLabelValues(r.workflow, method, statusLabel(status))
			r.counters[key] = c
		}
		if o, ook = r.seconds[method]; !ook {
			o = r.m.reqSeconds.WithLabelValues(r.workflow, method)
			r.seconds[method] = o
		}
		r.mu.Unlock()
	}
	c.Inc()
	o.Observe(d.Seconds())
}

// methodLabel bounds the method label: a request may carry any token as
// its method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// statusLabel is a status code as a label value; codes outside 100-599
// (none are written) are "other".
func statusLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return string([]byte{byte('0' + code/100), byte('0' + code/10%10), byte('0' + code%10)})
}

// request returns the request children of the workflow x reached, or of
// "no workflow" for a 404.
func (m *metrics) request(x *exchange) *requestMetrics {
	if x.ep == nil {
		return m.noWorkflow
	}
	return x.ep.metrics.requests
}

// end counts an execution that ended with a terminal status, and how long
// it ran.
func (w *workflowMetrics) end(status store.Status, ran time.Duration) {
	if c := w.ended[status]; c != nil {
		c.Inc()
		w.duration.Observe(ran.Seconds())
	}
}

// inc increments c unless the family does not apply (nil).
func inc(c prometheus.Counter) {
	if c != nil {
		c.Inc()
	}
}

// activeCollector exports bifrost_executions_pending and
// bifrost_executions_running, read from the store in one query at most once
// per pendingRefresh: scrapes cannot hammer it. A store that does not
// answer leaves both gauges out of that scrape.
type activeCollector struct {
	st      store.Store
	pending *prometheus.Desc
	running *prometheus.Desc

	mu                 sync.Mutex
	at                 time.Time
	nPending, nRunning int
	err                error
}

func newActiveCollector(st store.Store) *activeCollector {
	return &activeCollector{st: st,
		pending: prometheus.NewDesc("bifrost_executions_pending",
			"Async executions waiting to run, in the whole store (every replica's), read at most once a second.", nil, nil),
		running: prometheus.NewDesc("bifrost_executions_running",
			"Async executions running now, in the whole store (every worker's), read at most once a second.", nil, nil),
	}
}

func (a *activeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- a.pending
	ch <- a.running
}

func (a *activeCollector) Collect(ch chan<- prometheus.Metric) {
	a.mu.Lock()
	if time.Since(a.at) > pendingRefresh {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		a.nPending, a.nRunning, a.err = a.st.CountActive(ctx)
		cancel()
		a.at = time.Now()
	}
	pending, running, err := a.nPending, a.nRunning, a.err
	a.mu.Unlock()
	if err == nil {
		ch <- prometheus.MustNewConstMetric(a.pending, prometheus.GaugeValue, float64(pending))
		ch <- prometheus.MustNewConstMetric(a.running, prometheus.GaugeValue, float64(running))
	}
}

// MetricsHandler returns the handler of the server's Prometheus metrics,
// for an app that serves them elsewhere than GET /metrics of the main
// listener (see Options.DisableMetrics).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	})
}

// serveMetrics answers GET /metrics; scrapes are logged at debug level.
func (s *Server) serveMetrics(h http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		h.ServeHTTP(c.Response(), c.Request())
		s.logAccess(c, start, slog.LevelDebug, "", "")
		return nil
	}
}
