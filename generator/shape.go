package generator

import (
	"fmt"
	"go/token"
	"go/types"
	"math"
	"net/textproto"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bifrost-go/bifrost/workflow"
)

// bodyShape describes t as a body parameter, or returns nil when t cannot be
// one (SPEC §3: a struct, *struct, map, slice of structs or maps, any,
// json.RawMessage or []byte).
func (a *analyzer) bodyShape(t types.Type, pos token.Position) *Shape {
	switch u := types.Unalias(t).Underlying().(type) {
	case *types.Struct:
		return a.shapeOf(t, pos)
	case *types.Pointer:
		if _, ok := u.Elem().Underlying().(*types.Struct); ok {
			return a.shapeOf(t, pos)
		}
	case *types.Map:
		if b, ok := u.Key().Underlying().(*types.Basic); ok && b.Kind() == types.String {
			return a.shapeOf(t, pos)
		}
	case *types.Slice:
		if isRawBytes(t) {
			return &Shape{Kind: ShapeRaw, Type: t, JSON: KindAny}
		}
		switch u.Elem().Underlying().(type) {
		case *types.Struct, *types.Map:
			return a.shapeOf(t, pos)
		case *types.Pointer:
			if _, ok := u.Elem().Underlying().(*types.Pointer).Elem().Underlying().(*types.Struct); ok {
				return a.shapeOf(t, pos)
			}
		}
	case *types.Interface:
		if u.Empty() {
			return &Shape{Kind: ShapeAny, Type: t, JSON: KindAny}
		}
	}
	return nil
}

func isRawBytes(t types.Type) bool {
	if isNamed(t, "encoding/json", "RawMessage") {
		return true
	}
	s, ok := types.Unalias(t).(*types.Slice)
	if !ok {
		return false
	}
	b, ok := s.Elem().(*types.Basic)
	return ok && b.Kind() == types.Byte
}

// shapeOf describes any type that appears in a body, for the walk and the schema.
func (a *analyzer) shapeOf(t types.Type, pos token.Position) *Shape {
	// A type with its own UnmarshalJSON decides its JSON form; time.Time's is
	// an RFC 3339 string, which the walk can check.
	custom := implements(types.NewPointer(t), "encoding/json", "Unmarshaler", "UnmarshalJSON") && !isNamed(t, "time", "Time")
	if a.output {
		custom = implements(types.NewPointer(t), "encoding/json", "Marshaler", "MarshalJSON") && !isNamed(t, "time", "Time")
	}
	if custom || isNamed(t, "encoding/json", "RawMessage") {
		return &Shape{Kind: ShapeAny, Type: t, JSON: KindAny}
	}
	if _, isPtr := types.Unalias(t).(*types.Pointer); !isPtr {
		if s := scalarElem(t); s != nil {
			kind := s.JSONKind()
			if s.Parse == ParseDuration { // encoding/json writes a Duration as nanoseconds
				kind = KindInteger
			}
			return &Shape{Kind: ShapeScalar, Type: t, JSON: kind, Scalar: s}
		}
	}
	switch u := types.Unalias(t).Underlying().(type) {
	case *types.Pointer:
		return &Shape{Kind: ShapePointer, Type: t, Elem: a.shapeOf(u.Elem(), pos)}
	case *types.Slice:
		if isRawBytes(t) { // encoding/json: base64 text
			return &Shape{Kind: ShapeScalar, Type: t, JSON: KindString}
		}
		return &Shape{Kind: ShapeSlice, Type: t, JSON: KindArray, Elem: a.shapeOf(u.Elem(), pos)}
	case *types.Array:
		return &Shape{Kind: ShapeSlice, Type: t, JSON: KindArray, Elem: a.shapeOf(u.Elem(), pos)}
	case *types.Map:
		return &Shape{Kind: ShapeMap, Type: t, JSON: KindObject, Elem: a.shapeOf(u.Elem(), pos)}
	case *types.Struct:
		return &Shape{Kind: ShapeStruct, Type: t, JSON: KindObject, Struct: a.structOf(t, u, pos)}
	}
	return &Shape{Kind: ShapeAny, Type: t, JSON: KindAny}
}

// structOf describes a struct type once; a recursive type finds itself in
// the cache before its fields are described.
func (a *analyzer) structOf(t types.Type, u *types.Struct, pos token.Position) *Struct {
	key := types.TypeString(t, nil)
	if s, ok := a.structs[key]; ok {
		return s
	}
	s := &Struct{Type: t, Validate: implements(types.NewPointer(t), "", "", "Validate")}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		s.Doc = a.docs.lookup(a.pos(n.Obj().Pos()), n.Obj().Name())
	}
	a.structs[key] = s
	a.fields(s, u, nil, false, false, pos)
	a.checkFieldNames(s)
	return s
}

