package generator

import (
	"encoding/json"
	"fmt"
	"go/types"
	"strconv"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/workflow"
)

// The schema stage: model → each endpoint workflow's OpenAPI operation (its
// parameters, request body and result responses) and the schemas of the
// named struct types they refer to, by {"$ref":"<type>"}. Package openapi
// adds the rest of the HTTP contract and names the components.

// describeOperations sets the Operation of every endpoint workflow of pkg
// and the package's Schemas.
func describeOperations(pkg *Package) error {
	w := &schemaWriter{components: map[string]string{}, building: map[string]bool{}}
	for _, wf := range pkg.Workflows {
		if !wf.Directive.Endpoint {
			continue
		}
		op, err := w.operation(wf)
		if err != nil {
			return fmt.Errorf("%s: openapi: %w", wf.Func, err)
		}
		wf.Operation = op
	}
	if w.err != nil {
		return w.err
	}
	if len(w.components) > 0 {
		pkg.Schemas = w.components
	}
	return nil
}

// schemaWriter describes Go types as JSON Schema (OpenAPI 3.1).
type schemaWriter struct {
	components map[string]string // compact JSON by type
	building   map[string]bool   // types being described (recursion)
	err        error
}

type object = openapi.Object

func obj(kv ...any) *object { return openapi.NewObject(kv...) }

const (
	contentJSON = "application/json"
	contentForm = "application/x-www-form-urlencoded"
	contentAny  = "*/*"
)

func (w *schemaWriter) operation(wf *Workflow) (string, error) {
	op := obj()
	if params := w.parameters(wf); len(params) > 0 {
		op.Set("parameters", params)
	}
	if body := w.requestBody(wf); body != nil {
		op.Set("requestBody", body)
	}
	if wf.Mode != workflow.Async { // the answer of an async call is 202, which openapi adds
		op.Set("responses", w.responses(wf))
	}
	return openapi.Compact(op)
}

// parameters are the scalar parameters (query) and the query and header
// fields of the body struct, in the order of the signature and the fields.
func (w *schemaWriter) parameters(wf *Workflow) []any {
	var out []any
	for _, p := range wf.Params {
		if p.Kind != ParamScalar {
			continue
		}
		param := obj("name", p.Query, "in", "query")
		if p.Required {
			param.Set("required", true)
		}
		param.Set("schema", textSchema(p.Scalar))
		out = append(out, param)
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
		param := obj("name", f.Name, "in", in)
		if f.Doc != "" {
			param.Set("description", f.Doc)
		}
		if f.Required {
			param.Set("required", true)
		}
		if f.Deprecated {
			param.Set("deprecated", true)
		}
		schema := textSchema(f.Shape.Scalar)
		applyRules(schema, f, false)
		param.Set("schema", schema)
		out = append(out, param)
	}
	return out
}

// requestBody describes the body a workflow reads: its body parameter as
// JSON (and as a form where the type can come from one), the raw bytes, or
// the scalar parameters a JSON object or form may carry instead of the query.
func (w *schemaWriter) requestBody(wf *Workflow) *object {
	if methods := wf.Directive.Methods; len(methods) == 1 && methods[0] == "GET" {
		return nil // no body for clients to send
	}
	content := obj()
	required := false
	switch {
	case wf.BodyParam != nil && wf.BodyParam.Shape.Kind == ShapeRaw:
		if isNamed(wf.BodyParam.Type, "encoding/json", "RawMessage") {
			content.Set(contentJSON, obj("schema", obj()))
		} else {
			content.Set(contentAny, obj("schema", obj("type", "string", "format", "binary")))
		}
	case wf.BodyParam != nil:
		sh := wf.BodyParam.Shape
		if !sh.bodyFields() {
			return nil // every field comes from the query or headers
		}
		required = wf.BodyParam.Required
		content.Set(contentJSON, obj("schema", w.bodySchema(sh)))
		if form := w.formSchema(sh); form != nil {
			content.Set(contentForm, obj("schema", form))
		}
	case wf.Body == workflow.BodyRaw: // *bifrost.Request: any body, as bytes
		content.Set(contentAny, obj("schema", obj("type", "string", "format", "binary")))
	case wf.Body == workflow.BodyDecoded: // scalars may come from a body object
		props := obj()
		for _, p := range wf.Params {
			if p.Kind == ParamScalar {
				props.Set(p.Query, textSchema(p.Scalar))
			}
		}
		schema := obj("type", "object", "description", "The parameters, as members instead of the query.", "properties", props)
		content.Set(contentJSON, obj("schema", schema))
		content.Set(contentForm, obj("schema", schema.Clone()))
	default:
		return nil
	}
	body := obj()
	if required {
		body.Set("required", true)
	}
	body.Set("content", content)
	return body
}

