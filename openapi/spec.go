package openapi

import "github.com/bifrost-go/bifrost/workflow"

// FromSpec is what the document needs of a workflow described by spec, with
// its generated operation and the schemas that operation refers to.
func FromSpec(spec *workflow.Spec, operation string, schemas map[string]string) Workflow {
	out := Workflow{
		Name:        spec.Name,
		Package:     spec.Package,
		Func:        spec.Func,
		Summary:     spec.Summary,
		Description: spec.Description,
		Deprecated:  spec.Deprecated,
		Endpoint:    spec.Endpoint,
		Methods:     spec.Methods,
		Public:      spec.Public,
		Async:       spec.Mode == workflow.Async,
		RateLimited: spec.Rate != nil && spec.Rate.N > 0,
		Tags:        spec.Tags,
		BodyDecoded: spec.Body == workflow.BodyDecoded,
		Operation:   operation,
		Schemas:     schemas,
	}
	if spec.Verify != nil {
		out.Verify, out.SignatureHeader = spec.Verify.Kind, spec.Verify.SignatureHeader
	}
	return out
}
