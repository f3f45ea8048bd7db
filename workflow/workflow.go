// Package workflow is the one description of a workflow: what bifrostgen
// read from a marked function and its //bifrost:workflow directive. The
// generator fills it, the generated Workflows() carries it, the OpenAPI
// builder and the runtime read it. It knows no server and no generator: it
// imports the standard library only, so every side can depend on it.
package workflow

import "time"

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

// Verify is the verify= option: the signature scheme, the config key of its
// secret and, for hmac-sha256, the header carrying the signature.
type Verify struct {
	Kind            string // github, stripe, slack, standard, hmac-sha256
	Secret          string // config key of the secret
	SignatureHeader string // hmac-sha256 only; "" means X-Signature-256
}

// Rate is the rate= option: at most N calls per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// Spec describes one workflow.
type Spec struct {
	Name    string // route and operation name
	Package string // import path of the Go package
	Func    string // Go function name

	Summary     string // the doc comment's first sentence
	Description string // the rest of the doc comment
	Deprecated  bool   // the doc comment has a Deprecated: paragraph

	Endpoint         bool
	Methods          []string // upper case, sorted; endpoints only
	Public           bool
	DisableGlobalKey bool
	Mode             Mode
	Timeout          time.Duration
	Retries          int
	Required         []string // parameters named in required=
	Verify           *Verify
	Rate             *Rate
	Tags             []string // endpoints only: the OpenAPI tags
	Body             BodyUse
	Retain           time.Duration // how long executions are kept; 0: the server's default
	// Schedule is the schedule= option: a five-field cron expression or a
	// descriptor (@every 10m, @hourly...), optionally after CRON_TZ=Zone;
	// "" when the workflow runs on no schedule. Each tick runs it once as
	// an async execution with trigger "schedule".
	Schedule string

	// OpenAPI is the OpenAPI fragment of the workflow's package, as the
	// generator wrote it beside the generated code (bifrost_gen.openapi.json):
	// the generated operation of each endpoint workflow by name, and the
	// schemas of the package's types they refer to. Every workflow of a
	// package shares the same bytes; nil when the package has no endpoint.
	OpenAPI []byte
}

// Formats are the values of the format= constraint tag that the generated
// decoder checks (and the OpenAPI schema states).
var Formats = []string{"date", "date-time", "email", "hostname", "ipv4", "ipv6", "time", "uri", "uuid"}
