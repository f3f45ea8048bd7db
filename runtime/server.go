package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/otel/trace"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/internal/dashboard"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/webhook"
	"github.com/bifrost-go/bifrost/workflow"
)

// DefaultBodyLimit is the largest request body accepted when
// Options.BodyLimit is zero: 10 MiB.
const DefaultBodyLimit = 10 << 20

// DefaultMaxJSONDepth is Options.MaxJSONDepth when zero. Real payloads
// (GitHub's, Stripe's) nest less than 20 levels; a record nested 10,000
// deep could be stored but never read back.
const DefaultMaxJSONDepth = 128

// HeaderExecutionID carries the execution id on every answer once an
// execution exists.
const HeaderExecutionID = "X-Bifrost-Execution-Id"

// endpointPath is the route of every endpoint workflow.
const (
	endpointPrefix = "/api/endpoints/"
	endpointPath   = endpointPrefix + ":name"
)

// Options configure a Server.
type Options struct {
	Workflows []*Workflow
	Logger    *slog.Logger // process log; default: JSON slog handler on stderr
	BodyLimit int64        // largest request body in bytes; default DefaultBodyLimit
	// MaxJSONDepth is how deeply a JSON body may nest arrays and objects;
	// deeper is a 400 before anything is decoded or stored. Default
	// DefaultMaxJSONDepth.
	MaxJSONDepth int
	// RedactHeaders are request headers, beside Authorization,
	// Proxy-Authorization, Cookie, Set-Cookie and X-Bifrost-Key, that no
	// execution record keeps (a workflow running in the request still
	// sees them).
	RedactHeaders []string
	// CORSOrigins are the origins browsers may call the endpoints and the
	// executions API from ("https://app.example.com", or "*"). Empty: no
	// CORS headers, so browsers refuse cross-origin calls.
	CORSOrigins []string
	// StoreLimit is how many bytes of a sync execution's input and of its
	// result the record keeps, and of any execution's logs; past it the
	// record says the value was truncated, with its size and its first
	// KiB. An async input and result are kept whole: they are the only
	// copy (the body limit bounds them). Default DefaultStoreLimit.
	StoreLimit int
	// Retain is how long ended executions are kept, unless their workflow's
	// retain= says otherwise; older ones are deleted in the background, in
	// small batches. Default DefaultRetain; negative keeps them for ever.
	Retain time.Duration
	// MaxPending caps the async executions waiting to run, in all (default
	// DefaultMaxPending; negative: no cap); MaxPendingPerWorkflow caps them
	// per workflow (0: no cap). A call past a cap is a 503 with Retry-After.
	MaxPending            int
	MaxPendingPerWorkflow int

	// Store records executions and holds the async queue. Without one,
	// sync executions are not recorded and async workflows cannot be served.
	Store store.Store
	// Workers is how many async executions this process runs at once; 0
	// runs none (another process's `worker` does).
	Workers int
	// Auth configures credentials beyond the store's API keys: the
	// environment key and session tokens. Nil reads them from the
	// environment (auth.ConfigFromEnv).
	Auth *auth.Config
	// DocsScriptURL is the script of the API reference page at /api/docs
	// (Scalar's standalone bundle). Empty: BIFROST_DOCS_SCRIPT_URL, else the
	// viewer embedded in the binary (DocsViewerPath), which works offline;
	// DocsViewerCDNURL loads the same version from a CDN.
	DocsScriptURL string
	// DisableMetrics leaves GET /metrics out of Register and Handler. The
	// metrics are still kept: MetricsHandler serves them wherever the app
	// mounts it (`serve --metrics-addr` serves them on a listener of their
	// own).
	DisableMetrics bool
	// TracerProvider, when set, traces every endpoint request and async
	// attempt (docs/operations.md): pass the provider of your own
	// OpenTelemetry setup, or otel.GetTracerProvider(). Nil: no tracing,
	// at no cost. runtime.Main builds one from the OTEL_* variables.
	TracerProvider trace.TracerProvider
}

