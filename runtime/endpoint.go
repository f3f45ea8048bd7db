package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/internal/execctx"
	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/jsonscan"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// exchange is one endpoint request on its way down the line. It is a single
// allocation: the request the workflow sees, its execution and the backing
// array of the execution id header live in it.
type exchange struct {
	c     echo.Context
	start time.Time
	ep    *endpoint // set by route
	id    string    // execution id, set by begin

	req      bifrost.Request
	bodyRead bool
	traced   bool // the request's context holds its span (tracing.go)
	exec     execctx.Execution
	execCtx  execctx.Context
	timeout  deadlineCtx
	capture  execctx.Capture
	in       bind.Input

	cred *auth.Credential // nil on a public endpoint

	delivery string // the sender's delivery id of a verified webhook, or ""
	answer   []byte // the body answered, kept for a delivery's retries

	// What the record of a sync execution needs, set by execute and respond.
	ran      bool
	args     bind.Args
	status   store.Status
	errText  string
	result   []byte
	began    time.Time
	ended    time.Time
	idBytes  [36]byte
	idHeader [1]string
	ctHeader [1]string
}

// serveEndpoint answers {METHOD} /api/endpoints/:name. It reads top to
// bottom, one step per line; a step that refuses the request returns the
// problem to answer.
func (s *Server) serveEndpoint(c echo.Context) error {
	x := &exchange{c: c, start: time.Now()}
	defer s.finish(x)
	if s.tracing != nil {
		s.tracing.startRequest(x)
	}

	if x.c.Request().Method == http.MethodOptions {
		if p := s.route(x); p != nil && p.Status == http.StatusNotFound {
			return s.fail(x, p)
		}
		return s.options(x)
	}
	if p := s.route(x); p != nil {
		return s.fail(x, p)
	}
	if p := s.begin(x); p != nil {
		return s.fail(x, p)
	}
	if p := s.verify(x); p != nil { // reads the body: a 413 comes before a 401
		return s.fail(x, p)
	}
	if p := s.authenticate(x); p != nil {
		return s.fail(x, p)
	}
	if p := s.rateLimit(x); p != nil {
		return s.fail(x, p)
	}
	if p := s.readBody(x); p != nil {
		return s.fail(x, p)
	}
	x.delivery = deliveryID(x)
	if x.ep.wf.Mode != workflow.Async {
		if answered, err := s.replayDelivery(x); answered {
			return err
		}
	}
	in, p := s.input(x)
	if p != nil {
		return s.fail(x, p)
	}
	args, p := s.decode(x, in)
	if p != nil {
		return s.fail(x, p)
	}
	if x.ep.wf.Mode == workflow.Async {
		return s.accept(x, args)
	}
	res, p := s.execute(x, args)
	if p != nil {
		return s.fail(x, p)
	}
	return s.respond(x, res)
}

// fail answers p as a problem, with the execution id once there is one.
func (s *Server) fail(x *exchange, p *bifrost.Error) error {
	return writeProblem(x.c, p, x.id)
}

