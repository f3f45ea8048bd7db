package generator

import (
	"fmt"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/bifrost-go/bifrost/workflow"
)

// directivePos is where every table directive starts: column 1, so a diagnostic's
// column is 1 + the byte offset of the token it points at.
var directivePos = token.Position{Filename: "w.go", Line: 7, Column: 1, Offset: 100}

// brief formats a diagnostic without its hint: the table pins positions and
// messages, hints are checked on their own.
func brief(d Diagnostic) string {
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Column, d.Message)
}

var parseDirectiveTests = []struct {
	text  string
	want  *Directive // Pos and OptionPos are checked separately
	diags []string   // sorted; none means the directive is valid
}{
	// Valid forms.
	{text: "//bifrost:workflow", want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}}}},
	{text: "//bifrost:workflow endpoint", want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}}}},
	{text: "//bifrost:workflow endpoint methods=post,GET,Get,delete",
		want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"DELETE", "GET", "POST"}}}},
	{text: "//bifrost:workflow endpoint methods=PUT,PATCH public",
		want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"PATCH", "PUT"}, Public: true}}},
	{text: "//bifrost:workflow endpoint disable_global_key",
		want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, DisableGlobalKey: true}}},
	{text: "//bifrost:workflow mode=sync name=sync-job_2 timeout=1h30m",
		want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}, Mode: workflow.Sync, Name: "sync-job_2", Timeout: 90 * time.Minute}}},
	{text: "//bifrost:workflow mode=async retries=0", want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}, Mode: workflow.Async}}},
	{text: "//bifrost:workflow retries=12 mode=async name=0day",
		want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}, Mode: workflow.Async, Retries: 12, Name: "0day"}}},
	{text: "//bifrost:workflow required=userID,limit,_x",
		want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}, Required: []string{"userID", "limit", "_x"}}}},
	{text: "//bifrost:workflow endpoint public verify=github secret=GITHUB_WEBHOOK_SECRET",
		want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Public: true, Verify: &workflow.Verify{Kind: "github", Secret: "GITHUB_WEBHOOK_SECRET"}}}},
	{text: "//bifrost:workflow endpoint public verify=stripe secret=stripe.signing-key",
		want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Public: true, Verify: &workflow.Verify{Kind: "stripe", Secret: "stripe.signing-key"}}}},
	{text: "//bifrost:workflow endpoint public verify=hmac-sha256 secret=K signature_header=X-Hub-Signature-256",
		want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Public: true, Verify: &workflow.Verify{Kind: "hmac-sha256", Secret: "K", SignatureHeader: "X-Hub-Signature-256"}}}},
	{text: "//bifrost:workflow endpoint public verify=slack secret=s", want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Public: true, Verify: &workflow.Verify{Kind: "slack", Secret: "s"}}}},
	{text: "//bifrost:workflow endpoint public verify=standard secret=s", want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Public: true, Verify: &workflow.Verify{Kind: "standard", Secret: "s"}}}},
	{text: "//bifrost:workflow endpoint rate=10/s", want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Rate: &workflow.Rate{N: 10, Per: time.Second}}}},
	{text: "//bifrost:workflow endpoint rate=5/m", want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Rate: &workflow.Rate{N: 5, Per: time.Minute}}}},
	{text: "//bifrost:workflow endpoint rate=1000/h", want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Rate: &workflow.Rate{N: 1000, Per: time.Hour}}}},
	{text: "//bifrost:workflow retain=90d", want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}, Retain: 90 * 24 * time.Hour}}},
	{text: "//bifrost:workflow retain=36h", want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}, Retain: 36 * time.Hour}}},
	{text: "//bifrost:workflow endpoint tags=billing,Webhooks,billing",
		want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Tags: []string{"billing", "Webhooks"}}}},
	// Quoted values keep their spaces; any option may be quoted.
	{text: `//bifrost:workflow schedule="0 9 * * 1-5" endpoint`,
		want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"POST"}, Schedule: "0 9 * * 1-5"}}},
	{text: `//bifrost:workflow schedule="@every 10m"`, want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}, Schedule: "@every 10m"}}},
	{text: `//bifrost:workflow schedule=@hourly name="tick"`, want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}, Schedule: "@hourly", Name: "tick"}}},
	{text: `//bifrost:workflow schedule="CRON_TZ=Europe/Paris 0 9 * * *"`,
		want: &Directive{Spec: workflow.Spec{Methods: []string{"POST"}, Schedule: "CRON_TZ=Europe/Paris 0 9 * * *"}}},
	{text: `//bifrost:workflow schedule="0 9 * * *`, diags: []string{`w.go:7:29: unterminated or malformed quoted value for option "schedule"`}},
	{text: `//bifrost:workflow schedule="0 9 "* * *"`, diags: []string{`w.go:7:29: unterminated or malformed quoted value for option "schedule"`,
		`w.go:7:37: unknown option "*"`, `w.go:7:39: unknown option "*\""`}},
	{text: `//bifrost:workflow schedule="0 9 * *" public`, diags: []string{
		`w.go:7:30: invalid value "0 9 * *" for option "schedule": expected 5 fields (minute hour day-of-month month day-of-week), found 4`,
		`w.go:7:39: option "public" requires "endpoint"`}},
	{text: "//bifrost:workflow\tendpoint   methods=GET\t \tpublic  ",
		want: &Directive{Spec: workflow.Spec{Endpoint: true, Methods: []string{"GET"}, Public: true}}},

	// Unknown directive verb: always suggests the one verb.
	{text: "//bifrost:workflw endpoint", diags: []string{`w.go:7:1: unknown directive "//bifrost:workflw" (did you mean "//bifrost:workflow"?)`}},
	{text: "//bifrost:endpoint", diags: []string{`w.go:7:1: unknown directive "//bifrost:endpoint" (did you mean "//bifrost:workflow"?)`}},
	{text: "//bifrost:", diags: []string{`w.go:7:1: unknown directive "//bifrost:" (did you mean "//bifrost:workflow"?)`}},
	{text: "//bifrost:workflow,endpoint", diags: []string{`w.go:7:1: unknown directive "//bifrost:workflow,endpoint" (did you mean "//bifrost:workflow"?)`}},

	// Unknown option: a suggestion within edit distance 2, none beyond.
	{text: "//bifrost:workflow endpont", diags: []string{`w.go:7:20: unknown option "endpont" (did you mean "endpoint"?)`}},
	{text: "//bifrost:workflow endpoint method=GET", diags: []string{`w.go:7:29: unknown option "method" (did you mean "methods"?)`}},
	{text: "//bifrost:workflow Public", diags: []string{`w.go:7:20: unknown option "Public" (did you mean "public"?)`}},
	{text: "//bifrost:workflow endpoint bogus=1", diags: []string{`w.go:7:29: unknown option "bogus"`}},
	{text: "//bifrost:workflow async", diags: []string{`w.go:7:20: unknown option "async"`}},
	{text: "//bifrost:workflow =x", diags: []string{`w.go:7:20: unknown option ""`}},

	// Duplicate option: reported at the second one.
	{text: "//bifrost:workflow endpoint endpoint", diags: []string{`w.go:7:29: duplicate option "endpoint"`}},
	{text: "//bifrost:workflow endpoint methods=GET methods=POST", diags: []string{`w.go:7:41: duplicate option "methods"`}},
	{text: "//bifrost:workflow name=a name=a", diags: []string{`w.go:7:27: duplicate option "name"`}},

	// Flags take no value (pointing at the "="); valued options need one.
	{text: "//bifrost:workflow endpoint=true", diags: []string{`w.go:7:28: option "endpoint" takes no value`}},
	{text: "//bifrost:workflow endpoint public=", diags: []string{`w.go:7:35: option "public" takes no value`}},
	{text: "//bifrost:workflow mode", diags: []string{`w.go:7:20: option "mode" needs a value`}},
	{text: "//bifrost:workflow endpoint methods=", diags: []string{`w.go:7:29: option "methods" needs a value`}},

	// Bad values, at the value (at the bad item of a list).
	{text: "//bifrost:workflow retain=0d", diags: []string{`w.go:7:27: invalid value "0d" for option "retain"`}},
	{text: "//bifrost:workflow retain=forever", diags: []string{`w.go:7:27: invalid value "forever" for option "retain"`}},
	{text: "//bifrost:workflow endpoint methods=GET,FETCH", diags: []string{`w.go:7:41: invalid value "FETCH" for option "methods"`}},
	{text: "//bifrost:workflow endpoint methods=GET,,POST", diags: []string{`w.go:7:41: invalid value "" for option "methods"`}},
	{text: "//bifrost:workflow endpoint methods=GET,", diags: []string{`w.go:7:41: invalid value "" for option "methods"`}},
	{text: "//bifrost:workflow endpoint methods=HEAD", diags: []string{`w.go:7:37: invalid value "HEAD" for option "methods"`}},
	{text: "//bifrost:workflow mode=sometimes", diags: []string{`w.go:7:25: invalid value "sometimes" for option "mode"`}},
	{text: "//bifrost:workflow mode=ASYNC", diags: []string{`w.go:7:25: invalid value "ASYNC" for option "mode"`}},
	{text: "//bifrost:workflow name=Bad_Name", diags: []string{`w.go:7:25: invalid value "Bad_Name" for option "name"`}},
	{text: "//bifrost:workflow name=-x", diags: []string{`w.go:7:25: invalid value "-x" for option "name"`}},
	{text: "//bifrost:workflow timeout=30", diags: []string{`w.go:7:28: invalid value "30" for option "timeout"`}},
	{text: "//bifrost:workflow timeout=0s", diags: []string{`w.go:7:28: invalid value "0s" for option "timeout"`}},
	{text: "//bifrost:workflow timeout=-1m", diags: []string{`w.go:7:28: invalid value "-1m" for option "timeout"`}},
	{text: "//bifrost:workflow mode=async retries=-1", diags: []string{`w.go:7:39: invalid value "-1" for option "retries"`}},
	{text: "//bifrost:workflow mode=async retries=+3", diags: []string{`w.go:7:39: invalid value "+3" for option "retries"`}},
	{text: "//bifrost:workflow mode=async retries=99999999999999999999", diags: []string{`w.go:7:39: invalid value "99999999999999999999" for option "retries"`}},
	{text: "//bifrost:workflow required=a,2b", diags: []string{`w.go:7:31: invalid value "2b" for option "required"`}},
	{text: "//bifrost:workflow required=func", diags: []string{`w.go:7:29: invalid value "func" for option "required"`}},
	{text: "//bifrost:workflow endpoint verify=gitlab secret=K public", diags: []string{`w.go:7:36: invalid value "gitlab" for option "verify"`}},
	{text: "//bifrost:workflow endpoint verify=github secret=a/b public", diags: []string{`w.go:7:50: invalid value "a/b" for option "secret"`}},
	{text: "//bifrost:workflow endpoint verify=hmac-sha256 secret=K signature_header=X:Sig public",
		diags: []string{`w.go:7:74: invalid value "X:Sig" for option "signature_header"`}},
	{text: "//bifrost:workflow endpoint rate=0/s", diags: []string{`w.go:7:34: invalid value "0/s" for option "rate"`}},
	{text: "//bifrost:workflow endpoint rate=10/d", diags: []string{`w.go:7:34: invalid value "10/d" for option "rate"`}},
	{text: "//bifrost:workflow endpoint rate=10", diags: []string{`w.go:7:34: invalid value "10" for option "rate"`}},
	{text: "//bifrost:workflow endpoint rate=ten/s", diags: []string{`w.go:7:34: invalid value "ten/s" for option "rate"`}},
	{text: "//bifrost:workflow endpoint tags=a,,b", diags: []string{`w.go:7:36: invalid value "" for option "tags"`}},

	// Options that need endpoint.
	{text: "//bifrost:workflow methods=GET", diags: []string{`w.go:7:20: option "methods" requires "endpoint"`}},
	{text: "//bifrost:workflow public", diags: []string{`w.go:7:20: option "public" requires "endpoint"`}},
	{text: "//bifrost:workflow disable_global_key", diags: []string{`w.go:7:20: option "disable_global_key" requires "endpoint"`}},
	{text: "//bifrost:workflow verify=github secret=S", diags: []string{
		`w.go:7:20: option "verify" requires "endpoint"`,
		`w.go:7:34: option "secret" requires "endpoint"`,
	}},
	{text: "//bifrost:workflow rate=1/s tags=x", diags: []string{
		`w.go:7:20: option "rate" requires "endpoint"`,
		`w.go:7:29: option "tags" requires "endpoint"`,
	}},
	{text: "//bifrost:workflow verify=hmac-sha256 secret=S signature_header=X-Sig", diags: []string{
		`w.go:7:20: option "verify" requires "endpoint"`,
		`w.go:7:39: option "secret" requires "endpoint"`,
		`w.go:7:48: option "signature_header" requires "endpoint"`,
	}},

	// public with disable_global_key: at whichever comes second.
	{text: "//bifrost:workflow endpoint public disable_global_key", diags: []string{`w.go:7:36: option "disable_global_key" conflicts with "public"`}},
	{text: "//bifrost:workflow endpoint disable_global_key public", diags: []string{`w.go:7:48: option "public" conflicts with "disable_global_key"`}},

	// verify and secret go together.
	{text: "//bifrost:workflow endpoint verify=github public", diags: []string{`w.go:7:29: option "verify" requires "secret"`}},
	{text: "//bifrost:workflow endpoint secret=S", diags: []string{`w.go:7:29: option "secret" requires "verify"`}},

	// signature_header needs verify=hmac-sha256.
	{text: "//bifrost:workflow endpoint verify=github secret=S signature_header=X-Sig public",
		diags: []string{`w.go:7:52: option "signature_header" requires "verify=hmac-sha256"`}},
	{text: "//bifrost:workflow endpoint signature_header=X-Sig",
		diags: []string{`w.go:7:29: option "signature_header" requires "verify=hmac-sha256"`}},

	// retries needs mode=async; a bad mode is reported once, not twice.
	{text: "//bifrost:workflow retries=3", diags: []string{`w.go:7:20: retries applies only to async workflows`}},
	{text: "//bifrost:workflow mode=sync retries=0", diags: []string{`w.go:7:30: retries applies only to async workflows`}},
	{text: "//bifrost:workflow mode=asnyc retries=3", diags: []string{`w.go:7:25: invalid value "asnyc" for option "mode"`}},

	// All problems of a line, columns counted in bytes across tabs and runs of spaces.
	{text: "//bifrost:workflow\tmethds=GET  public\tdisable_global_key retries=x endpoint endpoint", diags: []string{
		`w.go:7:20: unknown option "methds" (did you mean "methods"?)`,
		`w.go:7:39: option "disable_global_key" conflicts with "public"`,
		`w.go:7:58: retries applies only to async workflows`,
		`w.go:7:66: invalid value "x" for option "retries"`,
		`w.go:7:77: duplicate option "endpoint"`,
	}},
	{text: "//bifrost:workflow name=é timeout=1x", diags: []string{
		`w.go:7:25: invalid value "é" for option "name"`,
		`w.go:7:36: invalid value "1x" for option "timeout"`,
	}},
}