// Server serves workflows over HTTP. It holds no per-request state and is
// safe for concurrent use.
type Server struct {
	log       *slog.Logger
	bodyLimit int64
	workflows []*Workflow          // every workflow, in the order given
	endpoints map[string]*endpoint // endpoint workflows by name

	anyPublic  bool // some endpoint is public: anonymous callers may read its executions
	redact     redactor
	pressure   pressure
	retention  *retention // nil without a store, or with Retain < 0 and no retain=
	deliveries deliveries // answers to signed deliveries, for their retries
	accepting  sync.Map   // idempotency keys being accepted now
	storeLimit int
	cors       []echo.MiddlewareFunc // empty without Options.CORSOrigins
	tooLarge   string                // the 413 detail
	maxDepth   int                   // Options.MaxJSONDepth
	tooDeep    *bifrost.Error
	engine     *engine // nil without a store
	auth       *auth.Authenticator
	limits     limiter
	config     *configSource // nil without a store
	docsJS     string        // Options.DocsScriptURL
	metrics    *metrics
	metricsOn  bool                 // GET /metrics on Register's echo app
	tracing    *tracing             // nil without Options.TracerProvider
	dashboard  *dashboard.Dashboard // /ui; nil without a store

	shutdown    sync.Once // Shutdown's work runs once; later calls wait for it
	shutdownErr error
}

// endpoint is an endpoint workflow with what its requests need precomputed.
type endpoint struct {
	wf       *Workflow
	get      bool             // GET is allowed, and so HEAD
	allow    string           // the Allow header of a 405 and OPTIONS: "GET, HEAD, POST, OPTIONS"
	timedOut string           // the 504 detail
	verifier webhook.Verifier // nil without verify=
	metrics  *workflowMetrics
}

// New checks the workflows and returns a server for them. It refuses a nil
// workflow, an invalid or repeated name, and an endpoint workflow without
// Decode or methods.
func New(opts Options) (*Server, error) {
	s := &Server{
		log:       opts.Logger,
		endpoints: make(map[string]*endpoint),
		docsJS:    opts.DocsScriptURL,
		metricsOn: !opts.DisableMetrics,
		tracing:   newTracing(opts.TracerProvider),
	}
	if s.log == nil {
		s.log = defaultLogger()
	}
	if err := s.setLimits(opts); err != nil {
		return nil, err
	}
	if err := s.addWorkflows(opts); err != nil {
		return nil, err
	}
	s.metrics = newMetrics(s.workflows, opts.Store)
	for _, ep := range s.endpoints {
		ep.metrics = s.metrics.workflows[ep.wf.Name]
	}
	if err := s.connect(opts); err != nil {
		return nil, err
	}
	return s, nil
}

// setLimits sets what bounds a request and what is stored of it.
func (s *Server) setLimits(opts Options) error {
	s.bodyLimit = cmp.Or(opts.BodyLimit, DefaultBodyLimit)
	s.maxDepth = cmp.Or(opts.MaxJSONDepth, DefaultMaxJSONDepth)
	switch {
	case s.bodyLimit < 0:
		return fmt.Errorf("body limit %d: must not be negative", opts.BodyLimit)
	case s.maxDepth < 0:
		return fmt.Errorf("max JSON depth %d: must not be negative", opts.MaxJSONDepth)
	}
	s.tooLarge = "the body is larger than the limit of " + strconv.FormatInt(s.bodyLimit, 10) + " bytes"
	s.tooDeep = newProblem(http.StatusBadRequest, "the JSON body nests deeper than "+strconv.Itoa(s.maxDepth)+" levels")
	s.tooDeep.Errors = []bifrost.FieldError{{Location: "body", Message: "nested deeper than " + strconv.Itoa(s.maxDepth) + " levels"}}
	s.redact = newRedactor(opts.RedactHeaders)
	s.pressure.maxTotal, s.pressure.maxPerWorkflow = cmp.Or(opts.MaxPending, DefaultMaxPending), opts.MaxPendingPerWorkflow
	s.storeLimit = cmp.Or(opts.StoreLimit, DefaultStoreLimit)
	if len(opts.CORSOrigins) > 0 {
		s.cors = []echo.MiddlewareFunc{middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  opts.CORSOrigins,
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, auth.HeaderKey, HeaderIdempotencyKey},
			ExposeHeaders: []string{HeaderExecutionID, echo.HeaderLocation, echo.HeaderRetryAfter},
			MaxAge:        600,
		})}
	}
	return nil
}