// finish ends every endpoint request: it turns a panic outside the workflow
// (a decoder's, the runtime's own) into a 500 and writes the access line.
func (s *Server) finish(x *exchange) {
	v := recover()
	if v != nil && v != http.ErrAbortHandler {
		s.log.LogAttrs(context.Background(), slog.LevelError, "request panicked",
			slog.String("workflow", x.workflowName()), slog.String("execution_id", x.id),
			slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
		if !x.c.Response().Committed {
			_ = s.fail(x, newProblem(http.StatusInternalServerError, failedDetail(x.id)))
		}
	}
	s.logAccess(x.c, x.start, slog.LevelInfo, x.workflowName(), x.id)
	s.metrics.request(x).observe(x.c.Request().Method, x.c.Response().Status, time.Since(x.start))
	if x.ran {
		x.ep.metrics.end(x.status, x.ended.Sub(x.began))
	}
	if x.traced {
		s.tracing.endRequest(x)
	}
	if x.delivery != "" && x.ep.wf.Mode != workflow.Async {
		w := x.c.Response()
		status := w.Status
		if !w.Committed { // nothing was answered (an aborted request): nothing to give again
			status = 0
		}
		s.deliveries.settle(x.delivery, status, w.Header().Get("Content-Type"), x.answer, x.id)
	}
	if x.ran && s.engine != nil {
		s.engine.record(context.Background(), x.record(s.redact, s.storeLimit))
	}
	if v == http.ErrAbortHandler {
		panic(v) // net/http's way to abort the answer: pass it on
	}
}

func (x *exchange) workflowName() string {
	if x.ep == nil {
		return ""
	}
	return x.ep.wf.Name
}

// failedDetail is what the caller learns of an error the workflow did not
// choose to show: where to look.
func failedDetail(id string) string {
	if id == "" {
		return "the request failed"
	}
	return "the workflow failed; execution " + id + " has the details"
}

// route finds the endpoint workflow named by the path and checks the method.
func (s *Server) route(x *exchange) *bifrost.Error {
	name := x.c.Param("name")
	if name == "" {
		// A method echo does not know reaches us through the route's not-found
		// handler, without the parameter.
		name = strings.TrimPrefix(x.c.Request().URL.Path, endpointPrefix)
	}
	ep := s.endpoints[name]
	if ep == nil {
		return newProblem(http.StatusNotFound, "no workflow endpoint is named "+strconv.Quote(name))
	}
	x.ep = ep
	method := x.c.Request().Method
	if method == http.MethodHead && ep.get { // a GET without its body: net/http writes none
		method = http.MethodGet
	}
	for _, m := range ep.wf.Methods {
		if m == method {
			return nil
		}
	}
	x.c.Response().Header().Set(echo.HeaderAllow, ep.allow)
	return newProblem(http.StatusMethodNotAllowed, "workflow "+name+" accepts "+ep.allow)
}

// options answers OPTIONS on an endpoint: 204 with the methods it accepts.
// A CORS preflight from an allowed origin is answered before, by echo's
// CORS middleware (Options.CORSOrigins).
func (s *Server) options(x *exchange) error {
	x.c.Response().Header().Set(echo.HeaderAllow, x.ep.allow)
	return x.c.NoContent(http.StatusNoContent)
}

// begin starts the execution: a UUIDv7 id, on the answer from here on.
func (s *Server) begin(x *exchange) *bifrost.Error {
	u, err := newV7(time.Now())
	if err != nil { // only when the system's random source fails
		s.log.LogAttrs(context.Background(), slog.LevelError, "no execution id", slog.String("error", err.Error()))
		return newProblem(http.StatusInternalServerError, failedDetail(""))
	}
	x.id = x.idString(u)
	x.idHeader[0] = x.id
	x.c.Response().Header()[HeaderExecutionID] = x.idHeader[:]
	return nil
}

// idString formats u into the exchange's own array and returns it as a
// string without a copy: the id costs no allocation of its own. The array is
// written once, here, and never again, so the string stays immutable; it
// keeps the exchange alive as long as it is referenced.
func (x *exchange) idString(u [16]byte) string {
	encodeID(&x.idBytes, u)
	return unsafe.String(&x.idBytes[0], len(x.idBytes))
}

// readBody reads the body, at most the body limit, into x.req.Body and
// builds the rest of the request the workflow sees. It reads once; a second
// call (verify, then decode) is free.
func (s *Server) readBody(x *exchange) *bifrost.Error {
	if x.bodyRead {
		return nil
	}
	x.bodyRead = true
	r := x.c.Request()
	body, err := readLimited(r.Body, r.ContentLength, s.bodyLimit)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return newProblem(http.StatusRequestEntityTooLarge, s.tooLarge)
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok { // a limit of the app mounting us
			return newProblem(http.StatusRequestEntityTooLarge, "the body is too large")
		}
		return newProblem(http.StatusBadRequest, "the body could not be read")
	}
	var query url.Values // nil without a query string: reading it works, and costs no map
	if r.URL.RawQuery != "" {
		// Not echo's QueryParams: it drops a malformed query string silently,
		// and the workflow would run as if the caller had sent nothing.
		var err error
		if query, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return malformedQuery(err)
		}
	}
	x.req = bifrost.Request{
		Method:     r.Method,
		URL:        r.URL,
		Header:     r.Header,
		Query:      query,
		RemoteAddr: peerHost(r.RemoteAddr),
		Body:       body,
	}
	return nil
}

