package generator

import (
	"go/ast"
	"go/doc"
	"go/token"
	"go/types"
	"strings"
	"time"
	"unicode"

	"github.com/bifrost-go/bifrost/workflow"
	"golang.org/x/tools/go/packages"
)

// Default timeouts of SPEC §2.
const (
	defaultSyncTimeout  = 60 * time.Second
	defaultAsyncTimeout = 15 * time.Minute
)

const (
	bifrostPath = "github.com/bifrost-go/bifrost"
)

// signatureHint lists what a workflow may take and return; every signature
// diagnostic carries it.
const resultHint = "a workflow returns error, (T, error), (T, int, error) or (*bifrost.Response, error)"

const signatureHint = `parameters: context.Context, *bifrost.Request, bifrost.Headers or http.Header,
one body (a struct, *struct, map, slice of structs or maps, any, json.RawMessage or []byte),
and scalars read from the query (string, bool, ints, uints, floats, time.Time, time.Duration,
an encoding.TextUnmarshaler, a named type of one of those, a slice of them, a pointer to one);
results: error | (T, error) | (T, int, error) | (*bifrost.Response, error)`

// analyzer turns the marked functions of one package into model workflows.
type analyzer struct {
	pkg     *packages.Package
	fset    *token.FileSet
	diags   *Diagnostics
	structs map[string]*Struct // by type string, so each struct is described once
	docs    *docIndex

	// output is set while describing a result type: it is seen as
	// encoding/json writes it (query and header tags mean nothing there,
	// embedded pointers are flattened) and nothing is reported.
	output  bool
	outputs map[string]*Struct // the structs of result types
}

// analyzePackage checks every marked function of pkg and returns the package
// model. Problems go to diags.
func analyzePackage(pkg *packages.Package, fset *token.FileSet, marked []Marked, docs *docIndex, diags *Diagnostics) *Package {
	a := &analyzer{pkg: pkg, fset: fset, diags: diags, structs: map[string]*Struct{}, docs: docs, outputs: map[string]*Struct{}}
	out := &Package{Path: pkg.PkgPath, Name: pkg.Name, Types: pkg.Types}
	if len(pkg.GoFiles) > 0 {
		out.Dir = dirOf(pkg.GoFiles[0])
	}
	for _, m := range marked {
		if wf := a.workflow(m); wf != nil {
			out.Workflows = append(out.Workflows, wf)
		}
	}
	return out
}

func (a *analyzer) pos(p token.Pos) token.Position { return a.fset.Position(p) }

func (a *analyzer) workflow(m Marked) *Workflow {
	d := m.Directive
	// The function's object is looked up in the package scope: recording
	// types.Info for every identifier of every package only to find it cost
	// a fifth of generate's peak memory (issue #14).
	var sig *types.Signature
	if obj, ok := a.pkg.Types.Scope().Lookup(m.Func.Name.Name).(*types.Func); ok && obj.Pos() == m.Func.Name.Pos() {
		sig = obj.Type().(*types.Signature)
	} else if m.Func.Name.Name == "init" {
		// Not in the scope, and in a package that compiles it is func().
		sig = types.NewSignatureType(nil, nil, nil, nil, nil, false)
	} else {
		return nil
	}
	wf := &Workflow{Spec: d.Spec, Pos: a.pos(m.Func.Name.Pos()), Directive: d}
	wf.Package, wf.Func = a.pkg.PkgPath, m.Func.Name.Name
	if wf.Name == "" {
		wf.Name = SnakeCase(wf.Func)
	}
	if wf.Mode == "" {
		wf.Mode = workflow.Sync
	}
	if wf.Timeout == 0 {
		wf.Timeout = defaultSyncTimeout
		if wf.Mode == workflow.Async {
			wf.Timeout = defaultAsyncTimeout
		}
	}
	if !wf.Endpoint { // methods and tags describe a route
		wf.Methods, wf.Tags = nil, nil
	} else if len(wf.Tags) == 0 {
		wf.Tags = []string{a.pkg.Name}
	}
	wf.Summary, wf.Description, wf.Deprecated = docParts(m.Func.Doc)

	before := len(*a.diags)
	a.params(wf, m.Func, sig)
	a.results(wf, m.Func, sig)
	a.checkRequired(wf)
	a.checkDefaults(wf)
	a.checkSchedule(wf)
	if len(*a.diags) > before {
		return nil
	}
	return wf
}

