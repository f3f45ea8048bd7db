package runtime

import (
	"context"
	"net/http"
	"time"

	"github.com/bifrost-go/bifrost"
)

// Mode says how an endpoint runs its workflow.
type Mode string

const (
	// Sync runs the workflow in the request and answers with its result.
	Sync Mode = "sync"
	// Async answers 202 with an execution id and runs the workflow durably.
	Async Mode = "async"
)

// BodyUse says how a workflow reads the request body, so the runtime knows
// which content types it may accept.
type BodyUse int

const (
	// BodyIgnored: no parameter reads the body.
	BodyIgnored BodyUse = iota
	// BodyDecoded: the body is decoded as JSON or a form; any other content
	// type is refused with 415.
	BodyDecoded
	// BodyRaw: a parameter takes the raw bytes ([]byte, json.RawMessage or
	// *bifrost.Request), so any content type is accepted.
	BodyRaw
)

// Verify is a workflow's verify= option: the signature scheme, the config key
// of its secret and, for hmac-sha256, the header carrying the signature.
type Verify struct {
	Kind            string
	Secret          string
	SignatureHeader string
}

// Rate is a workflow's rate= option: at most N calls per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// Workflow describes one workflow to the runtime. bifrostgen generates one per
// marked function, returned by the package's Workflows().
type Workflow struct {
	Name    string // route and operation name
	Package string // import path of the Go package
	Func    string // Go function name

	Summary     string
	Description string
	Deprecated  bool

	Endpoint         bool
	Methods          []string // upper case, sorted
	Public           bool
	DisableGlobalKey bool
	Mode             Mode
	Timeout          time.Duration
	Retries          int
	Required         []string // parameters named in required=
	Verify           *Verify
	Rate             *Rate
	Tags             []string
	Body             BodyUse

	// Operation is the workflow's OpenAPI operation object as JSON.
	Operation string
	// Schemas are the JSON schemas of the Go types Operation refers to
	// ({"$ref":"<type>"}), by type; package openapi names them.
	Schemas map[string]string

	// Decode reads the workflow's inputs from a request. Its error is an
	// *bifrost.Error (400 naming every bad field, or 415).
	Decode func(in *Input) (Args, error)
	// NewArgs returns an empty args value, for decoding stored async inputs.
	NewArgs func() Args
}

// Args are one workflow's decoded inputs. The generated type is JSON-tagged so
// an async execution can store them and a worker run them later.
type Args interface {
	// Invoke calls the workflow function with these inputs.
	Invoke(ctx context.Context) (Result, error)
}

// Result is what a workflow answered, before it is written.
type Result struct {
	Status   int
	Value    any               // the JSON body, unless Response is set or Status is 204
	Response *bifrost.Response // full control, from a (*bifrost.Response, error) workflow
}

// JSON is a result answered as JSON with the given status.
func JSON(status int, v any) Result { return Result{Status: status, Value: v} }

// NoContent is the result of a workflow that returns only an error.
func NoContent() Result { return Result{Status: http.StatusNoContent} }

// Raw is the result of a workflow that builds its own response. A nil
// response answers 204.
func Raw(r *bifrost.Response) Result {
	if r == nil {
		return NoContent()
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	return Result{Status: status, Response: r}
}
