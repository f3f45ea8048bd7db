package generator

import (
	"fmt"
	"go/token"
	"go/types"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bifrost-go/bifrost/openapi"
)

// A default is the value an input takes when the request does not carry it:
// `default=limit:10` in the directive for a scalar parameter, a
// `default:"10"` tag for a field of the body struct. It is checked here, at
// generate time, against the input's type; the generated decoder sets it
// before reading the request, so a value sent replaces it.

// Default is the default of one input, checked against its type.
type Default struct {
	Go   string // the Go literal the decoder assigns: 10, "asc", true, 1.5, or nanoseconds of a time.Duration
	JSON any    // the value the OpenAPI schema states as its default
	Text string // the value as text (query, header, form): 1m30s where JSON has nanoseconds
}

// defaultValue parses v as a value of the scalar, or says why it cannot be
// one. text says whether the input is read from text (query, header, form),
// where a time.Duration is written 30s, rather than from JSON, where
// encoding/json writes it in nanoseconds.
func defaultValue(sc *Scalar, v string, text bool) (*Default, string) {
	if sc == nil || sc.Slice {
		return nil, "default applies to a single value: a string, bool, number or time.Duration"
	}
	switch sc.Parse {
	case ParseString:
		return &Default{Go: strconv.Quote(v), JSON: v, Text: v}, ""
	case ParseBool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, "default of a bool is true or false"
		}
		return &Default{Go: strconv.FormatBool(b), JSON: b, Text: strconv.FormatBool(b)}, ""
	case ParseInt, ParseUint:
		return integerDefault(sc, v)
	case ParseFloat:
		f, err := strconv.ParseFloat(v, sizeOf(sc))
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, "default of " + typeString(sc.Elem, nil) + " is a number such as 1.5"
		}
		return &Default{Go: formatNumber(f), JSON: openapi.Number(formatNumber(f)), Text: formatNumber(f)}, ""
	case ParseDuration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, "default of a time.Duration is a Go duration such as 30s or 5m"
		}
		out := &Default{Go: strconv.FormatInt(int64(d), 10), JSON: openapi.Number(strconv.FormatInt(int64(d), 10)), Text: d.String()}
		if text {
			out.JSON = out.Text
		}
		return out, ""
	}
	return nil, "default applies to strings, bools, numbers and time.Duration, not " + typeString(sc.Elem, nil)
}

func integerDefault(sc *Scalar, v string) (*Default, string) {
	bits := sizeOf(sc)
	var text string
	if sc.Parse == ParseUint {
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			return nil, fmt.Sprintf("default of %s is a whole number from 0 to %d", typeString(sc.Elem, nil), uint64(math.MaxUint64)>>(64-bits))
		}
		text = strconv.FormatUint(n, 10)
	} else {
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			return nil, fmt.Sprintf("default of %s is a whole number from %d to %d", typeString(sc.Elem, nil), int64(-1)<<(bits-1), int64(1)<<(bits-1)-1)
		}
		text = strconv.FormatInt(n, 10)
	}
	return &Default{Go: text, JSON: openapi.Number(text), Text: text}, ""
}

// sizeOf is the bit size of a numeric scalar (64 for int, uint, float64).
func sizeOf(sc *Scalar) int {
	if b, ok := sc.Elem.Underlying().(*types.Basic); ok {
		switch b.Kind() {
		case types.Int8, types.Uint8:
			return 8
		case types.Int16, types.Uint16:
			return 16
		case types.Int32, types.Uint32, types.Float32:
			return 32
		}
	}
	return 64
}

// parseDefaults reads the value of default=: name:value pairs, comma-separated.
func parseDefaults(d *Directive, v string) (bad string, off int, ok bool) {
	if d.Defaults == nil {
		d.Defaults = map[string]string{}
	}
	return eachItem(v, func(item string) bool {
		name, value, found := strings.Cut(item, ":")
		if !found || value == "" || !token.IsIdentifier(name) {
			return false
		}
		if _, dup := d.Defaults[name]; dup {
			return false
		}
		d.Defaults[name] = value
		d.DefaultOrder = append(d.DefaultOrder, name)
		return true
	})
}

// checkDefaults applies default= to the scalar parameters it names.
func (a *analyzer) checkDefaults(wf *Workflow) {
	offset := len("default=")
	for _, name := range wf.Directive.DefaultOrder {
		v := wf.Directive.Defaults[name]
		pos := wf.Directive.OptionPos["default"]
		pos.Column += offset // at the item itself
		offset += len(name) + 1 + len(v) + 1
		found := a.scalarParam(wf, "default", name, pos,
			"default= applies to scalar (query) parameters; a body struct field takes a default:\"…\" tag")
		switch {
		case found == nil:
		case found.Required:
			a.diags.Add(pos, "keep one: a required parameter has no default", "parameter %s is both required and defaulted", name)
		default:
			def, why := defaultValue(found.Scalar, v, true)
			if why != "" {
				a.diags.Add(pos, why, "bad default %q for parameter %s", v, name)
				continue
			}
			found.Default = def
		}
	}
}

// fieldDefault applies a default:"…" tag: the field takes v when the
// request does not carry it, so it is not required.
func (a *analyzer) fieldDefault(f *Field, v string) {
	sc := f.Shape.Scalar
	if f.Shape.Kind == ShapePointer {
		sc = f.Shape.Elem.Scalar
	}
	def, why := defaultValue(sc, v, f.Source != FromBody)
	if why != "" {
		a.diags.Add(f.Pos, why, "field %s: bad default tag %q", strings.Join(f.GoPath, "."), v)
		return
	}
	f.Default, f.Required = def, false
}

// checkBodyDefaults refuses default tags on a body taken by pointer: the
// decoder fills defaults into the value before reading the request, and a
// pointer body must stay nil when no body is sent.
func (a *analyzer) checkBodyDefaults(wf *Workflow) {
	p := wf.BodyParam
	if p == nil || p.Shape.Kind != ShapePointer || p.Shape.Elem.Struct == nil {
		return
	}
	for _, f := range p.Shape.Elem.Struct.Fields {
		if f.Default != nil {
			a.diags.Add(f.Pos, "take the body by value ("+typeString(p.Shape.Elem.Type, a.pkg.Types)+"), or drop the tag",
				"field %s: default tags apply to a body taken by value, not by pointer", strings.Join(f.GoPath, "."))
		}
	}
}
