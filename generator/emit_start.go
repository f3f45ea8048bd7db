package generator

import (
	"github.com/dave/jennifer/jen"

	"github.com/bifrost-go/bifrost/workflow"
)

// start writes Start<Func>, the typed enqueue of an async workflow: Go code
// starts it as a call to its endpoint would, with the workflow's own
// parameters (its context aside) and the same checks of the body's rules
// and required members, through a runtime.Client.
func (e *emitter) start(wf *Workflow) {
	if wf.Mode != workflow.Async {
		return
	}
	f := e.file
	name := e.name("Start" + wf.Func)
	taken := map[string]bool{}
	for _, p := range wf.Params {
		taken[p.Name] = p.Kind != ParamContext // Start's own ctx takes its place
	}
	local := func(want, other string) string {
		if taken[want] {
			want = other
		}
		taken[want] = true
		return want
	}
	ctx, client, opts, args := local("ctx", "startCtx"), local("c", "client"), local("opts", "startOpts"), local("args", "startArgs")
	// The checks' own locals, renamed past any parameter they would shadow.
	locals := checkLocals{errs: local("errs", "fieldErrs"), raw: local("raw", "rawBody"), path: local("body", "bodyPath")}

	params := []jen.Code{jen.Id(ctx).Qual("context", "Context"), jen.Id(client).Qual(runtimePath, "Client")}
	var fields []jen.Code
	for _, p := range wf.Params {
		if p.Kind == ParamContext {
			continue
		}
		params = append(params, jen.Id(p.Name).Add(e.typ(p.Type)))
		fields = append(fields, jen.Id(p.Field).Op(":").Id(p.Name))
	}
	params = append(params, jen.Id(opts).Op("...").Qual(runtimePath, "StartOption"))

	body := []jen.Code{
		jen.If(jen.Id(client).Op("==").Nil()).Block(jen.Return(jen.Lit(""), jen.Qual(runtimePath, "ErrNoClient"))),
		jen.Id(args).Op(":=").Op("&").Id(e.argsType(wf)).Values(fields...),
	}
	body = append(body, e.startChecks(wf, args, locals)...)
	body = append(body, jen.Return(jen.Id(client).Dot("Enqueue").Call(jen.Id(ctx), jen.Lit(wf.Name), jen.Id(args), jen.Id(opts).Op("..."))))

	f.Line()
	f.Commentf("%s enqueues %s to run on a worker and", name, wf.Func)
	f.Comment("returns the execution's id; its input is checked as an HTTP call's")
	f.Comment("would be. Pass the *runtime.Server, or runtime.ClientFrom(ctx) inside a")
	f.Comment("workflow; options add an idempotency key (runtime.WithIdempotencyKey), a")
	f.Comment("delay (runtime.WithDelay) or the caller's transaction (runtime.WithTx).")
	f.Func().Id(name).Params(params...).Params(jen.String(), jen.Error()).Block(body...)
}

// checkLocals are the names of startChecks' locals in one Start function.
type checkLocals struct{ errs, raw, path string }

// startChecks are the checks an HTTP call's decoder makes that a Go value
// can fail: the body's rules and required members (its JSON walked as a
// request body's would be), its Validate method, and required= pointer
// parameters left nil.
func (e *emitter) startChecks(wf *Workflow, args string, l checkLocals) []jen.Code {
	var checks []jen.Code
	for _, p := range wf.Params {
		if p.Kind == ParamScalar && p.Required && p.Scalar.Pointer {
			checks = append(checks, jen.Qual(bindPath, "Require").Call(jen.Op("&").Id(l.errs), jen.Id(p.Name).Op("!=").Nil(), jen.Lit("query."+p.Query)))
		}
	}
	// Only a struct has rules or required members: the JSON of any other
	// Go value is already of the right kind.
	if p := wf.BodyParam; p != nil && structOfShape(p.Shape) != nil && p.Shape.bodyFields() {
		walk := e.walk(p.Shape, jen.Id(l.raw), jen.Id(args).Dot(p.Field), l.path, jen.Op("&").Id(l.errs), 1)
		if len(walk) > 0 {
			checks = append(checks,
				jen.List(jen.Id(l.raw), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id(p.Name)),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.Err())),
				jen.Id(l.path).Op(":=").Add(pathLit(nil, jen.Lit("body"))),
			)
			checks = append(checks, walk...)
		}
	}
	if len(checks) > 0 {
		checks = append([]jen.Code{jen.Var().Id(l.errs).Qual(bindPath, "FieldErrors")}, checks...)
		checks = append(checks, jen.If(jen.Err().Op(":=").Id(l.errs).Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.Err())))
	}
	if p := wf.BodyParam; p != nil {
		if st := structOfShape(p.Shape); st != nil && st.Validate {
			call := jen.If(jen.Err().Op(":=").Id(p.Name).Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Lit(""), jen.Qual(bindPath, "Invalid").Call(jen.Lit("body"), jen.Err())),
			)
			if p.Shape.Kind == ShapePointer {
				call = jen.If(jen.Id(p.Name).Op("!=").Nil()).Block(call)
			}
			checks = append(checks, call)
		}
	}
	return checks
}
