// Package bifrost holds the few types that workflow code touches: the raw
// request, headers, a full-control response, problem errors, the
// execution's logger and id, and Step, which records a unit of work on the
// execution so that a retry or a re-run after a crash does not do it again
// (docs/durable.md).
//
// A workflow is a plain Go function marked with a //bifrost:workflow
// directive; bifrostgen generates its HTTP binding. See the README.
package bifrost

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/bifrost-go/bifrost/internal/execctx"
)

// Request is the incoming HTTP request as a workflow sees it.
type Request struct {
	Method     string      `json:"method"`
	URL        *url.URL    `json:"-"`
	Header     http.Header `json:"header,omitempty"`
	Query      url.Values  `json:"query,omitempty"`
	RemoteAddr string      `json:"remote_addr,omitempty"`
	// Body is the raw bytes as received, before any decoding: verify
	// signatures over these, never over a re-serialised payload.
	Body []byte `json:"body,omitempty"`
}

// Headers are the request headers. A workflow parameter of this type (or of
// http.Header) receives them.
type Headers = http.Header

// Response gives a workflow full control of its HTTP answer.
type Response struct {
	Status      int // 200 when zero
	Header      http.Header
	ContentType string
	Body        []byte
}

// FieldError is one invalid input, located as "body.items[2].name" or
// "query.limit".
type FieldError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
}

// Error is an error with an HTTP status. The runtime answers it as an RFC 9457
// problem: its Title, Detail and Errors are shown to the caller.
type Error struct {
	Status int
	Title  string
	Detail string
	Errors []FieldError
}

// Errorf returns an *Error with the given status, Title set to the status
// text and Detail to the formatted message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Title: http.StatusText(status), Detail: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%d %s", e.Status, e.Title)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail)
}

// Logger returns the logger of the execution running in ctx: it writes to the
// process log, tagged with the workflow and execution id. Outside an
// execution (in a unit test) it returns slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if e := execctx.From(ctx); e != nil {
		return e.Logger()
	}
	return slog.Default()
}

// ExecutionID returns the id of the execution running in ctx, or "" outside one.
func ExecutionID(ctx context.Context) string {
	if e := execctx.From(ctx); e != nil {
		return e.ID
	}
	return ""
}
