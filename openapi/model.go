package openapi

import (
	"encoding/json"
	"reflect"
	"slices"
)

// The typed model of the OpenAPI 3.1 parts a document here uses. Fixed
// objects are structs whose field order is the order members are written
// in (the specification's order); map-like members the specification keys
// by name (paths, responses, schemas, content) are Go maps, written sorted;
// members whose order means something (a struct's properties, a response's
// headers) are Members, written in the order they were set.

// OpenAPI is a document: the specification's root "OpenAPI Object". (The
// function Document builds and encodes one.)
type OpenAPI struct {
	OpenAPI    string                `json:"openapi"`
	Info       Info                  `json:"info"`
	Servers    []Server              `json:"servers,omitempty"`
	Security   []SecurityRequirement `json:"security,omitzero"`
	Tags       []Tag                 `json:"tags,omitempty"`
	Paths      map[string]*PathItem  `json:"paths"`
	Components *Components           `json:"components,omitempty"`
}

// Info is the document's info object.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Server is where the API is served.
type Server struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

// Tag groups operations.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// SecurityRequirement names the security schemes one way of calling needs,
// each with its scopes (none here); the empty requirement allows calling
// without a credential.
type SecurityRequirement map[string][]string

// PathItem holds the operations of one path, by method.
type PathItem struct {
	Get     *Operation `json:"get,omitempty"`
	Put     *Operation `json:"put,omitempty"`
	Post    *Operation `json:"post,omitempty"`
	Delete  *Operation `json:"delete,omitempty"`
	Options *Operation `json:"options,omitempty"`
	Head    *Operation `json:"head,omitempty"`
	Patch   *Operation `json:"patch,omitempty"`
	Trace   *Operation `json:"trace,omitempty"`
}

// methodOrder is the order of a path item's operations: its fields' order.
var methodOrder = [...]string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

// slots are the path item's operation fields, in methodOrder.
func (p *PathItem) slots() [len(methodOrder)]**Operation {
	return [...]**Operation{&p.Get, &p.Put, &p.Post, &p.Delete, &p.Options, &p.Head, &p.Patch, &p.Trace}
}

// Set puts op at method (upper case); it reports false for a method a path
// item has no place for.
func (p *PathItem) Set(method string, op *Operation) bool {
	i := slices.Index(methodOrder[:], method)
	if i < 0 {
		return false
	}
	*p.slots()[i] = op
	return true
}

// Operations calls f with each operation of the path item, in order.
func (p *PathItem) Operations(f func(method string, op *Operation)) {
	for i, op := range p.slots() {
		if *op != nil {
			f(methodOrder[i], *op)
		}
	}
}

// Operation is one method of one path. The generator fills Parameters,
// RequestBody and Responses (what the Go types say); the builder the rest.
type Operation struct {
	Tags        []string              `json:"tags,omitempty"`
	Summary     string                `json:"summary,omitempty"`
	Description string                `json:"description,omitempty"`
	OperationID string                `json:"operationId,omitempty"`
	Deprecated  bool                  `json:"deprecated,omitempty"`
	Security    []SecurityRequirement `json:"security,omitzero"` // non-nil and empty: public
	Parameters  []*Parameter          `json:"parameters,omitempty"`
	RequestBody *RequestBody          `json:"requestBody,omitempty"`
	Responses   map[string]*Response  `json:"responses,omitempty"` // by status code or "default"
	// Schedule is the workflow's schedule= option, when it also runs on one.
	Schedule string `json:"x-bifrost-schedule,omitempty"`
}

