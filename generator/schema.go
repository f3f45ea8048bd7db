package generator

import (
	"encoding/json"
	"fmt"
	"go/types"
	"slices"
	"strconv"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/workflow"
)

// The schema stage: model → the package's OpenAPI fragment, typed values:
// each endpoint workflow's operation (its parameters, request body and
// result responses) and the schemas of the named struct types they refer
// to, by {"$ref":"<type>"}. Package openapi adds the rest of the HTTP
// contract and names the components.

// describeOperations sets the package's OpenAPI fragment: the operation of
// every endpoint workflow and the schemas of the types they refer to (nil
// when the package has no endpoint).
func describeOperations(pkg *Package) error {
	w := &schemaWriter{components: map[string]*schema{}, building: map[string]bool{}}
	ops := map[string]*openapi.Operation{}
	for _, wf := range pkg.Workflows {
		if wf.Directive.Endpoint {
			ops[wf.Name] = w.operation(wf)
		}
	}
	pkg.OpenAPIFile = nil
	if len(ops) == 0 {
		return nil
	}
	f := &openapi.Fragment{Operations: ops}
	if len(w.components) > 0 {
		f.Schemas = w.components
	}
	file, err := f.Marshal()
	if err != nil { // a bound tag such as min=Inf
		return fmt.Errorf("%s: openapi: %w", pkg.Path, err)
	}
	pkg.OpenAPIFile = file
	return nil
}

// schemaWriter describes Go types as JSON Schema (OpenAPI 3.1).
type schemaWriter struct {
	components map[string]*schema // by type
	building   map[string]bool    // types being described (recursion)
}

type schema = openapi.Schema

// typed is {type: name}.
func typed(name string) *schema { return &schema{Type: openapi.Type(name)} }

const (
	contentJSON = "application/json"
	contentForm = "application/x-www-form-urlencoded"
	contentAny  = "*/*"
)

func (w *schemaWriter) operation(wf *Workflow) *openapi.Operation {
	op := &openapi.Operation{Parameters: w.parameters(wf), RequestBody: w.requestBody(wf)}
	if wf.Mode != workflow.Async { // the answer of an async call is 202, which openapi adds
		op.Responses = w.responses(wf)
	}
	return op
}

// parameters are the scalar parameters (query) and the query and header
// fields of the body struct, in the order of the signature and the fields.
func (w *schemaWriter) parameters(wf *Workflow) []*openapi.Parameter {
	var out []*openapi.Parameter
	for _, p := range wf.Params {
		if p.Kind == ParamScalar {
			s := textSchema(p.Scalar)
			if p.Default != nil {
				s.Default = p.Default.JSON
			}
			out = append(out, &openapi.Parameter{Name: p.Query, In: "query", Required: p.Required, Schema: s})
		}
	}
	if wf.BodyParam == nil {
		return out
	}
	st := structOfShape(wf.BodyParam.Shape)
	if st == nil {
		return out
	}
	for _, f := range st.Fields {
		if f.Source == FromBody {
			continue
		}
		in := "query"
		if f.Source == FromHeader {
			in = "header"
		}
		s := textSchema(f.Shape.Scalar)
		applyRules(s, f, false)
		out = append(out, &openapi.Parameter{Name: f.Name, In: in, Description: f.Doc, Required: f.Required,
			Deprecated: f.Deprecated, Schema: s})
	}
	return out
}

// binary is any content, as bytes.
func binary() *openapi.MediaType {
	return &openapi.MediaType{Schema: &schema{Type: openapi.Type("string"), Format: "binary"}}
}