var errTooLarge = errors.New("body too large")

// readLimited reads body whole. With a known length it reads into one buffer
// of that size; without, into a growing one. More than limit bytes is
// errTooLarge, detected without reading more than limit+1.
func readLimited(body io.Reader, length, limit int64) ([]byte, error) {
	if body == nil || body == http.NoBody || length == 0 {
		return nil, nil
	}
	if length > limit {
		return nil, errTooLarge
	}
	if length > 0 {
		buf := make([]byte, length)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	buf := make([]byte, 0, min(512, limit+1))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := min(int64(cap(buf)-len(buf)), limit+1-int64(len(buf)))
		n, err := body.Read(buf[len(buf) : len(buf)+int(room)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errTooLarge
		}
		if err == io.EOF {
			if len(buf) == 0 {
				return nil, nil
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// peerHost is the host of the TCP peer. Forwarding headers are not trusted:
// the app mounting us may rewrite RemoteAddr with a trusted-proxy middleware.
func peerHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// input classifies the body and refuses a content type the workflow cannot
// decode: a decoded body must be JSON or a form; a raw body may be anything;
// an ignored body is not looked at.
func (s *Server) input(x *exchange) (*bind.Input, *bifrost.Error) {
	in := &x.in
	if err := in.Reset(&x.req, x.ep.wf.Body == workflow.BodyDecoded); err != nil {
		return nil, asProblem(err, http.StatusBadRequest)
	}
	if in.Kind == bind.JSONBody && jsonscan.DeeperThan(in.Body(), s.maxDepth) {
		return nil, s.tooDeep
	}
	if x.ep.wf.Body == workflow.BodyDecoded && in.Kind == bind.OtherBody {
		return nil, newProblem(http.StatusUnsupportedMediaType,
			"the body must be application/json, application/*+json or application/x-www-form-urlencoded")
	}
	return in, nil
}

// decode reads the workflow's arguments. Its *bifrost.Error (400 naming each
// bad field) is answered as is; any other error is a 400 with its message.
func (s *Server) decode(x *exchange, in *bind.Input) (bind.Args, *bifrost.Error) {
	args, err := x.ep.wf.Decode(in)
	if err != nil {
		return nil, asProblem(err, http.StatusBadRequest)
	}
	return args, nil
}

// asProblem returns err's *bifrost.Error, with status fallback when it has
// none, or a fallback problem showing err's message.
func asProblem(err error, fallback int) *bifrost.Error {
	be, ok := errors.AsType[*bifrost.Error](err)
	if !ok {
		return newProblem(fallback, err.Error())
	}
	if status := problemStatus(be.Status, fallback); status != be.Status {
		cp := *be
		cp.Status, cp.Title = status, ""
		be = &cp
	}
	return be
}

// execute runs the workflow in the request, under its timeout, with recovery.
// Workflows must honour ctx, as net/http handlers must: the answer waits for
// Invoke to return, and a deadline passed by then is a 504 whatever the
// result.
//
// An async workflow runs here too, as if sync, until the durable queue
// exists: then serveEndpoint stores its args and answers 202 in place of
// this step for wf.Mode == workflow.Async.
func (s *Server) execute(x *exchange, args bind.Args) (bind.Result, *bifrost.Error) {
	wf := x.ep.wf
	ctx := x.c.Request().Context()
	if wf.Timeout > 0 {
		x.timeout.init(ctx, wf.Timeout)
		ctx = &x.timeout
		defer x.timeout.release()
	}
	x.exec.ID, x.exec.Workflow, x.exec.Base, x.exec.Client = x.id, wf.Name, s.log, s
	if s.engine != nil {
		x.capture.Limit = s.storeLimit
		x.exec.Capture = &x.capture
		x.exec.Config = s.config
		x.exec.KeepSteps = true // its durable steps, recorded with it
	}
	x.execCtx = execctx.Context{Context: ctx, Exec: &x.exec}
	ctx = &x.execCtx

	x.ran, x.args, x.began = true, args, time.Now()
	res, err := invoke(ctx, args)
	x.ended = time.Now()
	x.status = store.Succeeded
	if err != nil {
		x.status, x.errText = store.Failed, errorText(err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		x.status, x.errText = store.TimedOut, x.ep.timedOut
		attrs := []slog.Attr{slog.String("workflow", wf.Name), slog.String("execution_id", x.id),
			slog.Duration("timeout", wf.Timeout)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "workflow timed out", attrs...)
		return bind.Result{}, newProblem(http.StatusGatewayTimeout, x.ep.timedOut)
	}
	if err == nil {
		return res, nil
	}
	if errors.Is(err, context.Canceled) && x.c.Request().Context().Err() != nil {
		x.status, x.errText = store.Cancelled, "the caller went away"
		s.log.LogAttrs(ctx, slog.LevelWarn, "the caller went away",
			slog.String("workflow", wf.Name), slog.String("execution_id", x.id))
		return bind.Result{}, &bifrost.Error{Status: statusClientClosedRequest, Title: "Client Closed Request"}
	}
	if pe, ok := err.(*panicError); ok {
		s.log.LogAttrs(ctx, slog.LevelError, "workflow panicked",
			slog.String("workflow", wf.Name), slog.String("execution_id", x.id),
			slog.String("panic", execctx.MaskText(panicMessage(pe.value), x.exec.Secrets())), slog.String("stack", string(pe.stack)))
		return bind.Result{}, newProblem(http.StatusInternalServerError, failedDetail(x.id))
	}
	if be, ok := errors.AsType[*bifrost.Error](err); ok {
		return bind.Result{}, be // its status, title, detail and errors are for the caller
	}
	s.log.LogAttrs(ctx, slog.LevelError, "workflow failed",
		slog.String("workflow", wf.Name), slog.String("execution_id", x.id), slog.String("error", execctx.MaskText(err.Error(), x.exec.Secrets())))
	return bind.Result{}, newProblem(http.StatusInternalServerError, failedDetail(x.id))
}

// record is the execution record of a sync run, made after the answer.
func (x *exchange) record(redact redactor, limit int) *store.Execution {
	e := &store.Execution{
		ID: x.id, Workflow: x.ep.wf.Name, Mode: string(workflow.Sync), Status: x.status, Attempt: 1, Credential: x.credentialID(),
		Error: x.errText, Result: x.result, Logs: capturedLogs(&x.capture),
		CreatedAt: x.start, StartedAt: x.began, FinishedAt: x.ended, TraceParent: x.traceParent(),
	}
	if input, err := json.Marshal(x.args); err == nil {
		e.Input = capJSON(redact.input(input), limit)
	}
	mask(e, x.exec.Secrets())
	if j := x.exec.Steps; j != nil {
		e.Steps = syncSteps(x.id, j, x.exec.Secrets())
	}
	e.Result = capJSON(e.Result, limit) // after masking: a cut must not leave half a secret
	return e
}

// statusClientClosedRequest is the status logged when the caller hung up
// before the workflow finished (nginx's 499); nobody reads the answer.
const statusClientClosedRequest = 499

// panicError is a panic of a workflow, recovered.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return "workflow panicked" }

// invoke calls the workflow, turning a panic into a *panicError.
func invoke(ctx context.Context, args bind.Args) (res bind.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = bind.Result{}, &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return args.Invoke(ctx)
}

// malformedQuery is the 400 of a query string that is not valid
// percent-encoding (%zz) or uses ';' as a separator.
func malformedQuery(err error) *bifrost.Error {
	p := newProblem(http.StatusBadRequest, "the query string is malformed")
	p.Errors = []bifrost.FieldError{{Location: "query", Message: err.Error()}}
	return p
}