// docParts splits a doc comment into the OpenAPI summary (first sentence),
// description (the rest) and whether a Deprecated: paragraph marks it.
func docParts(group *ast.CommentGroup) (summary, description string, deprecated bool) {
	if group == nil {
		return "", "", false
	}
	text := strings.TrimSpace(group.Text()) // Text drops //bifrost: directive lines
	summary = new(doc.Package).Synopsis(text)
	rest := strings.TrimSpace(strings.TrimPrefix(strings.Join(strings.Fields(text), " "), summary))
	if rest != "" {
		// Keep the paragraphs of the original text after the first sentence.
		if i := strings.Index(text, strings.Fields(rest)[0]); i >= 0 && i < len(text) {
			rest = strings.TrimSpace(text[i:])
		}
	}
	for _, para := range strings.Split(text, "\n\n") {
		if strings.HasPrefix(strings.TrimSpace(para), "Deprecated:") {
			deprecated = true
		}
	}
	return summary, rest, deprecated
}

func (a *analyzer) params(wf *Workflow, fn *ast.FuncDecl, sig *types.Signature) {
	names := paramIdents(fn)
	used := map[string]bool{}
	for i := 0; i < sig.Params().Len(); i++ {
		v := sig.Params().At(i)
		p := &Param{Name: v.Name(), Type: v.Type(), Pos: a.pos(names[i].Pos())}
		if sig.Variadic() && i == sig.Params().Len()-1 {
			a.diags.Add(p.Pos, signatureHint, "variadic parameter %q is not supported", p.Name)
			continue
		}
		switch t := v.Type(); {
		case isNamed(t, "context", "Context"):
			p.Kind = ParamContext
		case isPointerTo(t, bifrostPath, "Request"):
			p.Kind = ParamRequest
			p.Field = "Request"
		case isNamed(t, "net/http", "Header"):
			p.Kind = ParamHeaders
			p.Field = "Header"
		default:
			if s := scalarOf(t); s != nil {
				p.Kind = ParamScalar
				p.Scalar = s
				p.Query = SnakeCase(p.Name)
				if p.Name == "" || p.Name == "_" {
					a.diags.Add(p.Pos, "name it: the name is the query parameter's", "scalar parameter of type %s needs a name", typeString(t, a.pkg.Types))
					continue
				}
			} else if shape := a.bodyShape(t, p.Pos); shape != nil {
				if why := notJSON(t, nil); why != "" {
					a.diags.Add(p.Pos, "a JSON body cannot carry it: change the type, or tag the field json:\"-\"",
						"%s: %s", paramLabel(p), why)
					continue
				}
				p.Kind = ParamBody
				p.Shape = shape
				if wf.BodyParam != nil {
					a.diags.Add(p.Pos, "take one body parameter; use a struct to receive several values",
						"%s: a workflow takes at most one body parameter (%s is already the body)", paramLabel(p), wf.BodyParam.Name)
					continue
				}
				wf.BodyParam = p
				p.Required = shape.Kind == ShapeStruct
			} else {
				a.diags.Add(p.Pos, signatureHint, "%s: type %s is not a supported parameter type", paramLabel(p), typeString(t, a.pkg.Types))
				continue
			}
		}
		if p.Kind != ParamContext {
			p.Field = uniqueField(exported(cmpOr(p.Field, p.Name, "Arg")), used)
		}
		wf.Params = append(wf.Params, p)
	}
	if wf.BodyParam != nil {
		methods := wf.Directive.Methods
		if wf.Directive.Endpoint && len(methods) == 1 && methods[0] == "GET" && wf.BodyParam.Shape.bodyFields() {
			a.diags.Add(wf.BodyParam.Pos, "allow a method with a body (methods=GET,POST) or read the values from the query",
				"%s: a GET-only endpoint cannot take a body parameter", paramLabel(wf.BodyParam))
		}
	}
	a.checkParamNames(wf)
	a.checkBodyDefaults(wf)
	wf.Body = bodyUse(wf)
	if wf.BodyParam != nil {
		if st := structOfShape(wf.BodyParam.Shape); st != nil {
			for _, f := range st.Fields {
				a.nestedParams(f.Shape, map[*Struct]bool{st: true})
			}
		}
	}
}