// requestBody describes the body a workflow reads: its body parameter as
// JSON (and as a form where the type can come from one), the raw bytes, or
// the scalar parameters a JSON object or form may carry instead of the query.
func (w *schemaWriter) requestBody(wf *Workflow) *openapi.RequestBody {
	if methods := wf.Directive.Methods; len(methods) == 1 && methods[0] == "GET" {
		return nil // no body for clients to send
	}
	body := &openapi.RequestBody{Content: map[string]*openapi.MediaType{}}
	switch {
	case wf.BodyParam != nil && wf.BodyParam.Shape.Kind == ShapeRaw:
		if isNamed(wf.BodyParam.Type, "encoding/json", "RawMessage") {
			body.Content[contentJSON] = &openapi.MediaType{Schema: &schema{}}
		} else {
			body.Content[contentAny] = binary()
		}
	case wf.BodyParam != nil:
		sh := wf.BodyParam.Shape
		if !sh.bodyFields() {
			return nil // every field comes from the query or headers
		}
		body.Required = wf.BodyParam.Required
		body.Content[contentJSON] = &openapi.MediaType{Schema: w.bodySchema(sh)}
		if form := w.formSchema(sh); form != nil {
			body.Content[contentForm] = &openapi.MediaType{Schema: form}
		}
	case wf.Body == workflow.BodyRaw: // *bifrost.Request: any body, as bytes
		body.Content[contentAny] = binary()
	case wf.Body == workflow.BodyDecoded: // scalars may come from a body object
		body.Content[contentJSON] = &openapi.MediaType{Schema: scalarsObject(wf)}
		body.Content[contentForm] = &openapi.MediaType{Schema: scalarsObject(wf)}
	default:
		return nil
	}
	return body
}

// scalarsObject is the object whose members may carry the scalar
// parameters instead of the query.
func scalarsObject(wf *Workflow) *schema {
	out := &schema{Type: openapi.Type("object"), Description: "The parameters, as members instead of the query."}
	for _, p := range wf.Params {
		if p.Kind == ParamScalar {
			out.Properties.Set(p.Query, textSchema(p.Scalar))
		}
	}
	return out
}

// bodySchema is the JSON schema of a body parameter: a struct with query or
// header fields is described without them, inline.
func (w *schemaWriter) bodySchema(sh *Shape) *schema {
	st := structOfShape(sh)
	if st != nil && hasParams(st) {
		return w.object(st, "")
	}
	if sh.Kind == ShapePointer {
		return w.schema(sh.Elem)
	}
	return w.schema(sh)
}

// formSchema describes a body as a form, as the generated decoder reads it,
// or returns nil when the body cannot come from a form. Form schemas stay
// flat (scalars and arrays of scalars), as code generators need them.
func (w *schemaWriter) formSchema(sh *Shape) *schema {
	if sh.Kind == ShapePointer {
		sh = sh.Elem
	}
	anyStrings := &schema{Type: openapi.Type("object"), AdditionalProperties: typed("string")}
	switch sh.Kind {
	case ShapeAny:
		return anyStrings
	case ShapeMap:
		if i, ok := sh.Elem.Type.Underlying().(*types.Interface); ok && i.Empty() {
			return anyStrings
		}
		return nil
	case ShapeStruct:
	default:
		return nil
	}
	out := typed("object")
	for _, f := range sh.Struct.Fields {
		if f.Source != FromBody {
			continue
		}
		sc := formScalar(f.Shape)
		if sc == nil {
			if f.Required {
				return nil // a form can never carry it
			}
			continue
		}
		s := textSchema(sc)
		applyRules(s, f, false)
		if f.Default != nil { // a form carries text: 1m30s, not nanoseconds
			s.Default = textDefault(f.Default, sc)
		}
		describe(s, f)
		out.Properties.Set(f.Name, s)
		if f.Required {
			out.Required = append(out.Required, f.Name)
		}
	}
	if len(out.Properties) == 0 {
		return nil
	}
	return out
}