// checkFieldNames reports two fields of a struct read from the same body
// member, query parameter or header: one value would fill both (or, for
// encoding/json, neither).
func (a *analyzer) checkFieldNames(s *Struct) {
	first := map[string]*Field{}
	for _, f := range s.Fields {
		where, name := [...]string{"body member", "query parameter", "header"}[f.Source], f.Name
		if f.Source == FromHeader {
			name = textproto.CanonicalMIMEHeaderKey(name)
		}
		key := where + " " + name
		if prev, ok := first[key]; ok {
			a.diags.Add(f.Pos, "give one of them another "+[...]string{"json", "query", "header"}[f.Source]+" tag",
				"field %s: %s %q is also field %s's", strings.Join(f.GoPath, "."), where, f.Name, strings.Join(prev.GoPath, "."))
			continue
		}
		first[key] = f
	}
}

// fields adds the JSON members of u to s, flattening embedded structs as
// encoding/json does. optional marks the members of an embedded pointer
// (results only): absent when it is nil.
func (a *analyzer) fields(s *Struct, u *types.Struct, path []string, embedded, optional bool, pos token.Position) {
	for i := 0; i < u.NumFields(); i++ {
		f := u.Field(i)
		tag := reflect.StructTag(u.Tag(i))
		if jsonSkipped(u.Tag(i)) {
			continue
		}
		name, opts := jsonTag(u.Tag(i))
		fpos := a.pos(f.Pos())
		goPath := append(append([]string(nil), path...), f.Name())
		if f.Embedded() && name == "" {
			ft := types.Unalias(f.Type())
			if p, ok := ft.(*types.Pointer); ok {
				if st, isStruct := p.Elem().Underlying().(*types.Struct); isStruct {
					if a.output {
						a.fields(s, st, goPath, true, true, fpos)
						continue
					}
					a.diags.Add(fpos, "embed the struct by value", "embedded pointer %s is not supported in a body", f.Name())
					continue
				}
			}
			if st, ok := ft.Underlying().(*types.Struct); ok && scalarElem(ft) == nil {
				a.fields(s, st, goPath, true, optional, fpos)
				continue
			}
		}
		if !f.Exported() {
			continue
		}
		field := &Field{GoPath: goPath, Name: name, Pos: fpos}
		if field.Name == "" {
			field.Name = f.Name()
		}
		field.Doc = a.docs.lookup(fpos, f.Name())
		field.Deprecated = deprecated(field.Doc)
		field.OmitZero = strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		_, isPtr := types.Unalias(f.Type()).(*types.Pointer)
		field.Required = !isPtr && !field.OmitZero && !optional
		// A result is written by encoding/json: query and header fields too.
		if q, ok := tag.Lookup("query"); ok && !a.output {
			field.Source, field.Name = FromQuery, q
		} else if h, ok := tag.Lookup("header"); ok && !a.output {
			field.Source, field.Name = FromHeader, h
		}
		if field.Source != FromBody {
			if embedded {
				a.diags.Add(fpos, "move the field to the parameter's own struct", "query and header tags apply only to fields of the parameter's struct, not embedded ones")
				continue
			}
			sc := scalarOf(f.Type())
			if sc == nil {
				a.diags.Add(fpos, "a query or header value is text: use string, bool, a number, time.Time, time.Duration, an encoding.TextUnmarshaler, a slice of one or a pointer to one",
					"field %s: a query or header value must be a scalar, not %s", f.Name(), typeString(f.Type(), a.pkg.Types))
				continue
			}
			field.Shape = &Shape{Kind: ShapeScalar, Type: f.Type(), JSON: sc.JSONKind(), Scalar: sc}
			field.Required = false // query and header values are optional unless a rule says otherwise
		} else {
			field.Shape = a.shapeOf(f.Type(), fpos)
		}
		switch field.Shape.Kind {
		case ShapePointer, ShapeSlice, ShapeMap, ShapeAny:
			field.Nullable = true
		}
		a.rules(field, tag, f.Type())
		if v, ok := tag.Lookup("default"); ok && !a.output {
			a.fieldDefault(field, v)
		}
		s.Fields = append(s.Fields, field)
	}
}

// formScalar is how a field is read from text (a form, the query, a
// header), or nil when it cannot be: it must be a scalar or a slice of them.
func formScalar(sh *Shape) *Scalar {
	switch {
	case sh.Scalar != nil:
		return sh.Scalar
	case sh.Kind == ShapeSlice && sh.Elem.Scalar != nil && !sh.Elem.Scalar.Slice && isSlice(sh.Type):
		return &Scalar{Elem: sh.Elem.Scalar.Elem, Parse: sh.Elem.Scalar.Parse, Slice: true}
	}
	return nil
}