// checkParamNames reports two inputs read from the same query parameter: two
// scalar parameters whose names snake-case alike (userID, userId), or one
// and a query field of the body struct.
func (a *analyzer) checkParamNames(wf *Workflow) {
	first := map[string]string{}
	take := func(name, what string, pos token.Position) {
		if prev, ok := first[name]; ok {
			a.diags.Add(pos, "rename one of them, or give a field another query tag",
				"%s reads query parameter %q, as %s does", what, name, prev)
			return
		}
		first[name] = what
	}
	for _, p := range wf.Params {
		if p.Kind == ParamScalar {
			take(p.Query, "parameter "+p.Name, p.Pos)
		}
	}
	if wf.BodyParam == nil {
		return
	}
	if st := structOfShape(wf.BodyParam.Shape); st != nil {
		for _, f := range st.Fields {
			if f.Source == FromQuery {
				take(f.Name, "field "+strings.Join(f.GoPath, "."), f.Pos)
			}
		}
	}
}

// nestedParams reports query and header tags below the parameter's own
// struct: only its fields can come from the query or headers.
func (a *analyzer) nestedParams(sh *Shape, seen map[*Struct]bool) {
	if sh == nil {
		return
	}
	if sh.Kind == ShapeStruct && !seen[sh.Struct] {
		seen[sh.Struct] = true
		for _, f := range sh.Struct.Fields {
			if f.Source != FromBody {
				a.diags.Add(f.Pos, "move the field to the parameter's own struct, or drop the tag",
					"field %s: query and header tags apply only to fields of the parameter's own struct, not of nested ones", strings.Join(f.GoPath, "."))
			}
			if f.Default != nil {
				a.diags.Add(f.Pos, "move the field to the parameter's own struct, or drop the tag",
					"field %s: default tags apply only to fields of the parameter's own struct, not of nested ones", strings.Join(f.GoPath, "."))
			}
			a.nestedParams(f.Shape, seen)
		}
	}
	a.nestedParams(sh.Elem, seen)
}

// bodyUse says which content types the workflow's body decoding accepts.
func bodyUse(wf *Workflow) workflow.BodyUse {
	for _, p := range wf.Params {
		if p.Kind == ParamRequest || (p.Kind == ParamBody && p.Shape.Kind == ShapeRaw && !isNamed(p.Type, "encoding/json", "RawMessage")) {
			return workflow.BodyRaw
		}
	}
	if wf.BodyParam != nil {
		if wf.BodyParam.Shape.bodyFields() {
			return workflow.BodyDecoded
		}
		return workflow.BodyIgnored
	}
	for _, p := range wf.Params {
		if p.Kind == ParamScalar { // the body fallback of SPEC §3
			return workflow.BodyDecoded
		}
	}
	return workflow.BodyIgnored
}

// bodyFields reports whether a body shape reads the body at all: a struct
// whose fields all come from the query or headers does not.
func (s *Shape) bodyFields() bool {
	if s.Kind != ShapeStruct {
		return true
	}
	for _, f := range s.Struct.Fields {
		if f.Source == FromBody {
			return true
		}
	}
	return false
}

// checkSchedule refuses schedule= on a workflow that takes input: a tick
// has no request to read a body, a query or headers from.
func (a *analyzer) checkSchedule(wf *Workflow) {
	if wf.Schedule == "" {
		return
	}
	for _, p := range wf.Params {
		if p.Kind != ParamContext {
			a.diags.Add(p.Pos, "a scheduled workflow takes only a context.Context: read settings with config.Get, or remove schedule=",
				"scheduled workflow %s cannot take parameter %q: a tick has no request to read it from", wf.Func, p.Name)
		}
	}
}

func (a *analyzer) checkRequired(wf *Workflow) {
	offset := len("required=")
	for _, name := range wf.Directive.Required {
		pos := wf.Directive.OptionPos["required"]
		pos.Column += offset // at the item itself
		offset += len(name) + 1
		if p := a.scalarParam(wf, "required", name, pos,
			"required= applies to scalar (query) parameters; a body struct states its required fields itself"); p != nil {
			p.Required = true
		}
	}
}

// scalarParam is the scalar parameter an option's item names, or nil after
// reporting at pos that it names none (hint says what the option is for).
func (a *analyzer) scalarParam(wf *Workflow, option, name string, pos token.Position, hint string) *Param {
	for _, p := range wf.Params {
		if p.Name != name {
			continue
		}
		if p.Kind != ParamScalar {
			a.diags.Add(pos, hint, "%s names %q, which is not a scalar parameter", option, name)
			return nil
		}
		return p
	}
	a.diags.Add(pos, "name scalar parameters of "+wf.Func+": "+scalarNames(wf),
		"%s names %q, which is not a parameter of %s", option, name, wf.Func)
	return nil
}