// responses are the answers of a sync workflow's result.
func (w *schemaWriter) responses(wf *Workflow) map[string]*openapi.Response {
	jsonContent := func() map[string]*openapi.MediaType {
		s := &schema{}
		if wf.Result.Shape != nil {
			s = w.schema(wf.Result.Shape)
		}
		return map[string]*openapi.MediaType{contentJSON: {Schema: s}}
	}
	switch wf.Result.Kind {
	case ResultError:
		return map[string]*openapi.Response{"204": {Description: "Done: the workflow returned no error."}}
	case ResultValue:
		return map[string]*openapi.Response{"200": {Description: "The workflow's result.", Content: jsonContent()}}
	case ResultStatus:
		return map[string]*openapi.Response{"default": {Description: "The workflow's result, with the status it chose, or a problem.",
			Content: jsonContent()}}
	default: // ResultResponse
		return map[string]*openapi.Response{"default": {Description: "The workflow's own response: the status, headers and body it chose.",
			Content: map[string]*openapi.MediaType{contentAny: {Schema: &schema{}}}}}
	}
}

// schema describes a shape as its JSON form.
func (w *schemaWriter) schema(sh *Shape) *schema {
	switch sh.Kind {
	case ShapeScalar:
		return jsonScalar(sh)
	case ShapePointer:
		return w.schema(sh.Elem)
	case ShapeSlice:
		return &schema{Type: openapi.Type("array"), Items: w.schema(sh.Elem)}
	case ShapeMap:
		return &schema{Type: openapi.Type("object"), AdditionalProperties: w.schema(sh.Elem)}
	case ShapeStruct:
		return w.structRef(sh.Struct)
	}
	return &schema{} // any value
}

// structRef is a reference to a named struct, described once as a
// component; an anonymous struct is described inline.
func (w *schemaWriter) structRef(st *Struct) *schema {
	named, ok := types.Unalias(st.Type).(*types.Named)
	if !ok {
		return w.object(st, "")
	}
	id := types.TypeString(named, nil)
	if _, done := w.components[id]; !done && !w.building[id] {
		w.building[id] = true
		w.components[id] = w.object(st, st.Doc)
		delete(w.building, id)
	}
	return &schema{Ref: id}
}

// object describes a struct's JSON members (its body fields).
func (w *schemaWriter) object(st *Struct, doc string) *schema {
	out := &schema{Type: openapi.Type("object"), Description: doc}
	for _, f := range st.Fields {
		if f.Source != FromBody {
			continue
		}
		out.Properties.Set(f.Name, w.field(f))
		if f.Required {
			out.Required = append(out.Required, f.Name)
		}
	}
	return out
}

// field describes one member: its type, its constraint tags, null for a
// pointer encoding/json writes as null (no omitempty), its doc comment.
func (w *schemaWriter) field(f *Field) *schema {
	sh := f.Shape
	nullable := sh.Kind == ShapePointer && !f.OmitZero
	if sh.Kind == ShapePointer {
		sh = sh.Elem
	}
	s := w.schema(sh)
	applyRules(s, f, nullable)
	if nullable {
		s = orNull(s)
	}
	describe(s, f)
	return s
}

// describe adds a field's doc comment and deprecation to its schema.
func describe(s *schema, f *Field) {
	if f.Doc != "" {
		s.Description = f.Doc
	}
	if f.Deprecated {
		s.Deprecated = true
	}
}

// orNull lets a schema be null too: type [T, "null"], or oneOf with
// {type: "null"} for a reference.
func orNull(s *schema) *schema {
	if s.Ref != "" {
		out := *s
		out.Ref = ""
		out.OneOf = []*schema{{Ref: s.Ref}, typed("null")}
		return &out
	}
	if len(s.Type) == 1 {
		s.Type = openapi.Types{s.Type[0], "null"}
	}
	return s // {} is any value, null included
}

// applyRules adds a field's constraint tags to its schema: the same checks
// the generated decoder makes.
// textDefault is a default as a text input states it: the JSON value,
// except a duration's, which is text there (1m30s).
func textDefault(def *Default, sc *Scalar) any {
	if sc.Parse == ParseDuration {
		return def.Text
	}
	return def.JSON
}