// addWorkflows checks the workflows and precomputes what each endpoint's
// requests need.
func (s *Server) addWorkflows(opts Options) error {
	valid, errs := validWorkflows(opts.Workflows)
	for _, wf := range valid {
		s.workflows = append(s.workflows, wf)
		if !wf.Endpoint {
			continue
		}
		ep := &endpoint{
			wf:       wf,
			get:      slices.Contains(wf.Methods, http.MethodGet),
			allow:    allowHeader(wf.Methods),
			timedOut: "the workflow did not finish within its timeout of " + wf.Timeout.String(),
		}
		if v := wf.Verify; v != nil {
			verifier, err := webhook.ByKind(v.Kind, v.SignatureHeader)
			if err != nil {
				errs = append(errs, fmt.Errorf("workflow %s: verify: %w", wf.Name, err))
				continue
			}
			ep.verifier = verifier
		}
		s.endpoints[wf.Name] = ep
		s.anyPublic = s.anyPublic || wf.Public
		if opts.Store == nil && wf.Mode == workflow.Async {
			errs = append(errs, fmt.Errorf("workflow %s: mode=async needs a store (Options.Store)", wf.Name))
		}
	}
	return errors.Join(errs...)
}

// connect sets up what the server holds beside the requests: the
// authenticator and, with a store, configuration, the engine and retention.
func (s *Server) connect(opts Options) error {
	cfg := auth.ConfigFromEnv()
	if opts.Auth != nil {
		cfg = *opts.Auth
	}
	cfg.Log = s.log
	cfg.Keys = noKeys{}
	if opts.Store != nil {
		cfg.Keys = opts.Store
	}
	a, err := auth.New(context.Background(), cfg)
	if err != nil {
		return err
	}
	s.auth = a
	if opts.Store == nil {
		return nil
	}
	cs, err := newConfigSource(opts.Store)
	if err != nil {
		a.Close()
		return err
	}
	s.config = cs
	en, err := newEngine(context.Background(), opts.Store, s.workflows, opts.Workers, s.log)
	if err != nil {
		a.Close()
		return err
	}
	en.config = cs
	en.metrics = s.metrics
	en.tracing = s.tracing
	en.client = s
	s.engine = en
	if s.dashboard, err = s.newDashboard(opts.Store, cfg.SessionSecret); err != nil {
		a.Close()
		return err
	}
	s.retention = newRetention(opts.Store, s.log, max(cmp.Or(opts.Retain, DefaultRetain), 0), s.workflows)
	return nil
}

// noKeys is the key store of a server without a store: no API keys exist.
type noKeys struct{}

func (noKeys) GetKey(context.Context, string) (*store.Key, error)    { return nil, store.ErrNotFound }
func (noKeys) TouchKeys(context.Context, map[string]time.Time) error { return nil }

// Start starts what runs beside the requests: the async workers, after
// re-running executions a crash interrupted. Call it once before serving.
func (s *Server) Start(ctx context.Context) error {
	if s.engine == nil {
		return nil
	}
	if err := s.engine.start(ctx); err != nil {
		return err
	}
	s.retention.start()
	return nil
}

// Shutdown stops accepting async executions, lets running ones finish until
// ctx ends (then hands them back to the queue), and writes the records of
// sync executions still queued. Call it after the HTTP server has drained.
// A second call returns the first's answer.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Do(func() {
		defer s.auth.Close()
		if s.engine == nil {
			return
		}
		s.retention.close()
		s.shutdownErr = s.engine.stop(ctx)
	})
	return s.shutdownErr
}

// validWorkflows returns the usable workflows and what is wrong with the
// others: nil ones, repeated names, and what checkWorkflow refuses.
func validWorkflows(workflows []*Workflow) ([]*Workflow, []error) {
	seen := make(map[string]bool, len(workflows))
	var valid []*Workflow
	var errs []error
	for i, wf := range workflows {
		if wf == nil {
			errs = append(errs, fmt.Errorf("workflow %d is nil", i))
			continue
		}
		if seen[wf.Name] {
			errs = append(errs, fmt.Errorf("workflow %s: two workflows have this name", wf.Name))
			continue
		}
		seen[wf.Name] = true
		if err := checkWorkflow(wf); err != nil {
			errs = append(errs, err)
			continue
		}
		valid = append(valid, wf)
	}
	return valid, errs
}

