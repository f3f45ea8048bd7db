package runtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
)

// respond writes the workflow's result: its own response when it built one,
// nothing for 204, else its value as JSON with its status (200 when zero).
func (s *Server) respond(x *exchange, res bind.Result) error {
	if res.Response != nil {
		return s.respondRaw(x, res.Status, res.Response)
	}
	status := res.Status
	if status == 0 {
		status = http.StatusOK
	}
	if p := s.checkStatus(x, status); p != nil {
		return s.fail(x, p)
	}
	w := x.c.Response()
	if !bodyAllowed(status) {
		w.WriteHeader(status)
		return nil
	}
	body, err := json.Marshal(res.Value)
	if err != nil {
		x.status, x.errText = store.Failed, cleanText("the result is not JSON: "+err.Error())
		s.log.LogAttrs(context.Background(), slog.LevelError, "workflow result is not JSON",
			slog.String("workflow", x.ep.wf.Name), slog.String("execution_id", x.id), slog.String("error", err.Error()))
		return s.fail(x, newProblem(http.StatusInternalServerError, failedDetail(x.id)))
	}
	x.ctHeader[0] = mimeJSON
	w.Header()["Content-Type"] = x.ctHeader[:]
	w.WriteHeader(status)
	x.result, x.answer = body, body // the record keeps the bytes the caller got
	_, err = w.Write(body)
	return err
}

const mimeJSON = "application/json"

// respondRaw writes a *bifrost.Response: its headers (copied; the execution
// id header stays the runtime's), its content type (application/octet-stream
// for a body without one), status and body.
func (s *Server) respondRaw(x *exchange, status int, r *bifrost.Response) error {
	if status == 0 {
		status = r.Status
	}
	if status == 0 {
		status = http.StatusOK
	}
	if p := s.checkStatus(x, status); p != nil {
		return s.fail(x, p)
	}
	w := x.c.Response()
	h := w.Header()
	for k, vs := range r.Header {
		k = http.CanonicalHeaderKey(k)
		if k == HeaderExecutionID {
			continue
		}
		h[k] = append([]string(nil), vs...)
	}
	switch {
	case !bodyAllowed(status):
	case r.ContentType != "":
		h.Set("Content-Type", r.ContentType)
	case len(r.Body) > 0 && h.Get("Content-Type") == "":
		h.Set("Content-Type", "application/octet-stream")
	}
	w.WriteHeader(status)
	if s.engine != nil {
		x.result, _ = marshalResult(bind.Result{Status: status, Response: r})
	}
	if !bodyAllowed(status) || len(r.Body) == 0 {
		return nil
	}
	x.answer = r.Body
	_, err := w.Write(r.Body)
	return err
}

// checkStatus refuses a status a result cannot have: informational ones and
// numbers outside HTTP's range are a bug of the workflow, answered as 500.
func (s *Server) checkStatus(x *exchange, status int) *bifrost.Error {
	if status >= 200 && status <= 599 {
		return nil
	}
	s.log.LogAttrs(context.Background(), slog.LevelError, "workflow answered an invalid status",
		slog.String("workflow", x.ep.wf.Name), slog.String("execution_id", x.id), slog.Int("status", status))
	return newProblem(http.StatusInternalServerError, failedDetail(x.id))
}

// bodyAllowed reports whether an answer with status may carry a body.
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}
