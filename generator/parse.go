package generator

import (
	"fmt"
	"go/ast"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bifrost-go/bifrost/internal/schedule"
	"github.com/bifrost-go/bifrost/workflow"
)

// Marked is a top-level function carrying a //bifrost:workflow directive.
type Marked struct {
	Func      *ast.FuncDecl
	Directive *Directive
}

const (
	directivePrefix = "//bifrost:"
	workflowVerb    = "workflow"
)

// placementHint is shared by every "wrong place" diagnostic: the usual cause is a
// blank line between the comment and the func, which detaches the comment.
const placementHint = "put it in the comment directly above a top-level func declaration, with no blank line in between"

// ParseFile finds every //bifrost: comment in file (all comments, not only doc comments) and returns the
// functions they mark. Problems go to diags; a function with a bad directive is not returned.
//
// file must have been parsed with parser.ParseComments: scanning all comments, not
// only doc comments, is what catches a directive that silently marks nothing.
func ParseFile(fset *token.FileSet, file *ast.File, diags *Diagnostics) []Marked {
	// The only legal home of a directive is the doc comment of a top-level func;
	// knowing which lines those are tells every other directive apart.
	owner := map[*ast.Comment]*ast.FuncDecl{}
	for _, decl := range file.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Doc != nil {
			for _, c := range fn.Doc.List {
				owner[c] = fn
			}
		}
	}

	type mark struct {
		dir   *Directive
		count int  // //bifrost:workflow lines seen, valid or not
		bad   bool // any problem on any of its directives: keep it out of the result
	}
	marks := map[*ast.FuncDecl]*mark{}
	for _, group := range file.Comments {
		for _, c := range group.List {
			if !strings.HasPrefix(c.Text, directivePrefix) {
				continue
			}
			pos := fset.Position(c.Slash)
			d := parseDirective(c.Text, pos, diags)
			fn := owner[c]
			m := marks[fn]
			if fn != nil && m == nil {
				m = &mark{}
				marks[fn] = m
			}
			if d == nil && m != nil {
				m.bad = true
			}
			if verb, _ := splitVerb(c.Text); verb != workflowVerb {
				// Already reported as an unknown directive; where it sits does not matter.
				continue
			}
			if m != nil {
				m.count++
			}
			switch {
			case fn == nil:
				diags.Add(pos, placementHint, "//bifrost:workflow must be in the doc comment of a top-level function")
			case fn.Recv != nil:
				diags.Add(pos, "workflows are plain functions: mark a top-level func that calls the method",
					"//bifrost:workflow cannot mark method %q", fn.Name.Name)
				m.bad = true
			case fn.Type.TypeParams.NumFields() > 0:
				diags.Add(pos, "the generator needs concrete types: mark a non-generic func that calls it with type arguments",
					"//bifrost:workflow cannot mark generic function %q", fn.Name.Name)
				m.bad = true
			case fn.Name.Name == "_":
				diags.Add(pos, "the generated code calls the function: give it a name",
					"//bifrost:workflow cannot mark a function named _")
				m.bad = true
			case m.count > 1:
				diags.Add(pos, "put all options on one //bifrost:workflow line",
					"function %q has more than one //bifrost:workflow directive", fn.Name.Name)
				m.bad = true
			default:
				m.dir = d
			}
		}
	}

	// Walk the declarations, not the map, so the result is in source order.
	var out []Marked
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if m := marks[fn]; m != nil && !m.bad && m.dir != nil {
			out = append(out, Marked{Func: fn, Directive: m.dir})
		}
	}
	return out
}

// splitVerb returns the word after "//bifrost:" and the byte offset where the options start.
func splitVerb(text string) (verb string, rest int) {
	rest = len(directivePrefix)
	for rest < len(text) {
		r, size := utf8.DecodeRuneInString(text[rest:])
		if unicode.IsSpace(r) {
			break
		}
		rest += size
	}
	return text[len(directivePrefix):rest], rest
}

