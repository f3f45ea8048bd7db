// Package openapi builds the OpenAPI document of a set of workflows. It is
// the one builder that both bifrostgen (generate --openapi, openapi) and the
// runtime (GET /api/openapi.json) use, from the same inputs, so that both
// write the very same bytes for the same workflows.
//
// Each workflow brings its operation as JSON (its parameters, request body
// and result responses: what its Go types say) and the schemas of the named
// Go types that operation refers to. A reference to such a type is
// {"$ref":"<type>"}, the type written as types.TypeString writes it
// ("example.com/shop.Order", "example.com/shop.Page[example.com/shop.Item]").
// The builder adds what the HTTP contract says (operation ids, security,
// signature headers, 202 for async, problem responses), the executions API,
// and names the components: the Go type name ("Order", "PageItem"),
// qualified by its package only where two would collide. Every choice
// depends on the set of workflows only, never on their order.
package openapi

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Version is the OpenAPI version of a document.
type Version string

const (
	// V31 is OpenAPI 3.1.0, the default.
	V31 Version = "3.1"
	// V30 is OpenAPI 3.0.3, for older consumers.
	V30 Version = "3.0"
)

// ParseVersion reads "3.1", "3.1.0", "3.0" or "3.0.3".
func ParseVersion(s string) (Version, error) {
	switch s {
	case "", "3.1", "3.1.0":
		return V31, nil
	case "3.0", "3.0.3":
		return V30, nil
	}
	return "", fmt.Errorf("openapi: unknown version %q (valid: 3.1, 3.0)", s)
}

// Format is the encoding of a document.
type Format string

// The formats of a document.
const (
	JSON Format = "json"
	YAML Format = "yaml"
)

// ParseFormat reads "json" or "yaml" ("yml" too).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "json":
		return JSON, nil
	case "yaml", "yml":
		return YAML, nil
	}
	return "", fmt.Errorf("openapi: unknown format %q (valid: json, yaml)", s)
}

// Workflow is what the document needs to know of one workflow.
type Workflow struct {
	Name        string
	Package     string // import path of the Go package
	Func        string // Go function name
	Summary     string
	Description string
	Deprecated  bool

	Endpoint        bool
	Methods         []string // upper case
	Public          bool
	Async           bool
	Verify          string // signature scheme of verify=, or ""
	SignatureHeader string // verify=hmac-sha256: the header; "" is X-Signature-256
	RateLimited     bool
	Tags            []string
	BodyDecoded     bool // the body must be JSON or a form (else 415)

	// Operation is the operation object as JSON: parameters, requestBody
	// and the responses of the result. Empty: none of those.
	Operation string
	// Schemas are the schemas of the Go types Operation refers to, by type.
	Schemas map[string]string
}

// Title and version of every document's info object.
const (
	Title      = "Bifrost API"
	APIVersion = "1.0.0"
)

// Document builds the document of the workflows and encodes it.
func Document(workflows []Workflow, version Version, format Format) ([]byte, error) {
	doc, err := Build(workflows, version)
	if err != nil {
		return nil, err
	}
	if format == YAML {
		return MarshalYAML(doc)
	}
	return MarshalJSON(doc)
}