// bodySchema is the JSON schema of a body parameter: a struct with query or
// header fields is described without them, inline.
func (w *schemaWriter) bodySchema(sh *Shape) *object {
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
func (w *schemaWriter) formSchema(sh *Shape) *object {
	if sh.Kind == ShapePointer {
		sh = sh.Elem
	}
	switch sh.Kind {
	case ShapeAny:
		return obj("type", "object", "additionalProperties", obj("type", "string"))
	case ShapeMap:
		if i, ok := sh.Elem.Type.Underlying().(*types.Interface); ok && i.Empty() {
			return obj("type", "object", "additionalProperties", obj("type", "string"))
		}
		return nil
	case ShapeStruct:
	default:
		return nil
	}
	props := obj()
	var required []any
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
		schema := textSchema(sc)
		applyRules(schema, f, false)
		describe(schema, f)
		props.Set(f.Name, schema)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	if props.Len() == 0 {
		return nil
	}
	out := obj("type", "object", "properties", props)
	if len(required) > 0 {
		out.Set("required", required)
	}
	return out
}

// responses are the answers of a sync workflow's result.
func (w *schemaWriter) responses(wf *Workflow) *object {
	jsonContent := func() *object {
		schema := obj()
		if wf.Result.Shape != nil {
			schema = w.schema(wf.Result.Shape)
		}
		return obj(contentJSON, obj("schema", schema))
	}
	switch wf.Result.Kind {
	case ResultError:
		return obj("204", obj("description", "Done: the workflow returned no error."))
	case ResultValue:
		return obj("200", obj("description", "The workflow's result.", "content", jsonContent()))
	case ResultStatus:
		return obj("default", obj("description", "The workflow's result, with the status it chose, or a problem.", "content", jsonContent()))
	default: // ResultResponse
		return obj("default", obj("description", "The workflow's own response: the status, headers and body it chose.",
			"content", obj(contentAny, obj("schema", obj()))))
	}
}

// schema describes a shape as its JSON form.
func (w *schemaWriter) schema(sh *Shape) *object {
	switch sh.Kind {
	case ShapeScalar:
		return jsonScalar(sh)
	case ShapePointer:
		return w.schema(sh.Elem)
	case ShapeSlice:
		return obj("type", "array", "items", w.schema(sh.Elem))
	case ShapeMap:
		return obj("type", "object", "additionalProperties", w.schema(sh.Elem))
	case ShapeStruct:
		return w.structRef(sh.Struct)
	}
	return obj() // any value
}

// structRef is a reference to a named struct, described once as a
// component; an anonymous struct is described inline.
func (w *schemaWriter) structRef(st *Struct) *object {
	named, ok := types.Unalias(st.Type).(*types.Named)
	if !ok {
		return w.object(st, "")
	}
	id := types.TypeString(named, nil)
	if _, done := w.components[id]; !done && !w.building[id] {
		w.building[id] = true
		text, err := openapi.Compact(w.object(st, st.Doc))
		if err != nil && w.err == nil {
			w.err = err
		}
		w.components[id] = text
		delete(w.building, id)
	}
	return obj("$ref", id)
}

// object describes a struct's JSON members (its body fields).
func (w *schemaWriter) object(st *Struct, doc string) *object {
	out := obj("type", "object")
	if doc != "" {
		out.Set("description", doc)
	}
	props := obj()
	var required []any
	for _, f := range st.Fields {
		if f.Source != FromBody {
			continue
		}
		props.Set(f.Name, w.field(f))
		if f.Required {
			required = append(required, f.Name)
		}
	}
	if props.Len() > 0 {
		out.Set("properties", props)
	}
	if len(required) > 0 {
		out.Set("required", required)
	}
	return out
}

// field describes one member: its type, its constraint tags, null for a
// pointer encoding/json writes as null (no omitempty), its doc comment.
func (w *schemaWriter) field(f *Field) *object {
	sh := f.Shape
	nullable := sh.Kind == ShapePointer && !f.OmitZero
	if sh.Kind == ShapePointer {
		sh = sh.Elem
	}
	schema := w.schema(sh)
	applyRules(schema, f, nullable)
	if nullable {
		schema = orNull(schema)
	}
	describe(schema, f)
	return schema
}

// describe adds a field's doc comment and deprecation to its schema.
func describe(schema *object, f *Field) {
	if f.Doc != "" {
		schema.Set("description", f.Doc)
	}
	if f.Deprecated {
		schema.Set("deprecated", true)
	}
}

// orNull lets a schema be null too: type [T, "null"], or oneOf with
// {type: "null"} for a reference.
func orNull(s *object) *object {
	if ref, ok := s.Get("$ref"); ok {
		out := obj("oneOf", []any{obj("$ref", ref), obj("type", "null")})
		for _, k := range s.Keys() {
			if k != "$ref" {
				v, _ := s.Get(k)
				out.Set(k, v)
			}
		}
		return out
	}
	if t, ok := s.Get("type"); ok {
		if name, ok := t.(string); ok {
			s.Set("type", []any{name, "null"})
		}
	}
	return s // {} is any value, null included
}

// applyRules adds a field's constraint tags to its schema: the same checks
// the generated decoder makes.
func applyRules(s *object, f *Field, nullable bool) {
	r := f.Rules
	if r.Minimum != nil {
		s.Set("minimum", jsonNumber(*r.Minimum))
	}
	if r.Maximum != nil {
		s.Set("maximum", jsonNumber(*r.Maximum))
	}
	collection := s.Object("items") != nil || s.Has("additionalProperties")
	lengthKeys := [2]string{"minLength", "maxLength"}
	if collection {
		lengthKeys = [2]string{"minItems", "maxItems"}
		if s.Has("additionalProperties") {
			lengthKeys = [2]string{"minProperties", "maxProperties"}
		}
	}
	if r.MinLength != nil {
		s.Set(lengthKeys[0], *r.MinLength)
	}
	if r.MaxLength != nil {
		s.Set(lengthKeys[1], *r.MaxLength)
	}
	if r.Pattern != "" {
		s.Set("pattern", r.Pattern)
	}
	if len(r.Enum) > 0 {
		t, _ := s.Get("type")
		var values []any
		for _, v := range r.Enum {
			if t == "string" {
				values = append(values, v)
			} else {
				values = append(values, json.Number(v))
			}
		}
		if nullable {
			values = append(values, nil)
		}
		s.Set("enum", values)
	}
	if r.Format != "" {
		s.Set("format", r.Format)
	}
}

// jsonNumber writes a float as a JSON number, integers without a fraction.
func jsonNumber(f float64) json.Number {
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// jsonScalar describes a scalar as encoding/json writes it.
func jsonScalar(sh *Shape) *object {
	if sh.Scalar == nil { // []byte
		return obj("type", "string", "format", "byte", "contentEncoding", "base64")
	}
	switch sh.Scalar.Parse {
	case ParseTime:
		return obj("type", "string", "format", "date-time")
	case ParseDuration:
		return obj("type", "integer", "format", "int64", "description", "A duration in nanoseconds.")
	case ParseText:
		return obj("type", "string")
	}
	return basicSchema(sh.Scalar.Elem)
}

// textSchema describes a scalar read from text: a query parameter, a header,
// a form field, a top-level body member standing for a parameter.
func textSchema(sc *Scalar) *object {
	var elem *object
	switch sc.Parse {
	case ParseTime:
		elem = obj("type", "string", "format", "date-time")
	case ParseDuration:
		elem = obj("type", "string", "description", "A duration such as 300ms, 1m30s or 2h.")
	case ParseText:
		elem = obj("type", "string")
	default:
		elem = basicSchema(sc.Elem)
	}
	if sc.Slice {
		return obj("type", "array", "items", elem)
	}
	return elem
}

// basicSchema describes a boolean, number or string type, integers with the
// bounds of their size (the decoder refuses what overflows).
func basicSchema(t types.Type) *object {
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		return obj("type", "string")
	}
	switch b.Kind() {
	case types.Bool:
		return obj("type", "boolean")
	case types.Int8:
		return obj("type", "integer", "format", "int32", "minimum", -128, "maximum", 127)
	case types.Int16:
		return obj("type", "integer", "format", "int32", "minimum", -32768, "maximum", 32767)
	case types.Int32:
		return obj("type", "integer", "format", "int32")
	case types.Int, types.Int64:
		return obj("type", "integer", "format", "int64")
	case types.Uint8:
		return obj("type", "integer", "format", "int32", "minimum", 0, "maximum", 255)
	case types.Uint16:
		return obj("type", "integer", "format", "int32", "minimum", 0, "maximum", 65535)
	case types.Uint32:
		return obj("type", "integer", "format", "int64", "minimum", 0, "maximum", int64(4294967295))
	case types.Uint, types.Uint64, types.Uintptr:
		return obj("type", "integer", "minimum", 0)
	case types.Float32:
		return obj("type", "number", "format", "float")
	case types.Float64:
		return obj("type", "number", "format", "double")
	}
	return obj("type", "string")
}