func scalarNames(wf *Workflow) string {
	var names []string
	for _, p := range wf.Params {
		if p.Kind == ParamScalar {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

func (a *analyzer) results(wf *Workflow, fn *ast.FuncDecl, sig *types.Signature) {
	res := sig.Results()
	n := res.Len()
	// at is the position of result i, or of the func keyword when there are none.
	at := func(i int) token.Position {
		if fn.Type.Results == nil {
			return a.pos(fn.Type.Func)
		}
		var nodes []ast.Node
		for _, field := range fn.Type.Results.List {
			if len(field.Names) == 0 {
				nodes = append(nodes, field.Type)
			}
			for _, name := range field.Names {
				nodes = append(nodes, name)
			}
		}
		return a.pos(nodes[min(i, len(nodes)-1)].Pos())
	}
	if n == 0 || !isError(res.At(n-1).Type()) {
		a.diags.Add(at(n-1), resultHint, "%s must return an error as its last result", wf.Func)
		return
	}
	pos := at(0)
	switch n {
	case 1:
		wf.Result = Result{Kind: ResultError}
	case 2:
		t := res.At(0).Type()
		if isPointerTo(t, bifrostPath, "Response") {
			wf.Result = Result{Kind: ResultResponse, Type: t}
			return
		}
		wf.Result = Result{Kind: ResultValue, Type: t}
	case 3:
		if b, ok := res.At(1).Type().Underlying().(*types.Basic); !ok || b.Kind() != types.Int {
			a.diags.Add(at(1), resultHint, "the second of three results must be the HTTP status (int), not %s", typeString(res.At(1).Type(), a.pkg.Types))
			return
		}
		wf.Result = Result{Kind: ResultStatus, Type: res.At(0).Type()}
	default:
		a.diags.Add(at(3), resultHint, "%s returns %d results; a workflow returns at most 3", wf.Func, n)
		return
	}
	if wf.Result.Type == nil {
		return
	}
	if why := notJSON(wf.Result.Type, nil); why != "" {
		a.diags.Add(pos, "return a type that encoding/json can encode, or (*bifrost.Response, error) for other bodies",
			"result type %s cannot be encoded as JSON: %s", typeString(wf.Result.Type, a.pkg.Types), why)
		return
	}
	wf.Result.Shape = a.resultShape(wf.Result.Type, pos)
}

// resultShape describes a result type as encoding/json writes it, for the
// OpenAPI schema of the response. It reports nothing: what a body may not
// be, a result may.
func (a *analyzer) resultShape(t types.Type, pos token.Position) *Shape {
	out := &analyzer{pkg: a.pkg, fset: a.fset, diags: &Diagnostics{}, structs: a.outputs, docs: a.docs, output: true}
	return out.shapeOf(t, pos)
}

// notJSON says why encoding/json cannot encode t, or "" when it can.
func notJSON(t types.Type, seen map[types.Type]bool) string {
	if seen == nil {
		seen = map[types.Type]bool{}
	}
	if seen[t] {
		return ""
	}
	seen[t] = true
	if implements(t, "encoding/json", "Marshaler", "MarshalJSON") || implements(t, "encoding", "TextMarshaler", "MarshalText") {
		return ""
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsComplex != 0:
			return "complex numbers have no JSON form"
		case u.Kind() == types.UnsafePointer:
			return "unsafe.Pointer has no JSON form"
		}
	case *types.Chan:
		return "channels have no JSON form"
	case *types.Signature:
		return "functions have no JSON form"
	case *types.Pointer:
		return notJSON(u.Elem(), seen)
	case *types.Slice:
		return notJSON(u.Elem(), seen)
	case *types.Array:
		return notJSON(u.Elem(), seen)
	case *types.Map:
		k := u.Key()
		if b, ok := k.Underlying().(*types.Basic); !(ok && b.Info()&(types.IsString|types.IsInteger) != 0) && !implements(k, "encoding", "TextMarshaler", "MarshalText") {
			return "map keys must be strings, integers or encoding.TextMarshaler"
		}
		return notJSON(u.Elem(), seen)
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			f := u.Field(i)
			if !f.Exported() && !f.Embedded() {
				continue
			}
			if jsonSkipped(u.Tag(i)) {
				continue
			}
			if why := notJSON(f.Type(), seen); why != "" {
				return "field " + f.Name() + ": " + why
			}
		}
	}
	return ""
}

// scalarOf returns how t is read from text, or nil when t is not a scalar.
func scalarOf(t types.Type) *Scalar {
	switch u := t.(type) {
	case *types.Pointer:
		if s := scalarElem(u.Elem()); s != nil {
			s.Pointer = true
			return s
		}
		return nil
	case *types.Slice:
		if b, ok := u.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
			return nil // []byte is the raw body
		}
		if s := scalarElem(u.Elem()); s != nil {
			s.Slice = true
			return s
		}
		return nil
	}
	return scalarElem(t)
}

