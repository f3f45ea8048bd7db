package runtime

import (
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/workflow"
)

// Workflow is one workflow as the runtime serves it: its description, and
// the two functions bifrostgen generates to run it. The package's generated
// Workflows() returns one per marked function.
type Workflow struct {
	workflow.Spec

	// Decode reads the workflow's inputs from a request. Its error is an
	// *bifrost.Error (400 naming every bad field, or 415).
	Decode func(in *bind.Input) (bind.Args, error)
	// NewArgs returns an empty args value, for decoding stored async inputs.
	NewArgs func() bind.Args
}