func TestParseDirective(t *testing.T) {
	for _, tt := range parseDirectiveTests {
		t.Run(tt.text, func(t *testing.T) {
			var diags Diagnostics
			got := parseDirective(tt.text, directivePos, &diags)
			var gotDiags []string
			for _, d := range diags.Sorted() {
				gotDiags = append(gotDiags, brief(d))
				if d.Hint == "" {
					t.Errorf("%s: no hint", brief(d))
				}
			}
			if !slices.Equal(gotDiags, tt.diags) {
				t.Fatalf("diagnostics:\n got %q\nwant %q", gotDiags, tt.diags)
			}
			if tt.diags != nil {
				if got != nil {
					t.Fatalf("got a directive despite diagnostics: %+v", got)
				}
				return
			}
			if got.Pos != directivePos {
				t.Errorf("Pos = %v, want %v", got.Pos, directivePos)
			}
			// Every option written on the line, at its own column.
			wantPos := map[string]token.Position{}
			for i, f := range strings.FieldsFunc(tt.text, unicode.IsSpace) {
				if i == 0 || !strings.Contains(f, "=") && strings.Count(tt.text[:strings.Index(tt.text, f)], `"`)%2 == 1 {
					continue // the directive's verb, or a word inside a quoted value
				}
				off := strings.Index(tt.text, f)
				name, _, _ := strings.Cut(f, "=")
				wantPos[name] = token.Position{Filename: "w.go", Line: 7, Column: 1 + off, Offset: 100 + off}
			}
			if !reflect.DeepEqual(got.OptionPos, wantPos) {
				t.Errorf("OptionPos = %v, want %v", got.OptionPos, wantPos)
			}
			got.Pos, got.OptionPos = token.Position{}, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("directive:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestParseDirectiveHints pins the hints that carry the most information.
func TestParseDirectiveHints(t *testing.T) {
	tests := []struct{ text, hint string }{
		{"//bifrost:workflw", "the directive is //bifrost:workflow followed by options, e.g. //bifrost:workflow endpoint methods=POST"},
		{"//bifrost:workflow endpont", "valid options: endpoint methods=GET,POST public disable_global_key mode=sync|async name=NAME " +
			"timeout=DURATION retries=N required=a,b verify=KIND secret=CONFIG_KEY signature_header=HEADER rate=N/s|N/m|N/h retain=DURATION schedule=\"CRON\" default=name:value,… tags=a,b"},
		{"//bifrost:workflow endpoint methods=GET methods=POST", "methods was already given at column 29; list several values in one option: methods=GET,POST"},
		{"//bifrost:workflow name=a name=b", "name was already given at column 20"},
		{"//bifrost:workflow endpoint methods=FETCH", "methods must be a comma-separated list of GET, POST, PUT, PATCH, DELETE (any case)"},
		{"//bifrost:workflow endpoint verify=x secret=k public", "verify must be github, stripe, slack, standard, hmac-sha256"},
		{"//bifrost:workflow mode", "write mode=sync|async: sync or async"},
		{"//bifrost:workflow tags=a", "add endpoint to expose the workflow over HTTP, or remove tags"},
		{"//bifrost:workflow endpoint secret=k", "verify=KIND must be one of github, stripe, slack, standard, hmac-sha256"},
		{"//bifrost:workflow retries=1", "add mode=async, or remove retries"},
	}
	for _, tt := range tests {
		var diags Diagnostics
		parseDirective(tt.text, directivePos, &diags)
		if len(diags) != 1 || diags[0].Hint != tt.hint {
			t.Errorf("%s:\n got %v\nwant hint %q", tt.text, diags, tt.hint)
		}
	}
}

func TestParseFile(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		marked []string // names of the functions returned, in order
		diags  []string // full String(), hints included
	}{
		{
			name: "good",
			src: `package p

// A does a.
//
//bifrost:workflow endpoint
func A() {}

// B is not marked.
func B() {}

//bifrost:workflow mode=async
func C() {}
`,
			marked: []string{"A", "C"},
		},
		{
			name: "method",
			src: `package p

type T struct{}

//bifrost:workflow
func (T) M() {}
`,
			diags: []string{"x.go:5:1: //bifrost:workflow cannot mark method \"M\"\n\thint: workflows are plain functions: mark a top-level func that calls the method"},
		},
		{
			name: "generic",
			src: `package p

//bifrost:workflow endpoint
func G[T any](v T) {}
`,
			diags: []string{"x.go:3:1: //bifrost:workflow cannot mark generic function \"G\"\n\thint: the generator needs concrete types: mark a non-generic func that calls it with type arguments"},
		},
		{
			name: "blank",
			src: `package p

//bifrost:workflow endpoint
func _() {}
`,
			diags: []string{"x.go:3:1: //bifrost:workflow cannot mark a function named _\n\thint: the generated code calls the function: give it a name"},
		},
		{
			name: "type, var, floating, body, package doc",
			src: `//bifrost:workflow
package p

//bifrost:workflow
type T struct{}

//bifrost:workflow
var V int

//bifrost:workflow

func F() {
	//bifrost:workflow
	_ = func() {}
}
`,
			diags: []string{
				"x.go:1:1: //bifrost:workflow must be in the doc comment of a top-level function\n\thint: " + placementHint,
				"x.go:4:1: //bifrost:workflow must be in the doc comment of a top-level function\n\thint: " + placementHint,
				"x.go:7:1: //bifrost:workflow must be in the doc comment of a top-level function\n\thint: " + placementHint,
				"x.go:10:1: //bifrost:workflow must be in the doc comment of a top-level function\n\thint: " + placementHint,
				"x.go:13:2: //bifrost:workflow must be in the doc comment of a top-level function\n\thint: " + placementHint,
			},
		},
		{
			name: "two directives",
			src: `package p

//bifrost:workflow endpoint
//bifrost:workflow mode=async
func F() {}
`,
			diags: []string{"x.go:4:1: function \"F\" has more than one //bifrost:workflow directive\n\thint: put all options on one //bifrost:workflow line"},
		},
		{
			name: "two directives, the first bad",
			src: `package p

//bifrost:workflow endpont
//bifrost:workflow endpoint
func F() {}
`,
			diags: []string{
				"x.go:3:20: unknown option \"endpont\" (did you mean \"endpoint\"?)\n\thint: " + optionsHint,
				"x.go:4:1: function \"F\" has more than one //bifrost:workflow directive\n\thint: put all options on one //bifrost:workflow line",
			},
		},
		{
			name: "bad directive keeps the function out, others stay",
			src: `package p

//bifrost:workflow retries=2
func F() {}

// G is fine.
//bifrost:workflow
func G() {}

	//bifrost:workflw
func H() {}
`,
			marked: []string{"G"},
			diags: []string{
				"x.go:3:20: retries applies only to async workflows\n\thint: add mode=async, or remove retries",
				"x.go:10:2: unknown directive \"//bifrost:workflw\" (did you mean \"//bifrost:workflow\"?)\n\thint: the directive is //bifrost:workflow followed by options, e.g. //bifrost:workflow endpoint methods=POST",
			},
		},
		{
			name: "misplaced and bad: both reported",
			src: `package p

//bifrost:workflow public
type T int
`,
			diags: []string{
				"x.go:3:1: //bifrost:workflow must be in the doc comment of a top-level function\n\thint: " + placementHint,
				"x.go:3:20: option \"public\" requires \"endpoint\"\n\thint: add endpoint to expose the workflow over HTTP, or remove public",
			},
		},
		{
			name: "not directives",
			src: `package p

// bifrost:workflow with a space is prose.
/*bifrost:workflow*/
//go:noinline
func F() {}
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, "x.go", tt.src, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			var diags Diagnostics
			marked := ParseFile(fset, file, &diags)
			var names []string
			for _, m := range marked {
				names = append(names, m.Func.Name.Name)
				if m.Directive == nil || m.Directive.Pos.Line != fset.Position(m.Func.Doc.List[len(m.Func.Doc.List)-1].Slash).Line {
					t.Errorf("%s: directive %+v not at the end of its doc comment", m.Func.Name.Name, m.Directive)
				}
			}
			if !slices.Equal(names, tt.marked) {
				t.Errorf("marked = %q, want %q", names, tt.marked)
			}
			var got []string
			for _, d := range diags.Sorted() {
				got = append(got, d.String())
			}
			if !slices.Equal(got, tt.diags) {
				t.Errorf("diagnostics:\n got %q\nwant %q", got, tt.diags)
			}
		})
	}
}

func FuzzParseDirective(f *testing.F) {
	for _, tt := range parseDirectiveTests {
		f.Add(tt.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !strings.HasPrefix(text, directivePrefix) {
			text = directivePrefix + text
		}
		var diags Diagnostics
		d := parseDirective(text, directivePos, &diags)
		for _, diag := range diags {
			if diag.Line != directivePos.Line || diag.Column < 1 || diag.Column > 1+len(text) || diag.Message == "" || diag.Hint == "" {
				t.Errorf("bad diagnostic %q (hint %q) for %q", brief(diag), diag.Hint, text)
			}
		}
		if (d == nil) != (len(diags) > 0) {
			t.Fatalf("directive %+v with diagnostics %v for %q", d, diags, text)
		}
		if d != nil {
			checkDirective(t, text, d)
		}
	})
}

// checkDirective asserts what analyze and the code generator rely on in a directive
// that parsed without diagnostics.
func checkDirective(t *testing.T, text string, d *Directive) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%q: %s: %+v", text, fmt.Sprintf(format, args...), d)
	}
	if len(d.Methods) == 0 || !slices.IsSorted(d.Methods) || len(slices.Compact(slices.Clone(d.Methods))) != len(d.Methods) {
		fail("methods not a sorted non-empty set")
	}
	for _, m := range d.Methods {
		if !slices.Contains(httpMethods, m) {
			fail("method %q", m)
		}
	}
	if d.Name != "" && !workflowNameRE.MatchString(d.Name) {
		fail("name")
	}
	if v := d.Verify; v != nil && (v.Kind == "" || v.Secret == "" || !slices.Contains(verifyKinds, v.Kind) ||
		v.SignatureHeader != "" && (v.Kind != "hmac-sha256" || !isHeaderName(v.SignatureHeader))) {
		fail("verify/secret/signature_header")
	}
	if d.Public && d.DisableGlobalKey {
		fail("public with disable_global_key")
	}
	if d.Timeout < 0 || d.Retries < 0 || d.Retries > 0 && !d.async() {
		fail("timeout/retries")
	}
	if r := d.Rate; r != nil && (r.N <= 0 || r.Per != time.Second && r.Per != time.Minute && r.Per != time.Hour) {
		fail("rate")
	}
	if !d.Endpoint && (!slices.Equal(d.Methods, []string{"POST"}) || d.Public || d.DisableGlobalKey ||
		d.Verify != nil || d.Rate != nil || d.Tags != nil) {
		fail("HTTP options without endpoint")
	}
	for _, r := range d.Required {
		if !token.IsIdentifier(r) {
			fail("required %q", r)
		}
	}
	for _, tag := range d.Tags {
		if tag == "" || strings.ContainsAny(tag, ", \t") {
			fail("tag %q", tag)
		}
	}
	for name, pos := range d.OptionPos {
		if lookupOption(name) == nil || pos.Line != d.Pos.Line || pos.Column <= d.Pos.Column {
			fail("OptionPos[%q] = %v", name, pos)
		}
	}
}