func scalarElem(t types.Type) *Scalar {
	s := &Scalar{Elem: t}
	switch {
	case isNamed(t, "time", "Time"):
		s.Parse = ParseTime
		return s
	case isNamed(t, "time", "Duration"):
		s.Parse = ParseDuration
		return s
	case implements(types.NewPointer(t), "encoding", "TextUnmarshaler", "UnmarshalText"):
		if _, isPtr := t.Underlying().(*types.Pointer); isPtr {
			return nil
		}
		s.Parse = ParseText
		return s
	}
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		return nil
	}
	switch {
	case b.Kind() == types.String:
		s.Parse = ParseString
	case b.Kind() == types.Bool:
		s.Parse = ParseBool
	case b.Kind() == types.Uintptr:
		return nil
	case b.Info()&types.IsUnsigned != 0:
		s.Parse = ParseUint
	case b.Info()&types.IsInteger != 0:
		s.Parse = ParseInt
	case b.Info()&types.IsFloat != 0:
		s.Parse = ParseFloat
	default:
		return nil
	}
	return s
}

// paramIdents returns the identifier of each parameter in order (nil for an
// unnamed one; the type's position is used then).
func paramIdents(fn *ast.FuncDecl) []ast.Node {
	var out []ast.Node
	for _, field := range fn.Type.Params.List {
		if len(field.Names) == 0 {
			out = append(out, field.Type)
			continue
		}
		for _, n := range field.Names {
			out = append(out, n)
		}
	}
	return out
}

func paramLabel(p *Param) string {
	if p.Name == "" {
		return "parameter"
	}
	return "parameter " + p.Name
}

func isError(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}

// isNamed reports whether t is the named type path.name.
func isNamed(t types.Type, path, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == path && obj.Name() == name
}

func isPointerTo(t types.Type, path, name string) bool {
	p, ok := types.Unalias(t).(*types.Pointer)
	return ok && isNamed(p.Elem(), path, name)
}

// implements reports whether t has the method of the named interface with the
// standard signature. Looking the method up by name and signature avoids
// needing the interface's package loaded.
func implements(t types.Type, path, iface, method string) bool {
	obj, _, _ := types.LookupFieldOrMethod(t, true, nil, method)
	fn, ok := obj.(*types.Func)
	if !ok {
		return false
	}
	sig := fn.Type().(*types.Signature)
	if _, isPtr := t.(*types.Pointer); !isPtr {
		if recv := sig.Recv(); recv != nil {
			if _, ptrRecv := recv.Type().(*types.Pointer); ptrRecv {
				return false
			}
		}
	}
	switch method {
	case "UnmarshalText", "UnmarshalJSON":
		return sig.Params().Len() == 1 && sig.Results().Len() == 1 && isError(sig.Results().At(0).Type())
	case "MarshalText", "MarshalJSON":
		return sig.Params().Len() == 0 && sig.Results().Len() == 2 && isError(sig.Results().At(1).Type())
	case "Validate":
		return sig.Params().Len() == 0 && sig.Results().Len() == 1 && isError(sig.Results().At(0).Type())
	}
	return false
}

// exported makes a Go identifier exported: payload → Payload.
func exported(s string) string {
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func uniqueField(name string, used map[string]bool) string {
	out := name
	for i := 2; used[out]; i++ {
		out = name + string(rune('0'+i))
	}
	used[out] = true
	return out
}

func cmpOr(values ...string) string {
	for _, v := range values {
		if v != "" && v != "_" {
			return v
		}
	}
	return ""
}

func typeString(t types.Type, local *types.Package) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == local {
			return ""
		}
		return p.Name()
	})
}

func dirOf(file string) string {
	if i := strings.LastIndexAny(file, `/\`); i >= 0 {
		return file[:i]
	}
	return "."
}