// isSlice reports whether t is a slice (an array is not: a form cannot fill it).
func isSlice(t types.Type) bool {
	_, ok := t.Underlying().(*types.Slice)
	return ok
}

// jsonSkipped reports whether encoding/json skips a field: json:"-" exactly
// (json:"-," is a member named "-").
func jsonSkipped(tag string) bool { return reflect.StructTag(tag).Get("json") == "-" }

// jsonTag splits a json struct tag into its name and options.
func jsonTag(tag string) (name, opts string) {
	v := reflect.StructTag(tag).Get("json")
	name, opts, _ = strings.Cut(v, ",")
	return name, opts
}

// rules parses the constraint tags of a field and checks that they fit its type.
func (a *analyzer) rules(f *Field, tag reflect.StructTag, t types.Type) {
	kind := ruleKind(t)
	for _, r := range ruleTags {
		v, ok := tag.Lookup(r.name)
		if !ok {
			continue
		}
		if why := r.set(f, v, kind); why != "" {
			a.diags.Add(f.Pos, why, "field %s: bad %s tag %q", strings.Join(f.GoPath, "."), r.name, v)
		}
	}
}

// ruleKind is what the constraint tags see of a field's type: "string",
// "number", "collection" (slices, arrays, maps) or "other".
func ruleKind(t types.Type) string {
	base := types.Unalias(t)
	if p, ok := base.(*types.Pointer); ok {
		base = p.Elem()
	}
	switch u := base.Underlying().(type) {
	case *types.Slice, *types.Array, *types.Map:
		return "collection"
	case *types.Basic:
		switch {
		case u.Info()&types.IsString != 0:
			return "string"
		case u.Info()&types.IsNumeric != 0:
			return "number"
		}
	}
	return "other"
}

// ruleTags are the constraint tags: each stores its parsed value in the
// field's rules, or says why the value does not fit the field.
var ruleTags = []struct {
	name string
	set  func(f *Field, v, kind string) (why string)
}{
	{"minimum", func(f *Field, v, kind string) string { return setBound(f, "minimum", v, kind, &f.Rules.Minimum) }},
	{"maximum", func(f *Field, v, kind string) string { return setBound(f, "maximum", v, kind, &f.Rules.Maximum) }},
	{"minLength", func(f *Field, v, kind string) string { return setLength("minLength", v, kind, &f.Rules.MinLength) }},
	{"maxLength", func(f *Field, v, kind string) string { return setLength("maxLength", v, kind, &f.Rules.MaxLength) }},
	{"pattern", setPattern},
	{"enum", setEnum},
	{"format", func(f *Field, v, kind string) string {
		if !slices.Contains(workflow.Formats, v) || kind != "string" {
			return "format applies to string fields and is one of: " + strings.Join(workflow.Formats, ", ")
		}
		f.Rules.Format = v
		return ""
	}},
}

func setBound(f *Field, name, v, kind string, dst **float64) string {
	n, err := strconv.ParseFloat(v, 64)
	switch {
	case kind != "number":
		return name + " applies to number fields"
	case err != nil:
		return name + " takes a number"
	case f.Shape.JSON == KindInteger && n != math.Trunc(n):
		return name + " of an integer field takes an integer"
	}
	*dst = &n
	return ""
}

func setLength(name, v, kind string, dst **int) string {
	n, err := strconv.Atoi(v)
	switch {
	case kind != "string" && kind != "collection":
		return name + " applies to strings, slices and maps"
	case err != nil || n < 0:
		return name + " takes a non-negative integer"
	}
	*dst = &n
	return ""
}

func setPattern(f *Field, v, kind string) string {
	if _, err := regexp.Compile(v); err != nil {
		return "pattern takes a Go regular expression: " + err.Error()
	}
	if kind != "string" {
		return "pattern applies to string fields"
	}
	f.Rules.Pattern = v
	return ""
}

func setEnum(f *Field, v, kind string) string {
	if kind != "string" && kind != "number" {
		return "enum applies to string and number fields"
	}
	items := strings.Split(v, ",")
	for _, it := range items {
		if it == "" || (kind == "number" && !isInteger(it, f.Shape)) {
			return fmt.Sprintf("enum takes a comma-separated list of values of the field's type; %q is not one", it)
		}
	}
	f.Rules.Enum = items
	return ""
}

// isInteger reports whether s is a value of the numeric shape: any number
// for a float field, an integer for an integer field.
func isInteger(s string, sh *Shape) bool {
	if sh != nil && sh.JSON == KindNumber {
		_, err := strconv.ParseFloat(s, 64)
		return err == nil
	}
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}
