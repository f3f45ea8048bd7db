// Package openapi builds the OpenAPI document of a set of workflows. It is
// the one builder that both bifrostgen (generate --openapi, openapi) and the
// runtime (GET /api/openapi.json) use, from the same inputs, so that both
// write the very same bytes for the same workflows.
//
// The document is typed values (OpenAPI, Operation, Schema…), written by
// encoding/json in the specification's order. Each workflow.Spec brings its
// package's Fragment: the operation of each endpoint workflow (its
// parameters, request body and result responses: what its Go types say)
// and the schemas of the named Go types those refer to. A reference to such
// a type is {"$ref":"<type>"}, the type written as types.TypeString writes
// it ("example.com/shop.Order", "example.com/shop.Page[example.com/shop.Item]").
// The builder adds what the HTTP contract says (operation ids, security,
// signature headers, 202 for async, problem responses), the executions API,
// and names the components: the Go type name ("Order", "PageItem"),
// qualified by its package only where two would collide. Every choice
// depends on the set of workflows only, never on their order. A 3.0.3
// document is the 3.1 one rewritten (downgrade.go).
package openapi

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bifrost-go/bifrost/workflow"
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

// Title and version of every document's info object.
const (
	Title      = "Bifrost API"
	APIVersion = "1.0.0"
)