// option describes one directive option. The rules that involve several options
// (conflicts, dependencies) are in checkCombinations, where they read as a list.
type option struct {
	name          string
	usage         string // how it is written, for hints listing the valid options
	takesValue    bool
	needsEndpoint bool   // only meaningful for an HTTP route
	valid         string // what a valid value is, for the hint of a bad value
	// set validates value and stores it in d. On a bad value it returns the
	// offending part and its byte offset in value, so the diagnostic points at it
	// (one bad method in a list, not the whole list).
	set func(d *Directive, value string) (bad string, off int, ok bool)
	// explain, when set, says why a bad value is bad (a parser's message),
	// added to the diagnostic.
	explain func(value string) string
}

// The table's order is the order of the hint listing the valid options and the
// tie-break between equally close suggestions.
var options = []option{
	{name: "endpoint", usage: "endpoint", set: func(d *Directive, _ string) (string, int, bool) {
		d.Endpoint = true
		return "", 0, true
	}},
	{name: "methods", usage: "methods=GET,POST", takesValue: true, needsEndpoint: true,
		valid: "a comma-separated list of GET, POST, PUT, PATCH, DELETE (any case)",
		set: func(d *Directive, v string) (string, int, bool) {
			var ms []string
			bad, off, ok := eachItem(v, func(item string) bool {
				m := strings.ToUpper(item)
				ms = append(ms, m)
				return slices.Contains(httpMethods, m)
			})
			slices.Sort(ms)
			d.Methods = slices.Compact(ms)
			return bad, off, ok
		}},
	{name: "public", usage: "public", needsEndpoint: true, set: func(d *Directive, _ string) (string, int, bool) {
		d.Public = true
		return "", 0, true
	}},
	{name: "disable_global_key", usage: "disable_global_key", needsEndpoint: true, set: func(d *Directive, _ string) (string, int, bool) {
		d.DisableGlobalKey = true
		return "", 0, true
	}},
	{name: "mode", usage: "mode=sync|async", takesValue: true, valid: "sync or async",
		set: func(d *Directive, v string) (string, int, bool) {
			d.Mode = workflow.Mode(v)
			return v, 0, v == "sync" || v == "async"
		}},
	{name: "name", usage: "name=NAME", takesValue: true,
		valid: "lower-case letters, digits, '_' and '-', starting with a letter or digit",
		set: func(d *Directive, v string) (string, int, bool) {
			d.Name = v
			return v, 0, workflowNameRE.MatchString(v)
		}},
	{name: "timeout", usage: "timeout=DURATION", takesValue: true, valid: "a positive Go duration such as 30s, 5m or 1h30m",
		set: func(d *Directive, v string) (string, int, bool) {
			t, err := time.ParseDuration(v)
			d.Timeout = t
			return v, 0, err == nil && t > 0
		}},
	{name: "retries", usage: "retries=N", takesValue: true, valid: "a whole number, 0 or more",
		set: func(d *Directive, v string) (string, int, bool) {
			n, ok := parseCount(v)
			d.Retries = n
			return v, 0, ok
		}},
	{name: "required", usage: "required=a,b", takesValue: true, valid: "a comma-separated list of parameter names",
		set: func(d *Directive, v string) (string, int, bool) {
			return eachItem(v, func(item string) bool {
				d.Required = append(d.Required, item)
				return token.IsIdentifier(item)
			})
		}},
	{name: "verify", usage: "verify=KIND", takesValue: true, needsEndpoint: true, valid: strings.Join(verifyKinds, ", "),
		set: func(d *Directive, v string) (string, int, bool) {
			d.verify().Kind = v
			return v, 0, slices.Contains(verifyKinds, v)
		}},
	{name: "secret", usage: "secret=CONFIG_KEY", takesValue: true, needsEndpoint: true,
		valid: "a config key of letters, digits, '_', '.' and '-'",
		set: func(d *Directive, v string) (string, int, bool) {
			d.verify().Secret = v
			return v, 0, configKeyRE.MatchString(v)
		}},
	{name: "signature_header", usage: "signature_header=HEADER", takesValue: true, needsEndpoint: true,
		valid: "an HTTP header name such as X-Hub-Signature-256",
		set: func(d *Directive, v string) (string, int, bool) {
			d.verify().SignatureHeader = v
			return v, 0, isHeaderName(v)
		}},
	{name: "rate", usage: "rate=N/s|N/m|N/h", takesValue: true, needsEndpoint: true,
		valid: "N/s, N/m or N/h with N a whole number above 0, e.g. 10/s",
		set: func(d *Directive, v string) (string, int, bool) {
			count, unit, _ := strings.Cut(v, "/")
			n, ok := parseCount(count)
			per, known := rateUnits[unit]
			if !ok || n == 0 || !known {
				return v, 0, false
			}
			d.Rate = &workflow.Rate{N: n, Per: per}
			return "", 0, true
		}},
	{name: "retain", usage: "retain=DURATION", takesValue: true, valid: "a positive duration such as 90d, 72h or 30m",
		set: func(d *Directive, v string) (string, int, bool) {
			t, ok := parseRetain(v)
			d.Retain = t
			return v, 0, ok
		}},
	{name: "schedule", usage: `schedule="CRON"`, takesValue: true,
		valid: `five cron fields (minute hour day-of-month month day-of-week) or @every 10m, @hourly, @daily, @weekly, @monthly, @yearly; ` +
			`CRON_TZ=Zone/Name first for a time zone (UTC otherwise); quote it: schedule="0 9 * * 1-5"`,
		set: func(d *Directive, v string) (string, int, bool) {
			d.Schedule = v
			_, err := schedule.Parse(v)
			return v, 0, err == nil
		},
		explain: func(v string) string {
			if _, err := schedule.Parse(v); err != nil {
				return err.Error()
			}
			return ""
		}},
	{name: "default", usage: "default=name:value,…", takesValue: true,
		valid: "a comma-separated list of parameter:value, each parameter once", set: parseDefaults},
	{name: "tags", usage: "tags=a,b", takesValue: true, needsEndpoint: true, valid: "a comma-separated list of non-empty tags",
		set: func(d *Directive, v string) (string, int, bool) {
			return eachItem(v, func(item string) bool {
				// A repeated tag would only repeat itself in the OpenAPI document.
				if !slices.Contains(d.Tags, item) {
					d.Tags = append(d.Tags, item)
				}
				return true // eachItem already refuses empty items
			})
		}},
}

