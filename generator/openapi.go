package generator

import (
	"fmt"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/runtime"
	"github.com/bifrost-go/bifrost/workflow"
)

// OpenAPI returns the OpenAPI document of the packages' workflows, built by
// the function the runtime serves /api/openapi.json with, from the
// description of each workflow the generated Workflows() return (spec is
// what emit writes, by way of runtimeWorkflow): a binary that links the
// same workflows serves the same bytes.
func OpenAPI(pkgs []*Package, version openapi.Version, format openapi.Format) ([]byte, error) {
	var specs []*workflow.Spec
	for _, pkg := range pkgs {
		var fragment []byte
		if pkg.OpenAPI != nil {
			var err error
			if fragment, err = pkg.OpenAPI.Marshal(); err != nil {
				return nil, fmt.Errorf("%s: openapi: %w", pkg.Path, err)
			}
		}
		for _, wf := range pkg.Workflows {
			specs = append(specs, spec(pkg, wf, fragment))
		}
	}
	return openapi.Document(specs, version, format)
}

// spec is the description of wf, with the package's OpenAPI fragment.
//
// TODO(merge): the generated Workflows() will carry this very value
// (runtime.Workflow embeds workflow.Spec), so runtimeWorkflow goes.
func spec(pkg *Package, wf *Workflow, fragment []byte) *workflow.Spec {
	d := wf.Directive
	s := &workflow.Spec{
		Name:             wf.Name,
		Package:          pkg.Path,
		Func:             wf.Func,
		Summary:          wf.Summary,
		Description:      wf.Description,
		Deprecated:       wf.Deprecated,
		Endpoint:         d.Endpoint,
		Public:           d.Public,
		DisableGlobalKey: d.DisableGlobalKey,
		Mode:             workflow.Sync,
		Timeout:          wf.Timeout,
		Retries:          d.Retries,
		Required:         d.Required,
		Body:             workflow.BodyUse(wf.BodyUse),
		OpenAPI:          fragment,
	}
	if wf.Async {
		s.Mode = workflow.Async
	}
	if d.Verify != "" {
		s.Verify = &workflow.Verify{Kind: d.Verify, Secret: d.Secret, SignatureHeader: d.SignatureHeader}
	}
	if d.RateN > 0 {
		s.Rate = &workflow.Rate{N: d.RateN, Per: d.RatePer}
	}
	if d.Endpoint {
		s.Methods = d.Methods
		s.Tags = d.Tags
		if len(s.Tags) == 0 {
			s.Tags = []string{pkg.Name}
		}
	}
	return s
}

// runtimeWorkflow is the description of wf the generated Workflows()
// returns, without its functions (Decode, NewArgs) and its OpenAPI parts,
// which emit writes from the package's fragment.
func runtimeWorkflow(pkg *Package, wf *Workflow) *runtime.Workflow {
	s := spec(pkg, wf, nil)
	rw := &runtime.Workflow{
		Name: s.Name, Package: s.Package, Func: s.Func,
		Summary: s.Summary, Description: s.Description, Deprecated: s.Deprecated,
		Endpoint: s.Endpoint, Methods: s.Methods, Public: s.Public, DisableGlobalKey: s.DisableGlobalKey,
		Mode: runtime.Mode(s.Mode), Timeout: s.Timeout, Retries: s.Retries, Required: s.Required,
		Tags: s.Tags, Body: runtime.BodyUse(s.Body),
	}
	if v := s.Verify; v != nil {
		rw.Verify = &runtime.Verify{Kind: v.Kind, Secret: v.Secret, SignatureHeader: v.SignatureHeader}
	}
	if r := s.Rate; r != nil {
		rw.Rate = &runtime.Rate{N: r.N, Per: r.Per}
	}
	return rw
}
