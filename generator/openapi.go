package generator

import (
	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/workflow"
)

// OpenAPI returns the OpenAPI document of the packages' workflows, built by
// the function the runtime serves /api/openapi.json with, from the very
// descriptions the generated Workflows() carry, each with its package's
// fragment as written to FragmentFile: a binary that links the same
// workflows serves the same bytes.
func OpenAPI(pkgs []*Package, version openapi.Version, format openapi.Format) ([]byte, error) {
	var specs []*workflow.Spec
	for _, pkg := range pkgs {
		for _, wf := range pkg.Workflows {
			spec := wf.Spec
			spec.OpenAPI = pkg.OpenAPIFile
			specs = append(specs, &spec)
		}
	}
	return openapi.Document(specs, version, format)
}
