package generator

import (
	"go/token"
	"time"
)

// Directive is a parsed //bifrost:workflow line: every option of SPEC §2,
// validated for grammar and values (signature-dependent rules belong to analyze).
type Directive struct {
	Pos token.Position // of the "//bifrost:workflow" comment

	Endpoint         bool
	Methods          []string // upper case, sorted, deduplicated; ["POST"] by default
	Public           bool
	DisableGlobalKey bool
	Async            bool
	Name             string        // "" when not given: analyze derives it from the function name
	Timeout          time.Duration // 0 when not given: the mode's default applies
	Retries          int
	Required         []string // as written, in order
	Verify           string   // "github", "stripe", "slack", "standard", "hmac-sha256", or ""
	Secret           string   // config key of the verification secret
	SignatureHeader  string   // hmac-sha256 only; "" means X-Signature-256
	RateN            int      // 0 when no rate= option
	RatePer          time.Duration
	Tags             []string

	// OptionPos records where each option given appeared, for diagnostics
	// raised later (e.g. "retries" on a sync workflow).
	OptionPos map[string]token.Position
}
