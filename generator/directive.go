package generator

import (
	"go/token"

	"github.com/bifrost-go/bifrost/workflow"
)

// Directive is a parsed //bifrost:workflow line: every option of SPEC §2,
// validated for grammar and values (signature-dependent rules belong to
// analyze). The options are written straight into the workflow's
// description, which analyze then completes (name, docs, defaults).
type Directive struct {
	Pos token.Position // of the "//bifrost:workflow" comment

	// Spec holds the options as given: Name is "" and Timeout 0 when not
	// given, Methods ["POST"] by default, Required as written.
	workflow.Spec

	// Defaults are default=name:value,… by parameter name, in the order
	// written (DefaultOrder); analyze checks them against the types.
	Defaults     map[string]string
	DefaultOrder []string

	// OptionPos records where each option given appeared, for diagnostics
	// raised later (e.g. "retries" on a sync workflow).
	OptionPos map[string]token.Position
}

// verify returns the verify= options, creating them on first use: verify,
// secret and signature_header may come in any order.
func (d *Directive) verify() *workflow.Verify {
	if d.Verify == nil {
		d.Verify = &workflow.Verify{}
	}
	return d.Verify
}

// async reports whether mode=async was given.
func (d *Directive) async() bool { return d.Mode == workflow.Async }