// Document builds the document of the workflows and encodes it.
func Document(specs []*workflow.Spec, version Version, format Format) ([]byte, error) {
	doc, err := Build(specs, version)
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
func Build(specs []*workflow.Spec, version Version) (*OpenAPI, error) {
	if version != V31 && version != V30 {
		return nil, fmt.Errorf("openapi: unknown version %q", version)
	}
	sorted := make([]*workflow.Spec, 0, len(specs))
	for _, s := range specs {
		if s != nil {
			sorted = append(sorted, s)
		}
	}
	slices.SortFunc(sorted, func(a, b *workflow.Spec) int { return cmp.Compare(a.Name, b.Name) })

	b, err := newBuilder(sorted)
	if err != nil {
		return nil, err
	}
	paths := map[string]*PathItem{}
	tags := map[string]bool{executionsTag: true}
	anyPublic := false
	var errs []error
	for _, spec := range sorted {
		if !spec.Endpoint {
			continue
		}
		item, err := b.pathItem(spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		paths["/api/endpoints/"+spec.Name] = item
		for _, t := range spec.Tags {
			tags[t] = true
		}
		anyPublic = anyPublic || spec.Public
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	maps.Copy(paths, executionPaths(anyPublic))
	components, err := b.components(paths)
	if err != nil {
		return nil, err
	}
	doc := &OpenAPI{
		OpenAPI: "3.1.0",
		Info: Info{Title: Title, Version: APIVersion,
			Description: "Workflows served by Bifrost: each endpoint workflow at /api/endpoints/{name}, and the executions API."},
		Servers:    []Server{{URL: "/", Description: "this server"}},
		Security:   authSecurity(false),
		Tags:       tagList(tags),
		Paths:      paths,
		Components: components,
	}
	if version == V30 {
		downgrade(doc)
	}
	return doc, nil
}

// builder holds what one Build shares between workflows.
type builder struct {
	operations map[string]*Operation // the generated operation of each workflow, by name
	schemas    map[string]*Schema    // every schema a fragment brought, by type
	candidates map[string]candidate
}

// candidate is one package's description of a type.
type candidate struct {
	schema *Schema
	text   string // compact JSON, to choose between two
	owner  bool   // brought by the package that defines the type
}

// newBuilder parses each distinct fragment once and collects the
// operations and schemas of the workflows.
func newBuilder(specs []*workflow.Spec) (*builder, error) {
	b := &builder{operations: map[string]*Operation{}, candidates: map[string]candidate{}}
	parsed := map[string]*Fragment{}
	merged := map[[2]string]bool{} // package and fragment already merged
	var errs []error
	for _, spec := range specs {
		if len(spec.OpenAPI) == 0 {
			continue
		}
		key := string(spec.OpenAPI)
		f, ok := parsed[key]
		if !ok {
			var err error
			if f, err = ParseFragment(spec.OpenAPI); err != nil {
				errs = append(errs, fmt.Errorf("workflow %s: %w", spec.Name, err))
			}
			parsed[key] = f
		}
		if f == nil {
			continue
		}
		b.operations[spec.Name] = f.Operations[spec.Name]
		if !merged[[2]string{spec.Package, key}] {
			merged[[2]string{spec.Package, key}] = true
			if err := b.mergeSchemas(spec.Package, f.Schemas); err != nil {
				errs = append(errs, fmt.Errorf("workflow %s: %w", spec.Name, err))
			}
		}
	}
	b.schemas = make(map[string]*Schema, len(b.candidates))
	for id, c := range b.candidates {
		b.schemas[id] = c.schema
	}
	return b, errors.Join(errs...)
}

// mergeSchemas adds the schemas a package brought. Two packages may carry
// the same type (both use it); should they disagree (one generated before
// the type changed), the defining package's description wins, then the
// smaller text, so that the choice depends only on the set.
func (b *builder) mergeSchemas(pkg string, schemas map[string]*Schema) error {
	for id, s := range schemas {
		if s == nil {
			return fmt.Errorf("openapi: the schema of %s is null", id)
		}
		text, err := Compact(s)
		if err != nil {
			return fmt.Errorf("openapi: schema of %s: %w", id, err)
		}
		c := candidate{schema: s, text: text, owner: typePackage(id) == pkg}
		prev, ok := b.candidates[id]
		switch {
		case !ok, c.owner && !prev.owner, c.owner == prev.owner && c.text < prev.text:
			b.candidates[id] = c
		}
	}
	return nil
}

// pathItem is the path item of an endpoint workflow: one operation per method.
func (b *builder) pathItem(spec *workflow.Spec) (*PathItem, error) {
	gen := b.operations[spec.Name]
	if gen == nil {
		gen = &Operation{}
	}
	item := &PathItem{}
	for _, m := range spec.Methods {
		if !item.Set(m, operation(spec, m, len(spec.Methods) > 1, gen)) {
			return nil, fmt.Errorf("workflow %s: unknown method %q", spec.Name, m)
		}
	}
	return item, nil
}

// operation is the operation of a workflow for one method: the generated
// parts (gen) in the place the HTTP contract gives them.
func operation(spec *workflow.Spec, method string, several bool, gen *Operation) *Operation {
	op := &Operation{
		Tags:        spec.Tags,
		Summary:     cmp.Or(spec.Summary, spec.Func, spec.Name),
		Description: spec.Description,
		OperationID: spec.Name,
		Deprecated:  spec.Deprecated,
		Security:    []SecurityRequirement{},
		Schedule:    spec.Schedule,
	}
	if several {
		op.OperationID += "_" + strings.ToLower(method)
	}
	if !spec.Public {
		op.Security = authSecurity(false)
	}
	op.Parameters = slices.Concat(gen.Parameters, signatureParameters(spec.Verify))
	if spec.Mode == workflow.Async {
		op.Parameters = append(op.Parameters, &Parameter{Ref: "#/components/parameters/IdempotencyKey"})
	}
	if method != "GET" && method != "HEAD" { // a body on GET is not for clients to send
		op.RequestBody = gen.RequestBody
	}
	op.Responses = responses(spec, gen.Responses, len(op.Parameters) > 0 || op.RequestBody != nil, op.RequestBody != nil)
	return op
}

// responses are the operation's answers: the result's (generated), 202 for
// async, and each problem the runtime may answer with on this operation.
func responses(spec *workflow.Spec, gen map[string]*Response, inputs, body bool) map[string]*Response {
	async := spec.Mode == workflow.Async
	verify := spec.Verify != nil && spec.Verify.Kind != ""
	out := map[string]*Response{}
	if async {
		out["202"] = &Response{Ref: "#/components/responses/Accepted"}
	} else {
		for code, r := range gen {
			if r != nil && r.Ref == "" {
				r = withExecutionID(r, code == "default")
			}
			out[code] = r
		}
	}
	problem := func(code, name string, when bool) {
		if when {
			out[code] = &Response{Ref: "#/components/responses/" + name}
		}
	}
	problem("400", "BadRequest", inputs || async)
	problem("401", "Unauthorized", !spec.Public || verify)
	problem("403", "Forbidden", !spec.Public)
	problem("413", "ContentTooLarge", body || verify)
	problem("415", "UnsupportedMediaType", body && spec.Body == workflow.BodyDecoded)
	problem("429", "TooManyRequests", spec.Rate != nil && spec.Rate.N > 0)
	problem("500", "InternalServerError", true)
	problem("503", "ServiceUnavailable", async || !spec.Public)
	problem("504", "GatewayTimeout", !async)
	_, chosen := out["default"]
	problem("default", "Error", !chosen)
	return out
}

// withExecutionID is a copy of a generated response with the
// X-Bifrost-Execution-Id header; a default response (the status the
// workflow chose) may be a problem too.
func withExecutionID(r *Response, isDefault bool) *Response {
	out := *r
	out.Headers = slices.Clone(r.Headers)
	out.Headers.Set(ExecutionIDHeader, &Header{Ref: "#/components/headers/ExecutionId"})
	if _, ok := r.Content[ProblemMediaType]; isDefault && r.Content != nil && !ok {
		out.Content = maps.Clone(r.Content)
		out.Content[ProblemMediaType] = &MediaType{Schema: ref("Problem")}
	}
	return &out
}

func tagList(tags map[string]bool) []Tag {
	out := make([]Tag, 0, len(tags))
	for _, name := range sortedKeys(tags) {
		tag := Tag{Name: name}
		if name == executionsTag {
			tag.Description = "Executions of workflows: their status, result and logs; cancellation."
		}
		out = append(out, tag)
	}
	return out
}

// authSecurity is the security requirement of a call that needs a
// credential: a bearer token or the X-Bifrost-Key header; with anonymous,
// calling without one is allowed too.
func authSecurity(anonymous bool) []SecurityRequirement {
	out := []SecurityRequirement{{"bearerAuth": {}}, {"apiKeyAuth": {}}}
	if anonymous {
		out = append(out, SecurityRequirement{})
	}
	return out
}

// signatureHeader is a header a verify= scheme's sender signs with.
type signatureHeader struct {
	name, description string
}

// signatureHeaders are the headers of each verify= scheme but hmac-sha256.
var signatureHeaders = map[string][]signatureHeader{
	"github": {{"X-Hub-Signature-256", "GitHub's signature: sha256= and the hex HMAC-SHA256 of the raw body, keyed with the webhook secret."}},
	"stripe": {{"Stripe-Signature", "Stripe's signature: t=<unix time>,v1=<hex HMAC-SHA256 of t.body>, keyed with the endpoint secret; at most 5 minutes old."}},
	"slack": {
		{"X-Slack-Signature", "Slack's signature: v0= and the hex HMAC-SHA256 of v0:<timestamp>:<body>, keyed with the signing secret."},
		{"X-Slack-Request-Timestamp", "The Unix time the request was signed at; at most 5 minutes old."},
	},
	"standard": {
		{"webhook-id", "Standard Webhooks: the message id (Svix sends svix-id instead)."},
		{"webhook-timestamp", "Standard Webhooks: the Unix time of signing; at most 5 minutes old (or svix-timestamp)."},
		{"webhook-signature", "Standard Webhooks: space-separated v1,<base64 HMAC-SHA256 of id.timestamp.body> (or svix-signature)."},
	},
}

// signatureParameters are the required header parameters of verify=.
func signatureParameters(v *workflow.Verify) []*Parameter {
	if v == nil || v.Kind == "" {
		return nil
	}
	headers, ok := signatureHeaders[v.Kind]
	if !ok { // hmac-sha256
		headers = []signatureHeader{{cmp.Or(v.SignatureHeader, "X-Signature-256"),
			"The HMAC-SHA256 of the raw body, keyed with the shared secret: sha256=<hex>, or the hex or base64 digest."}}
	}
	out := make([]*Parameter, len(headers))
	for i, h := range headers {
		out[i] = &Parameter{Name: h.name, In: "header", Description: h.description, Required: true, Schema: typed("string")}
	}
	return out
}
