package generator

import (
	"strings"

	"github.com/bifrost-go/bifrost/openapi"
)

// OpenAPI returns the OpenAPI document of the packages' workflows, built by
// the function the runtime serves /api/openapi.json with, from the same
// descriptions the generated Workflows() carry: a binary that links the
// same workflows serves the same bytes.
func OpenAPI(pkgs []*Package, version openapi.Version, format openapi.Format) ([]byte, error) {
	var workflows []openapi.Workflow
	for _, pkg := range pkgs {
		for _, wf := range pkg.Workflows {
			workflows = append(workflows, openapi.FromSpec(&wf.Spec, wf.Operation, operationSchemas(pkg, wf)))
		}
	}
	return openapi.Document(workflows, version, format)
}

// operationSchemas are the package's schemas when wf's operation refers to
// any of them.
func operationSchemas(pkg *Package, wf *Workflow) map[string]string {
	if wf.Endpoint && strings.Contains(wf.Operation, `"$ref":`) {
		return pkg.Schemas
	}
	return nil
}