// Build returns the document of the workflows. Workflows without an
// endpoint have no operation; their executions are still in the
// executions API the document describes.
func Build(workflows []Workflow, version Version) (*Object, error) {
	if version != V31 && version != V30 {
		return nil, fmt.Errorf("openapi: unknown version %q", version)
	}
	sorted := slices.Clone(workflows)
	slices.SortFunc(sorted, func(a, b Workflow) int { return cmp.Compare(a.Name, b.Name) })

	b := &builder{schemas: map[string]string{}}
	b.mergeSchemas(sorted)
	paths := map[string]*Object{}
	tags := map[string]bool{}
	anyPublic := false
	var errs []error
	for _, wf := range sorted {
		if !wf.Endpoint {
			continue
		}
		item, err := b.pathItem(wf)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		paths["/api/endpoints/"+wf.Name] = item
		for _, t := range wf.Tags {
			tags[t] = true
		}
		anyPublic = anyPublic || wf.Public
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for path, item := range executionPaths(anyPublic) {
		paths[path] = item
	}
	tags[executionsTag] = true

	components, err := b.components(paths)
	if err != nil {
		return nil, err
	}

	doc := NewObject(
		"openapi", "3.1.0",
		"info", NewObject("title", Title, "version", APIVersion,
			"description", "Workflows served by Bifrost: each endpoint workflow at /api/endpoints/{name}, and the executions API."),
		"servers", []any{NewObject("url", "/", "description", "this server")},
		"security", authSecurity(false),
		"tags", tagList(tags),
		"paths", sortedObject(paths),
		"components", components,
	)
	if version == V30 {
		downgrade(doc)
	}
	return doc, nil
}

// builder holds what one Build shares between workflows.
type builder struct {
	schemas map[string]string // every schema a workflow brought, by type
}

// mergeSchemas collects the schemas of every workflow. Two packages may
// carry the same type (both use it); should they disagree (one generated
// before the type changed), the defining package's description wins, then
// the smaller text, so that the choice depends only on the set.
func (b *builder) mergeSchemas(workflows []Workflow) {
	type candidate struct {
		text  string
		owner bool // brought by the package that defines the type
	}
	chosen := map[string]candidate{}
	for _, wf := range workflows {
		for id, text := range wf.Schemas {
			c := candidate{text: text, owner: typePackage(id) == wf.Package}
			prev, ok := chosen[id]
			switch {
			case !ok, c.owner && !prev.owner, c.owner == prev.owner && c.text < prev.text:
				chosen[id] = c
			}
		}
	}
	for id, c := range chosen {
		b.schemas[id] = c.text
	}
}

// methodOrder is the order of operations in a path item.
var methodOrder = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

// pathItem is the path item of an endpoint workflow: one operation per method.
func (b *builder) pathItem(wf Workflow) (*Object, error) {
	generated := &Object{}
	if strings.TrimSpace(wf.Operation) != "" {
		v, err := Parse([]byte(wf.Operation))
		if err != nil {
			return nil, fmt.Errorf("workflow %s: operation: %w", wf.Name, err)
		}
		obj, ok := v.(*Object)
		if !ok {
			return nil, fmt.Errorf("workflow %s: the operation is not a JSON object", wf.Name)
		}
		generated = obj
	}
	methods := slices.Clone(wf.Methods)
	slices.SortFunc(methods, func(a, b string) int {
		return cmp.Compare(methodIndex(a), methodIndex(b))
	})
	item := &Object{}
	for _, m := range methods {
		item.Set(strings.ToLower(m), operation(wf, m, len(methods) > 1, clone(generated).(*Object)))
	}
	return item, nil
}

func methodIndex(m string) int {
	if i := slices.Index(methodOrder, m); i >= 0 {
		return i
	}
	return len(methodOrder)
}

// operation is the operation of wf for one method: the generated parts
// (gen) in the place the HTTP contract gives them.
func operation(wf Workflow, method string, several bool, gen *Object) *Object {
	op := &Object{}
	if len(wf.Tags) > 0 {
		op.Set("tags", strings_(wf.Tags))
	}
	op.Set("summary", cmp.Or(wf.Summary, wf.Func, wf.Name))
	if wf.Description != "" {
		op.Set("description", wf.Description)
	}
	id := wf.Name
	if several {
		id += "_" + strings.ToLower(method)
	}
	op.Set("operationId", id)
	if wf.Deprecated {
		op.Set("deprecated", true)
	}
	if wf.Public {
		op.Set("security", []any{})
	} else {
		op.Set("security", authSecurity(false))
	}

	var params []any
	if v, ok := gen.Get("parameters"); ok {
		params, _ = v.([]any)
	}
	params = append(params, signatureParameters(wf)...)
	if wf.Async {
		params = append(params, NewObject("$ref", "#/components/parameters/IdempotencyKey"))
	}
	if len(params) > 0 {
		op.Set("parameters", params)
	}
	body := gen.Object("requestBody")
	if method == "GET" || method == "HEAD" {
		body = nil // a body on GET is not for clients to send
	}
	if body != nil {
		op.Set("requestBody", body)
	}
	op.Set("responses", responses(wf, gen.Object("responses"), len(params) > 0 || body != nil, body != nil))
	for _, key := range gen.Keys() { // anything else generated (x- extensions)
		switch key {
		case "parameters", "requestBody", "responses":
		default:
			v, _ := gen.Get(key)
			op.Set(key, v)
		}
	}
	return op
}

// responses are the operation's answers: the result's (generated), 202 for
// async, and each problem the runtime may answer with on this operation.
func responses(wf Workflow, gen *Object, inputs, body bool) *Object {
	out := map[string]any{}
	if wf.Async {
		out["202"] = NewObject("$ref", "#/components/responses/Accepted")
	} else if gen != nil {
		for _, code := range gen.Keys() {
			v, _ := gen.Get(code)
			if r, ok := v.(*Object); ok && !r.Has("$ref") {
				r = withExecutionID(r)
				if code == "default" {
					if content := r.Object("content"); content != nil && !content.Has(ProblemMediaType) {
						content.Set(ProblemMediaType, NewObject("schema", NewObject("$ref", schemaRef+"Problem")))
					}
				}
				v = r
			}
			out[code] = v
		}
	}
	problem := func(code, name string) { out[code] = NewObject("$ref", "#/components/responses/"+name) }
	if inputs || wf.Async {
		problem("400", "BadRequest")
	}
	if !wf.Public || wf.Verify != "" {
		problem("401", "Unauthorized")
	}
	if !wf.Public {
		problem("403", "Forbidden")
	}
	if body || wf.Verify != "" {
		problem("413", "ContentTooLarge")
	}
	if body && wf.BodyDecoded {
		problem("415", "UnsupportedMediaType")
	}
	if wf.RateLimited {
		problem("429", "TooManyRequests")
	}
	problem("500", "InternalServerError")
	if wf.Async || !wf.Public {
		problem("503", "ServiceUnavailable")
	}
	if !wf.Async {
		problem("504", "GatewayTimeout")
	}
	if _, ok := out["default"]; !ok {
		problem("default", "Error")
	}
	return sortedResponses(out)
}

// withExecutionID adds the X-Bifrost-Execution-Id header to a response.
func withExecutionID(r *Object) *Object {
	out := &Object{}
	headers := r.Object("headers")
	if headers == nil {
		headers = &Object{}
	}
	headers.Set(ExecutionIDHeader, NewObject("$ref", "#/components/headers/ExecutionId"))
	for _, key := range r.Keys() {
		v, _ := r.Get(key)
		out.Set(key, v)
		if key == "description" {
			out.Set("headers", headers)
		}
	}
	out.Set("headers", headers) // when there was no description
	return out
}

// sortedResponses orders responses by status code, default last.
func sortedResponses(m map[string]any) *Object {
	codes := make([]string, 0, len(m))
	for code := range m {
		codes = append(codes, code)
	}
	slices.SortFunc(codes, func(a, b string) int {
		if (a == "default") != (b == "default") {
			if a == "default" {
				return 1
			}
			return -1
		}
		return cmp.Compare(a, b)
	})
	out := &Object{}
	for _, code := range codes {
		out.Set(code, m[code])
	}
	return out
}

func sortedObject(m map[string]*Object) *Object {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := &Object{}
	for _, k := range keys {
		out.Set(k, m[k])
	}
	return out
}

func tagList(tags map[string]bool) []any {
	names := make([]string, 0, len(tags))
	for t := range tags {
		names = append(names, t)
	}
	slices.Sort(names)
	out := make([]any, 0, len(names))
	for _, name := range names {
		tag := NewObject("name", name)
		if name == executionsTag {
			tag.Set("description", "Executions of workflows: their status, result and logs; cancellation.")
		}
		out = append(out, tag)
	}
	return out
}

// authSecurity is the security requirement of a call that needs a
// credential: a bearer token or the X-Bifrost-Key header; with anonymous,
// calling without one is allowed too.
func authSecurity(anonymous bool) []any {
	out := []any{
		NewObject("bearerAuth", []any{}),
		NewObject("apiKeyAuth", []any{}),
	}
	if anonymous {
		out = append(out, &Object{})
	}
	return out
}

func strings_(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// signature headers of each verify= scheme.
type signatureHeader struct {
	name, description string
}

func signatureParameters(wf Workflow) []any {
	var headers []signatureHeader
	switch wf.Verify {
	case "":
		return nil
	case "github":
		headers = []signatureHeader{{"X-Hub-Signature-256", "GitHub's signature: sha256= and the hex HMAC-SHA256 of the raw body, keyed with the webhook secret."}}
	case "stripe":
		headers = []signatureHeader{{"Stripe-Signature", "Stripe's signature: t=<unix time>,v1=<hex HMAC-SHA256 of t.body>, keyed with the endpoint secret; at most 5 minutes old."}}
	case "slack":
		headers = []signatureHeader{
			{"X-Slack-Signature", "Slack's signature: v0= and the hex HMAC-SHA256 of v0:<timestamp>:<body>, keyed with the signing secret."},
			{"X-Slack-Request-Timestamp", "The Unix time the request was signed at; at most 5 minutes old."},
		}
	case "standard":
		headers = []signatureHeader{
			{"webhook-id", "Standard Webhooks: the message id (Svix sends svix-id instead)."},
			{"webhook-timestamp", "Standard Webhooks: the Unix time of signing; at most 5 minutes old (or svix-timestamp)."},
			{"webhook-signature", "Standard Webhooks: space-separated v1,<base64 HMAC-SHA256 of id.timestamp.body> (or svix-signature)."},
		}
	default: // hmac-sha256
		name := cmp.Or(wf.SignatureHeader, "X-Signature-256")
		headers = []signatureHeader{{name, "The HMAC-SHA256 of the raw body, keyed with the shared secret: sha256=<hex>, or the hex or base64 digest."}}
	}
	out := make([]any, len(headers))
	for i, h := range headers {
		out[i] = NewObject("name", h.name, "in", "header", "description", h.description, "required", true,
			"schema", NewObject("type", "string"))
	}
	return out
}