// Parameter is a query, header or path parameter, or a reference to one.
type Parameter struct {
	Ref         string  `json:"$ref,omitempty"`
	Name        string  `json:"name,omitempty"`
	In          string  `json:"in,omitempty"` // query, header, path
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Deprecated  bool    `json:"deprecated,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

// RequestBody is what an operation reads from the body, by media type.
type RequestBody struct {
	Required bool                  `json:"required,omitempty"`
	Content  map[string]*MediaType `json:"content"`
}

// MediaType is the schema of one media type.
type MediaType struct {
	Schema *Schema `json:"schema,omitempty"`
}

// Response is one answer of an operation, or a reference to a shared one.
type Response struct {
	Ref         string                `json:"$ref,omitempty"`
	Description string                `json:"description,omitempty"`
	Headers     Members[*Header]      `json:"headers,omitempty"`
	Content     map[string]*MediaType `json:"content,omitempty"`
}

// Header is a response header, or a reference to a shared one.
type Header struct {
	Ref         string  `json:"$ref,omitempty"`
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

// Components are the document's shared parts.
type Components struct {
	Schemas         map[string]*Schema       `json:"schemas,omitempty"`
	Responses       map[string]*Response     `json:"responses,omitempty"`
	Parameters      Members[*Parameter]      `json:"parameters,omitempty"`
	Headers         Members[*Header]         `json:"headers,omitempty"`
	SecuritySchemes Members[*SecurityScheme] `json:"securitySchemes,omitempty"`
}

// SecurityScheme is one way of presenting a credential.
type SecurityScheme struct {
	Type        string `json:"type"` // http, apiKey
	Scheme      string `json:"scheme,omitempty"`
	In          string `json:"in,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// Schema is a JSON Schema (OpenAPI 3.1's dialect; Nullable and Example are
// 3.0's, set by the downgrade only). A reference to a Go type the
// generator described is Ref "<type>" as types.TypeString writes it, until
// the builder names the component. The zero Schema is {}, any value.
type Schema struct {
	Ref   string    `json:"$ref,omitempty"`
	AllOf []*Schema `json:"allOf,omitempty"`
	OneOf []*Schema `json:"oneOf,omitempty"`
	AnyOf []*Schema `json:"anyOf,omitempty"`

	Type                 Types      `json:"type,omitempty"`
	Nullable             bool       `json:"nullable,omitempty"` // 3.0
	Items                *Schema    `json:"items,omitempty"`
	AdditionalProperties *Schema    `json:"additionalProperties,omitempty"`
	Format               string     `json:"format,omitempty"`
	ContentEncoding      string     `json:"contentEncoding,omitempty"`
	Minimum              Number     `json:"minimum,omitempty"`
	ExclusiveMinimum     *Exclusive `json:"exclusiveMinimum,omitempty"`
	Maximum              Number     `json:"maximum,omitempty"`
	ExclusiveMaximum     *Exclusive `json:"exclusiveMaximum,omitempty"`
	MinLength            *int       `json:"minLength,omitempty"`
	MaxLength            *int       `json:"maxLength,omitempty"`
	MinItems             *int       `json:"minItems,omitempty"`
	MaxItems             *int       `json:"maxItems,omitempty"`
	MinProperties        *int       `json:"minProperties,omitempty"`
	MaxProperties        *int       `json:"maxProperties,omitempty"`
	Pattern              string     `json:"pattern,omitempty"`
	Enum                 []any      `json:"enum,omitempty"`
	Const                any        `json:"const,omitempty"`

	Description string           `json:"description,omitempty"`
	Deprecated  bool             `json:"deprecated,omitempty"`
	Properties  Members[*Schema] `json:"properties,omitempty"`
	Required    []string         `json:"required,omitempty"`
	Examples    []any            `json:"examples,omitempty"`
	Example     any              `json:"example,omitempty"` // 3.0
	Default     any              `json:"default,omitempty"`
}

// Values of any-valued members (Enum, Const, Examples, Example, Default)
// are JSON values as encoding/json reads them, numbers as json.Number:
// string, bool, json.Number (or a Go number), nil, []any, map[string]any.

// Number is a JSON number as written ("0", "1.5", "1e+21"); "" is none.
type Number = json.Number

// Ptr returns a pointer to v, for the optional integer keywords.
func Ptr[T any](v T) *T { return &v }

// isZero reports whether s is {}.
func (s *Schema) isZero() bool { return reflect.ValueOf(*s).IsZero() }

// Types is a schema's type: one name, or in 3.1 a list (["string", "null"]).
// One name is written as a string, several as a list.
type Types []string

// Type is the types of a schema of one type.
func Type(name string) Types { return Types{name} }

// MarshalJSON writes one type as a string, several as a list.
func (t Types) MarshalJSON() ([]byte, error) {
	if len(t) == 1 {
		return marshal(t[0])
	}
	return marshal([]string(t))
}

// UnmarshalJSON reads a string or a list of strings.
func (t *Types) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*t = Types{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	*t = list
	return nil
}

// Exclusive is exclusiveMinimum or exclusiveMaximum: in 3.1 the bound
// itself; in 3.0 (Bound "") the boolean form, true beside minimum or
// maximum.
type Exclusive struct {
	Bound Number
}

// MarshalJSON writes the bound, or true.
func (e Exclusive) MarshalJSON() ([]byte, error) {
	if e.Bound == "" {
		return []byte("true"), nil
	}
	return marshal(e.Bound)
}

// UnmarshalJSON reads a number, or the boolean true.
func (e *Exclusive) UnmarshalJSON(data []byte) error {
	if string(data) == "true" {
		*e = Exclusive{}
		return nil
	}
	return decodeStrict(data, &e.Bound)
}
