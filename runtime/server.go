package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// DefaultBodyLimit is the largest request body accepted when
// Options.BodyLimit is zero: 10 MiB.
const DefaultBodyLimit = 10 << 20

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
}

// Server serves workflows over HTTP. It holds no per-request state and is
// safe for concurrent use.
type Server struct {
	log       *slog.Logger
	bodyLimit int64
	workflows []*Workflow          // every workflow, in the order given
	endpoints map[string]*endpoint // endpoint workflows by name

	tooLarge string // the 413 detail
}

// endpoint is an endpoint workflow with what its requests need precomputed.
type endpoint struct {
	wf       *Workflow
	allow    string // the Allow header of a 405: "GET, POST"
	timedOut string // the 504 detail
}

// New checks the workflows and returns a server for them. It refuses a nil
// workflow, an invalid or repeated name, and an endpoint workflow without
// Decode or methods.
func New(opts Options) (*Server, error) {
	s := &Server{
		log:       opts.Logger,
		bodyLimit: opts.BodyLimit,
		endpoints: make(map[string]*endpoint),
	}
	if s.log == nil {
		s.log = defaultLogger()
	}
	switch {
	case s.bodyLimit == 0:
		s.bodyLimit = DefaultBodyLimit
	case s.bodyLimit < 0:
		return nil, fmt.Errorf("body limit %d: must not be negative", opts.BodyLimit)
	}
	s.tooLarge = "the body is larger than the limit of " + strconv.FormatInt(s.bodyLimit, 10) + " bytes"

	seen := make(map[string]bool, len(opts.Workflows))
	var errs []error
	for i, wf := range opts.Workflows {
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
		s.workflows = append(s.workflows, wf)
		if wf.Endpoint {
			s.endpoints[wf.Name] = &endpoint{
				wf:       wf,
				allow:    strings.Join(wf.Methods, ", "),
				timedOut: "the workflow did not finish within its timeout of " + wf.Timeout.String(),
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// checkWorkflow reports what makes wf unusable by the runtime. The generator
// never produces such a value; a hand-written one might.
func checkWorkflow(wf *Workflow) error {
	if !validName(wf.Name) {
		return fmt.Errorf("workflow %q: the name must match [a-z0-9][a-z0-9_-]*", wf.Name)
	}
	switch wf.Mode {
	case "", Sync, Async:
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
	case BodyIgnored, BodyDecoded, BodyRaw:
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
// for every method (methods echo does not know included), GET /healthz and
// GET /readyz. The endpoint handler writes its own problems, so e's
// HTTPErrorHandler is not involved in its answers.
func (s *Server) Register(e *echo.Echo) {
	e.Any(endpointPath, s.serveEndpoint)
	// Any covers the methods echo knows; the not-found route of the same path
	// catches the others, so they too get the workflow's 405 and Allow.
	e.RouteNotFound(endpointPath, s.serveEndpoint)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
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

// readyz answers that the process can serve. The store check joins here when
// there is a store.
func (s *Server) readyz(c echo.Context) error {
	start := time.Now()
	err := c.JSONBlob(http.StatusOK, healthReady)
	s.logAccess(c, start, slog.LevelDebug, "", "")
	return err
}
