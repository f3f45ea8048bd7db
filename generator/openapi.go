package generator

import (
	"strings"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/runtime"
)

// OpenAPI returns the OpenAPI document of the packages' workflows. It is
// built from the very runtime.Workflow values the generated Workflows()
// return (runtimeWorkflow is what emit writes), by the function the runtime
// serves /api/openapi.json with: a binary that links the same workflows
// serves the same bytes.
func OpenAPI(pkgs []*Package, version openapi.Version, format openapi.Format) ([]byte, error) {
	var workflows []*runtime.Workflow
	for _, pkg := range pkgs {
		for _, wf := range pkg.Workflows {
			workflows = append(workflows, runtimeWorkflow(pkg, wf))
		}
	}
	return runtime.OpenAPI(workflows, version, format)
}

// runtimeWorkflow is the description of wf the generated Workflows()
// returns, without its functions (Decode, NewArgs).
func runtimeWorkflow(pkg *Package, wf *Workflow) *runtime.Workflow {
	d := wf.Directive
	rw := &runtime.Workflow{
		Name:             wf.Name,
		Package:          pkg.Path,
		Func:             wf.Func,
		Summary:          wf.Summary,
		Description:      wf.Description,
		Deprecated:       wf.Deprecated,
		Endpoint:         d.Endpoint,
		Public:           d.Public,
		DisableGlobalKey: d.DisableGlobalKey,
		Mode:             runtime.Sync,
		Timeout:          wf.Timeout,
		Retries:          d.Retries,
		Required:         d.Required,
		Body:             runtime.BodyUse(wf.BodyUse),
		Operation:        wf.Operation,
	}
	if wf.Async {
		rw.Mode = runtime.Async
	}
	if d.Verify != "" {
		rw.Verify = &runtime.Verify{Kind: d.Verify, Secret: d.Secret, SignatureHeader: d.SignatureHeader}
	}
	if d.RateN > 0 {
		rw.Rate = &runtime.Rate{N: d.RateN, Per: d.RatePer}
	}
	if d.Endpoint {
		rw.Methods = d.Methods
		rw.Tags = d.Tags
		if len(rw.Tags) == 0 {
			rw.Tags = []string{pkg.Name}
		}
		if strings.Contains(wf.Operation, `"$ref":`) { // the package's schemas hold what it refers to
			rw.Schemas = pkg.Schemas
		}
	}
	return rw
}
