package openapi

import "fmt"

// Fragment is the generated part of the document for one Go package: what
// its Go types say about its endpoint workflows. The generator writes it
// beside the generated code (workflow.Spec.OpenAPI holds its bytes); Build
// adds the rest of the HTTP contract.
type Fragment struct {
	// Operations are the parameters, request body and result responses of
	// each endpoint workflow, by workflow name.
	Operations map[string]*Operation `json:"operations,omitempty"`
	// Schemas are the schemas of the named Go types the operations refer
	// to, by type as types.TypeString writes it ("example.com/shop.Order").
	// A reference to one is {"$ref": "<type>"}.
	Schemas map[string]*Schema `json:"schemas,omitempty"`
}

// Marshal writes the fragment as a file to commit: JSON indented by two
// spaces, with a final newline. Maps are written with their keys sorted and
// every object in a fixed order, so the same fragment is the same bytes.
func (f *Fragment) Marshal() ([]byte, error) { return MarshalJSON(f) }

// ParseFragment reads a fragment. A member the model does not know is an
// error: it would otherwise be dropped from the document without a word.
func ParseFragment(data []byte) (*Fragment, error) {
	f := &Fragment{}
	if err := decodeStrict(data, f); err != nil {
		return nil, fmt.Errorf("openapi: fragment: %w", err)
	}
	return f, nil
}
