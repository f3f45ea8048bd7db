package runtime

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost"
)

// ContentTypeProblem is the media type of every error answer (RFC 9457).
const ContentTypeProblem = "application/problem+json"

// problem is the RFC 9457 body of an error answer.
type problem struct {
	Type        string               `json:"type"`
	Title       string               `json:"title"`
	Status      int                  `json:"status"`
	Detail      string               `json:"detail,omitempty"`
	Instance    string               `json:"instance,omitempty"`
	ExecutionID string               `json:"execution_id,omitempty"`
	Errors      []bifrost.FieldError `json:"errors,omitempty"`
}

// newProblem is the *bifrost.Error a runtime step answers with: status, the
// status text as title, and detail.
func newProblem(status int, detail string) *bifrost.Error {
	return &bifrost.Error{Status: status, Title: http.StatusText(status), Detail: detail}
}

// writeProblem answers e as application/problem+json. Every error answer of
// the runtime goes through it. The title defaults to the status text; the
// instance is the request path; executionID is left out when empty. Headers a
// step set before (Allow, WWW-Authenticate, Retry-After,
// X-Bifrost-Execution-Id) are kept.
func writeProblem(c echo.Context, e *bifrost.Error, executionID string) error {
	status := problemStatus(e.Status, http.StatusInternalServerError)
	title := e.Title
	if title == "" {
		title = http.StatusText(status)
	}
	body, err := json.Marshal(problem{
		Type:        "about:blank",
		Title:       title,
		Status:      status,
		Detail:      e.Detail,
		Instance:    c.Request().URL.Path,
		ExecutionID: executionID,
		Errors:      e.Errors,
	})
	if err != nil { // only strings and ints: cannot happen
		return err
	}
	return c.Blob(status, ContentTypeProblem, body)
}

// problemStatus returns status when it is an error status (4xx or 5xx), else
// fallback: an *bifrost.Error with no or a nonsensical status must still
// answer as an error.
func problemStatus(status, fallback int) int {
	if status >= 400 && status <= 599 {
		return status
	}
	return fallback
}

// handleEchoError is the HTTPErrorHandler of the standalone Handler: echo's
// own errors (no route: 404, a method the route lacks: 405 with Allow) and
// anything a user middleware returns become problems too.
func (s *Server) handleEchoError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var p *bifrost.Error
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		if inner, ok := he.Internal.(*echo.HTTPError); ok {
			he = inner
		}
		status := problemStatus(he.Code, http.StatusInternalServerError)
		p = newProblem(status, "")
		if msg, ok := he.Message.(string); ok && msg != http.StatusText(status) {
			p.Detail = msg
		}
	} else if be, ok := errors.AsType[*bifrost.Error](err); ok {
		p = be
	} else {
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
			slog.String("method", c.Request().Method), slog.String("path", c.Request().URL.Path),
			slog.String("error", err.Error()))
		p = newProblem(http.StatusInternalServerError, "the request failed")
	}
	if werr := writeProblem(c, p, ""); werr != nil {
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, "writing a problem failed", slog.String("error", werr.Error()))
	}
	s.logAccess(c, time.Time{}, slog.LevelInfo, "", "")
}

func fieldError(location, message string) bifrost.FieldError {
	return bifrost.FieldError{Location: location, Message: message}
}