// checkWorkflow reports what makes wf unusable by the runtime. The generator
// never produces such a value; a hand-written one might.
func checkWorkflow(wf *Workflow) error {
	if !validName(wf.Name) {
		return fmt.Errorf("workflow %q: the name must match [a-z0-9][a-z0-9_-]*", wf.Name)
	}
	switch wf.Mode {
	case "", workflow.Sync, workflow.Async:
	default:
		return fmt.Errorf("workflow %s: unknown mode %q", wf.Name, wf.Mode)
	}
	if wf.Timeout < 0 {
		return fmt.Errorf("workflow %s: negative timeout %s", wf.Name, wf.Timeout)
	}
	if !wf.Endpoint {
		return nil
	}
	if wf.Decode == nil {
		return fmt.Errorf("workflow %s: an endpoint needs a Decode function", wf.Name)
	}
	switch wf.Body {
	case workflow.BodyIgnored, workflow.BodyDecoded, workflow.BodyRaw:
	default:
		return fmt.Errorf("workflow %s: unknown body use %d", wf.Name, wf.Body)
	}
	if len(wf.Methods) == 0 {
		return fmt.Errorf("workflow %s: an endpoint needs at least one method", wf.Name)
	}
	for i, m := range wf.Methods {
		if m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " ,\t") {
			return fmt.Errorf("workflow %s: method %q must be an upper-case HTTP method", wf.Name, m)
		}
		for _, prev := range wf.Methods[:i] {
			if prev == m {
				return fmt.Errorf("workflow %s: method %s is listed twice", wf.Name, m)
			}
		}
	}
	return nil
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch ch := name[i]; {
		case 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9':
		case (ch == '_' || ch == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Register mounts the server's routes onto e: {METHOD} /api/endpoints/:name
// for every method (methods echo does not know included), GET /healthz,
// GET /readyz, unless Options.DisableMetrics GET /metrics and, with a
// store, the executions API and the dashboard at /ui. The endpoint handler writes its own problems, so e's
// HTTPErrorHandler is not involved in its answers.
func (s *Server) Register(e *echo.Echo) {
	e.Any(endpointPath, s.serveEndpoint, s.cors...)
	// Any covers the methods echo knows; the not-found route of the same path
	// catches the others, so they too get the workflow's 405 and Allow.
	e.RouteNotFound(endpointPath, s.serveEndpoint, s.cors...)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if s.metricsOn {
		e.GET(metricsPath, s.serveMetrics(s.MetricsHandler()))
	}
	s.registerOpenAPI(e)
	if s.engine != nil {
		e.GET("/api/executions", s.listExecutions, s.cors...)
		e.GET("/api/executions/:id", s.getExecution, s.cors...)
		e.POST("/api/executions/:id/cancel", s.cancelExecution, s.cors...)
		e.POST("/api/executions/:id/replay", s.replayExecution, s.cors...)
		s.dashboard.Register(e)
		if len(s.cors) > 0 { // the preflight of a cross-origin call
			e.OPTIONS("/api/executions", echo.MethodNotAllowedHandler, s.cors...)
			e.OPTIONS("/api/executions/:id", echo.MethodNotAllowedHandler, s.cors...)
			e.OPTIONS("/api/executions/:id/cancel", echo.MethodNotAllowedHandler, s.cors...)
			e.OPTIONS("/api/executions/:id/replay", echo.MethodNotAllowedHandler, s.cors...)
		}
	}
}

// Handler returns a new echo app with the server's routes and an error
// handler that answers echo's own errors (an unknown route: 404) as problems.
func (s *Server) Handler() http.Handler {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleEchoError
	s.Register(e)
	return e
}

var (
	healthOK    = []byte(`{"status":"ok"}`)
	healthReady = []byte(`{"status":"ready"}`)
)

// healthz answers that the process is alive. Probes are logged at debug
// level, so they do not drown the access log.
func (s *Server) healthz(c echo.Context) error {
	start := time.Now()
	err := c.JSONBlob(http.StatusOK, healthOK)
	s.logAccess(c, start, slog.LevelDebug, "", "")
	return err
}

// readyz answers that the process can serve: its store answers and its
// schema is migrated (ready.go); otherwise a 503 saying which is wrong.
func (s *Server) readyz(c echo.Context) error {
	start := time.Now()
	if s.engine != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if p := s.storeReady(ctx); p != nil {
			err := writeProblem(c, p, "")
			s.logAccess(c, start, slog.LevelWarn, "", "")
			return err
		}
	}
	err := c.JSONBlob(http.StatusOK, healthReady)
	s.logAccess(c, start, slog.LevelDebug, "", "")
	return err
}

// allowHeader lists the methods an endpoint answers: its own, HEAD beside
// GET, and OPTIONS.
func allowHeader(methods []string) string {
	var out []string
	for _, m := range methods {
		out = append(out, m)
		if m == http.MethodGet {
			out = append(out, http.MethodHead)
		}
	}
	return strings.Join(append(out, http.MethodOptions), ", ")
}
