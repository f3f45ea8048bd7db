package generator

import (
	"go/token"
	"go/types"

	"github.com/bifrost-go/bifrost/workflow"
)

// The model is what analyze makes of a package and what emit and the OpenAPI
// stage read. It holds go/types values, never syntax.

// Package is one Go package with marked functions.
type Package struct {
	Path      string // import path
	Name      string
	Dir       string
	Types     *types.Package
	Workflows []*Workflow

	// OpenAPIFile is the package's OpenAPI fragment (openapi.Fragment) as
	// written to FragmentFile and embedded by the generated code: the
	// operation of each endpoint workflow and the schemas of the named Go
	// types they refer to (types.TypeString). Nil when the package has no
	// endpoint workflow. Only the bytes are kept: the fragment's values
	// were a third of what generate holds in memory (issue #14), and
	// openapi.ParseFragment gives them back.
	OpenAPIFile []byte
}

// Workflow is one marked function, fully checked. Its description is the
// workflow.Spec the generated Workflows() carries: the directive's options,
// completed by analyze with the name, the doc comment and the defaults.
type Workflow struct {
	workflow.Spec
	Pos       token.Position // of the function's name
	Directive *Directive

	Params    []*Param
	Result    Result
	BodyParam *Param // the body parameter, or nil
}

// ParamKind is what a parameter is bound to.
type ParamKind int

const (
	ParamContext ParamKind = iota // context.Context
	ParamRequest                  // *bifrost.Request
	ParamHeaders                  // bifrost.Headers / http.Header
	ParamBody                     // the request body
	ParamScalar                   // a query parameter (or top-level body member)
)

// Param is one parameter of a workflow function.
type Param struct {
	Kind     ParamKind
	Name     string     // the Go parameter name
	Field    string     // the field of the generated args struct
	Type     types.Type // the parameter's type
	Pos      token.Position
	Query    string   // ParamScalar: the query parameter name (snake_case of Name)
	Required bool     // ParamScalar: named in required=; ParamBody: a non-pointer struct
	Default  *Default // ParamScalar: from default=, or nil
	Scalar   *Scalar
	Shape    *Shape // ParamBody
}

// ParseKind says which runtime parser reads a scalar from text.
type ParseKind int

const (
	ParseString ParseKind = iota
	ParseBool
	ParseInt
	ParseUint
	ParseFloat
	ParseTime
	ParseDuration
	ParseText
)

// JSONKind is the JSON kind a value must have (the jsonscan.Kind it is checked against).
type JSONKind int

const (
	KindAny JSONKind = iota // no check
	KindString
	KindNumber
	KindInteger
	KindBool
	KindArray
	KindObject
)

// Scalar is how one scalar parameter or field is read from text.
type Scalar struct {
	Elem    types.Type // the value type parsed
	Parse   ParseKind
	Slice   bool // []Elem: repeated values
	Pointer bool // *Elem: nil when absent
}

// JSONKind is the kind of the scalar's JSON form.
func (s *Scalar) JSONKind() JSONKind {
	switch s.Parse {
	case ParseBool:
		return KindBool
	case ParseInt, ParseUint:
		return KindInteger
	case ParseFloat:
		return KindNumber
	}
	return KindString
}

// ShapeKind is the form of a body or body field type.
type ShapeKind int

const (
	ShapeAny     ShapeKind = iota // any, json.RawMessage, a type with its own UnmarshalJSON: not walked
	ShapeRaw                      // []byte / json.RawMessage body: the raw bytes
	ShapeScalar                   // a JSON scalar
	ShapeStruct                   // a struct: walked field by field
	ShapeSlice                    // a slice or array
	ShapeMap                      // a map with string keys
	ShapePointer                  // a pointer to another shape
)

// Shape describes a type for the generated JSON walk and the OpenAPI schema.
type Shape struct {
	Kind   ShapeKind
	Type   types.Type
	JSON   JSONKind // for ShapeScalar, and the kind checked for every shape
	Scalar *Scalar  // for ShapeScalar: how the form decoder parses it
	Elem   *Shape   // ShapeSlice, ShapeMap, ShapePointer
	Struct *Struct  // ShapeStruct
}

// Struct is a struct type seen as a JSON object.
type Struct struct {
	Type     types.Type // the (possibly named, possibly instantiated) struct type
	Fields   []*Field
	Validate bool   // the type has a Validate() error method
	Doc      string // the named type's doc comment
}

// Source is where a body struct field is read from.
type Source int

const (
	FromBody Source = iota
	FromQuery
	FromHeader
)

// Field is one field of a body struct, after embedded structs are flattened.
type Field struct {
	GoPath     []string // selector path from the struct value, e.g. ["Base", "ID"]
	Name       string   // JSON member, query parameter or header name
	Source     Source
	Shape      *Shape
	Required   bool
	Nullable   bool   // JSON null is a valid value (pointers, slices, maps, any)
	OmitZero   bool   // omitempty / omitzero: constraints apply only to non-zero values
	Doc        string // the field's doc comment (or line comment)
	Deprecated bool   // the doc has a Deprecated: paragraph
	Rules      Rules
	Default    *Default // from a default:"…" tag, or nil
	Pos        token.Position
}

// Rules are a field's constraint tags, already parsed.
type Rules struct {
	Minimum, Maximum     *float64
	MinLength, MaxLength *int
	Pattern              string
	Enum                 []string
	Format               string
}

// ResultKind is the form of a workflow's results.
type ResultKind int

const (
	ResultError    ResultKind = iota // error → 204
	ResultValue                      // (T, error) → 200
	ResultStatus                     // (T, int, error) → status
	ResultResponse                   // (*bifrost.Response, error)
)

// Result is a workflow's result form and value type.
type Result struct {
	Kind  ResultKind
	Type  types.Type // T, or nil
	Shape *Shape     // T as encoding/json writes it, or nil
}