func applyRules(s *schema, f *Field, nullable bool) {
	r := f.Rules
	if f.Default != nil {
		s.Default = f.Default.JSON
	}
	if r.Minimum != nil {
		s.Minimum = jsonNumber(*r.Minimum)
	}
	if r.Maximum != nil {
		s.Maximum = jsonNumber(*r.Maximum)
	}
	minLength, maxLength := &s.MinLength, &s.MaxLength
	switch {
	case s.AdditionalProperties != nil:
		minLength, maxLength = &s.MinProperties, &s.MaxProperties
	case s.Items != nil:
		minLength, maxLength = &s.MinItems, &s.MaxItems
	}
	if r.MinLength != nil {
		*minLength = openapi.Ptr(*r.MinLength)
	}
	if r.MaxLength != nil {
		*maxLength = openapi.Ptr(*r.MaxLength)
	}
	if r.Pattern != "" {
		s.Pattern = r.Pattern
	}
	if len(r.Enum) > 0 {
		s.Enum = nil
		for _, v := range r.Enum {
			if slices.Equal(s.Type, openapi.Type("string")) {
				s.Enum = append(s.Enum, v)
			} else {
				s.Enum = append(s.Enum, json.Number(v))
			}
		}
		if nullable {
			s.Enum = append(s.Enum, nil)
		}
	}
	if r.Format != "" {
		s.Format = r.Format
	}
}

// jsonNumber writes a float as a JSON number, integers without a fraction.
func jsonNumber(f float64) openapi.Number {
	return openapi.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// jsonScalar describes a scalar as encoding/json writes it.
func jsonScalar(sh *Shape) *schema {
	if sh.Scalar == nil { // []byte
		return &schema{Type: openapi.Type("string"), Format: "byte", ContentEncoding: "base64"}
	}
	switch sh.Scalar.Parse {
	case ParseTime:
		return &schema{Type: openapi.Type("string"), Format: "date-time"}
	case ParseDuration:
		return &schema{Type: openapi.Type("integer"), Format: "int64", Description: "A duration in nanoseconds."}
	case ParseText:
		return typed("string")
	}
	return basicSchema(sh.Scalar.Elem)
}

// textSchema describes a scalar read from text: a query parameter, a header,
// a form field, a top-level body member standing for a parameter.
func textSchema(sc *Scalar) *schema {
	var elem *schema
	switch sc.Parse {
	case ParseTime:
		elem = &schema{Type: openapi.Type("string"), Format: "date-time"}
	case ParseDuration:
		elem = &schema{Type: openapi.Type("string"), Description: "A duration such as 300ms, 1m30s or 2h."}
	case ParseText:
		elem = typed("string")
	default:
		elem = basicSchema(sc.Elem)
	}
	if sc.Slice {
		return &schema{Type: openapi.Type("array"), Items: elem}
	}
	return elem
}

// integer is {type: integer} with a format and bounds ("" for none).
func integer(format string, minimum, maximum openapi.Number) *schema {
	return &schema{Type: openapi.Type("integer"), Format: format, Minimum: minimum, Maximum: maximum}
}

// basicSchema describes a boolean, number or string type, integers with the
// bounds of their size (the decoder refuses what overflows).
func basicSchema(t types.Type) *schema {
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		return typed("string")
	}
	switch b.Kind() {
	case types.Bool:
		return typed("boolean")
	case types.Int8:
		return integer("int32", "-128", "127")
	case types.Int16:
		return integer("int32", "-32768", "32767")
	case types.Int32:
		return integer("int32", "", "")
	case types.Int, types.Int64:
		return integer("int64", "", "")
	case types.Uint8:
		return integer("int32", "0", "255")
	case types.Uint16:
		return integer("int32", "0", "65535")
	case types.Uint32:
		return integer("int64", "0", "4294967295")
	case types.Uint, types.Uint64, types.Uintptr:
		return integer("", "0", "")
	case types.Float32:
		return &schema{Type: openapi.Type("number"), Format: "float"}
	case types.Float64:
		return &schema{Type: openapi.Type("number"), Format: "double"}
	}
	return typed("string")
}