var (
	httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	verifyKinds = []string{"github", "stripe", "slack", "standard", "hmac-sha256"}
	rateUnits   = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}

	workflowNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	configKeyRE    = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// optionsHint lists every option as it is written, for the hint of an unknown one.
var optionsHint = func() string {
	usages := make([]string, len(options))
	for i, o := range options {
		usages[i] = o.usage
	}
	return "valid options: " + strings.Join(usages, " ")
}()

func lookupOption(name string) *option {
	for i := range options {
		if options[i].name == name {
			return &options[i]
		}
	}
	return nil
}

// eachItem calls valid on every comma-separated item of v, including empty ones
// (which are always bad: "GET,,POST" is a typo), and reports the first bad one.
func eachItem(v string, valid func(item string) bool) (bad string, off int, ok bool) {
	ok = true
	for item := range strings.SplitSeq(v, ",") {
		if ok && (item == "" || !valid(item)) {
			bad, ok = item, false
		}
		if ok {
			off += len(item) + 1
		}
	}
	return bad, off, ok
}

// parseCount accepts plain decimal digits only: strconv.Atoi alone would also take "+3" and "-0".
func parseCount(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// isHeaderName reports whether s is an RFC 9110 field-name (a token).
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// parseDirective parses one comment line that starts with "//bifrost:" at pos (the position of the
// "//"), reporting problems to diags. It returns nil when the line has any error.
func parseDirective(text string, pos token.Position, diags *Diagnostics) *Directive {
	// at is the position of the byte at offset off of text: comments are one line,
	// so only the column (a byte count, like off) and the file offset move.
	at := func(off int) token.Position {
		p := pos
		p.Column += off
		p.Offset += off
		return p
	}
	before := len(*diags)

	verb, rest := splitVerb(text)
	if verb != workflowVerb {
		diags.Add(pos, "the directive is //bifrost:workflow followed by options, e.g. //bifrost:workflow endpoint methods=POST",
			"unknown directive %q (did you mean %q?)", directivePrefix+verb, directivePrefix+workflowVerb)
		return nil
	}

	d := &Directive{Pos: pos, OptionPos: map[string]token.Position{}}
	// invalid records options given with a bad value: rules that depend on an
	// option's value (retries needs mode=async) stay quiet about it, so one typo
	// gives one diagnostic.
	invalid := map[string]bool{}
	for _, f := range fields(text, rest) {
		name, value, hasValue := strings.Cut(f.text, "=")
		valueOff := f.off + len(name) + 1
		if strings.HasPrefix(value, `"`) {
			inner, ok := unquote(value)
			if !ok {
				diags.Add(at(valueOff), `a quoted value ends at the next double quote and has no escapes: name="value"`,
					"unterminated or malformed quoted value for option %q", name)
				invalid[name] = true
				continue
			}
			value = inner
			valueOff++
		}
		o := lookupOption(name)
		switch {
		case o == nil:
			msg := fmt.Sprintf("unknown option %q", name)
			if s := suggestOption(name); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			diags.Add(at(f.off), optionsHint, "%s", msg)
			continue
		case given(d, name):
			hint := fmt.Sprintf("%s was already given at column %d", name, d.OptionPos[name].Column)
			if strings.Contains(o.usage, ",") {
				hint += "; list several values in one option: " + o.usage
			}
			diags.Add(at(f.off), hint, "duplicate option %q", name)
			continue
		}
		d.OptionPos[name] = at(f.off)
		if !setOption(d, o, name, value, hasValue, at(f.off), func(off int) token.Position { return at(valueOff + off) }, diags) {
			invalid[name] = true
		}
	}
	checkCombinations(d, invalid, diags)

	if len(*diags) > before {
		return nil
	}
	if d.Methods == nil {
		d.Methods = []string{"POST"}
	}
	return d
}

// setOption sets option o (written name=value at pos; valueAt is the
// position of a byte of the value) on d, reporting a value it cannot take.
// It reports whether the value was good.
func setOption(d *Directive, o *option, name, value string, hasValue bool, pos token.Position,
	valueAt func(off int) token.Position, diags *Diagnostics) bool {
	switch {
	case !o.takesValue && hasValue:
		diags.Add(valueAt(-1), "write just "+name, "option %q takes no value", name)
		return false
	case o.takesValue && value == "":
		diags.Add(pos, "write "+o.usage+": "+o.valid, "option %q needs a value", name)
		return false
	}
	if bad, off, ok := o.set(d, value); !ok {
		msg := fmt.Sprintf("invalid value %q for option %q", bad, name)
		if o.explain != nil {
			msg += ": " + o.explain(value)
		}
		diags.Add(valueAt(off), name+" must be "+o.valid, "%s", msg)
		return false
	}
	return true
}

// checkCombinations reports the rules that involve more than one option, each at
// the option that breaks it.
func checkCombinations(d *Directive, invalid map[string]bool, diags *Diagnostics) {
	for _, o := range options {
		if o.needsEndpoint && given(d, o.name) && !given(d, "endpoint") {
			diags.Add(d.OptionPos[o.name], "add endpoint to expose the workflow over HTTP, or remove "+o.name,
				"option %q requires %q", o.name, "endpoint")
		}
	}
	if given(d, "public") && given(d, "disable_global_key") {
		// Point at whichever came second: that is where the conflict appears.
		first, second := "public", "disable_global_key"
		if d.OptionPos[second].Column < d.OptionPos[first].Column {
			first, second = second, first
		}
		diags.Add(d.OptionPos[second], "a public endpoint takes no key at all; keep one of them",
			"option %q conflicts with %q", second, first)
	}
	if given(d, "verify") && !given(d, "secret") {
		diags.Add(d.OptionPos["verify"], "name the config key holding the signing secret, e.g. verify=github secret=GITHUB_WEBHOOK_SECRET",
			"option %q requires %q", "verify", "secret")
	}
	if given(d, "verify") && given(d, "endpoint") && !given(d, "public") {
		diags.Add(d.OptionPos["verify"], "a sender of signed webhooks cannot send an API key: its signature is its credential; add public",
			"option %q requires %q", "verify", "public")
	}
	if given(d, "secret") && !given(d, "verify") {
		diags.Add(d.OptionPos["secret"], "verify=KIND must be one of "+strings.Join(verifyKinds, ", "),
			"option %q requires %q", "secret", "verify")
	}
	if given(d, "signature_header") && d.verify().Kind != "hmac-sha256" && !invalid["verify"] {
		diags.Add(d.OptionPos["signature_header"], "the other verify kinds use the header their sender defines",
			"option %q requires %q", "signature_header", "verify=hmac-sha256")
	}
	if given(d, "retries") && !d.async() && !invalid["mode"] {
		diags.Add(d.OptionPos["retries"], "add mode=async, or remove retries", "retries applies only to async workflows")
	}
}

// given reports whether the option was written on the line, whatever its value.
func given(d *Directive, name string) bool {
	_, ok := d.OptionPos[name]
	return ok
}

// field is one space-separated word of a directive and its byte offset in the line.
type field struct {
	text string
	off  int
}

// fields splits text[from:] like strings.Fields but keeps each word's offset,
// which diagnostics need for their column. A double-quoted part of a word
// keeps its spaces (schedule="0 9 * * *"): it ends at the next double quote,
// with no escapes, since no option's value needs a double quote.
func fields(text string, from int) []field {
	var out []field
	start := -1
	quoted := false
	for i, r := range text[from:] {
		i += from
		if r == '"' {
			quoted = !quoted
		}
		switch space := unicode.IsSpace(r) && !quoted; {
		case space && start >= 0:
			out = append(out, field{text[start:i], start})
			start = -1
		case !space && start < 0:
			start = i
		}
	}
	if start >= 0 {
		out = append(out, field{text[start:], start})
	}
	return out
}

// unquote strips the double quotes around a value: "…" with no other
// double quote inside.
func unquote(v string) (string, bool) {
	if len(v) < 2 || v[len(v)-1] != '"' || strings.Contains(v[1:len(v)-1], `"`) {
		return "", false
	}
	return v[1 : len(v)-1], true
}

// suggestOption returns the option closest to name, when a typo (edit distance at
// most 2) could explain the difference, or "".
// pythonNames are the Python decorator's parameter names, which people
// porting a workflow will type first.
var pythonNames = map[string]string{
	"endpoint_enabled": "endpoint", "allowed_methods": "methods", "public_endpoint": "public",
	"execution_mode": "mode", "method": "methods",
}

func suggestOption(name string) string {
	if o, ok := pythonNames[strings.ToLower(name)]; ok {
		return o
	}
	best, bestDist := "", 3
	for _, o := range options {
		if dist := levenshtein(strings.ToLower(name), o.name); dist < bestDist {
			best, bestDist = o.name, dist
		}
	}
	return best
}

// levenshtein returns the edit distance between a and b, counted in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// parseRetain reads retain=: a number of days (90d) or a Go duration.
func parseRetain(v string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		return time.Duration(n) * 24 * time.Hour, err == nil && n > 0
	}
	t, err := time.ParseDuration(v)
	return t, err == nil && t > 0
}
