package bind

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/jsonscan"
)

// This file holds what generated decoders call: the error list, locations,
// and the readers of query, header, form and body values. Generated code does
// the type-specific work (which field, which parser, which constraint); these
// helpers do the rest without reflection.

// FieldErrors collects every invalid input of one request.
type FieldErrors struct {
	list    []bifrost.FieldError
	partial bool
	body    []byte // the JSON body, to list errors in document order
	stopped string // where the decoder met the first value it could not store
}

// Partial reports that the decoder met a value it could not store:
// decoded values may be zero where the body had something, so rules on
// values are not checked until the kinds are right.
func (e *FieldErrors) Partial() bool { return e.partial }

// Add records that the value at location is invalid.
func (e *FieldErrors) Add(location, message string) {
	e.list = append(e.list, bifrost.FieldError{Location: location, Message: message})
}

// AddAt records that the member key of the value at at is invalid.
func (e *FieldErrors) AddAt(at *Path, key, message string) {
	e.Add(at.String()+"."+key, message)
}

// Valid reports whether nothing was recorded for the member key of at, nor
// did the decoder meet a value it could not store in it: only then are the
// member's rules checked, so a value of the wrong kind is reported once, as
// such, and the rules of every other member are still checked (SPEC §8: one
// 400 lists them all).
func (e *FieldErrors) Valid(at *Path, key string) bool {
	if len(e.list) == 0 && e.stopped == "" {
		return true
	}
	loc := at.String() + "." + key
	if within(e.stopped, loc) {
		return false
	}
	for _, fe := range e.list {
		if fe.Location == loc {
			return false
		}
	}
	return true
}

// within reports whether location is loc or a value inside it.
func within(location, loc string) bool {
	rest, ok := strings.CutPrefix(location, loc)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// Len is the number of errors recorded.
func (e *FieldErrors) Len() int { return len(e.list) }

// Err returns nil when nothing was recorded, else a 400 problem listing every error.
func (e *FieldErrors) Err() error {
	if len(e.list) == 0 {
		return nil
	}
	e.sortByDocument()
	first := e.list[0]
	detail := first.Location + ": " + first.Message
	if n := len(e.list) - 1; n > 0 {
		detail += " (and " + strconv.Itoa(n) + " more)"
	}
	return &bifrost.Error{Status: http.StatusBadRequest, Title: http.StatusText(http.StatusBadRequest), Detail: detail, Errors: e.list}
}

// Path locates a value inside the request body, built on the stack as a
// decoder descends and turned into a string only when an error is reported.
type Path struct {
	Parent *Path
	Key    string // a member name, or "" for an array element
	Index  int
}

// String formats the path as "body.items[2].name".
func (p *Path) String() string {
	if p == nil {
		return ""
	}
	if p.Key == "" {
		return p.Parent.String() + "[" + strconv.Itoa(p.Index) + "]"
	}
	if p.Parent == nil {
		return p.Key
	}
	return p.Parent.String() + "." + p.Key
}

// Parser turns one text value into a T; its error message is shown to the caller.
type Parser[T any] func(string) (T, error)

// Query reads the query parameter name into dst. It reports whether the
// parameter was present.
func Query[T any](in *Input, errs *FieldErrors, name string, parse Parser[T], dst *T) bool {
	s, ok := in.Query(name)
	if ok {
		set(errs, "query."+name, s, parse, dst)
	}
	return ok
}

// QuerySlice reads every value of the query parameter name into dst.
func QuerySlice[T any](in *Input, errs *FieldErrors, name string, parse Parser[T], dst *[]T) bool {
	return setAll(errs, "query.", name, in.QueryAll(name), parse, dst)
}

// Header reads the header name (canonical form) into dst.
func Header[T any](in *Input, errs *FieldErrors, name string, parse Parser[T], dst *T) bool {
	s, ok := in.Header(name)
	if ok {
		set(errs, "header."+name, s, parse, dst)
	}
	return ok
}

// HeaderSlice reads every value of the header name into dst.
func HeaderSlice[T any](in *Input, errs *FieldErrors, name string, parse Parser[T], dst *[]T) bool {
	return setAll(errs, "header.", name, in.HeaderAll(name), parse, dst)
}

// Form reads the form field name into dst, when the body is a form.
func Form[T any](in *Input, errs *FieldErrors, name string, parse Parser[T], dst *T) bool {
	s, ok := in.Form(name)
	if ok {
		set(errs, "body."+name, s, parse, dst)
	}
	return ok
}

// FormSlice reads every value of the form field name into dst.
func FormSlice[T any](in *Input, errs *FieldErrors, name string, parse Parser[T], dst *[]T) bool {
	return setAll(errs, "body.", name, in.FormAll(name), parse, dst)
}

// BodyValue reads the scalar parameter name from the body's top-level member
// of that name (a JSON object) or field (a form), for workflows without a body
// parameter. kind is the JSON kind the value must have; a string member is
// unquoted before parsing. It reports whether the value was present.
func BodyValue[T any](in *Input, errs *FieldErrors, name string, kind jsonscan.Kind, parse Parser[T], dst *T) bool {
	switch in.Kind {
	case FormBody:
		return Form(in, errs, name, parse, dst)
	case JSONBody:
		raw, ok := bodyMember(in, errs, name)
		if !ok {
			return false
		}
		s, ok := scalarText(raw, kind)
		if !ok {
			errs.Add("body."+name, "expected "+kind.String())
			return true
		}
		set(errs, "body."+name, s, parse, dst)
		return true
	}
	return false
}

// BodySlice is BodyValue for a slice: a JSON array, or a repeated form field.
func BodySlice[T any](in *Input, errs *FieldErrors, name string, kind jsonscan.Kind, parse Parser[T], dst *[]T) bool {
	switch in.Kind {
	case FormBody:
		return FormSlice(in, errs, name, parse, dst)
	case JSONBody:
		raw, ok := bodyMember(in, errs, name)
		if !ok {
			return false
		}
		if jsonscan.KindOf(raw) != jsonscan.Array {
			errs.Add("body."+name, "expected array")
			return true
		}
		out := (*dst)[:0]
		for it := jsonscan.Elements(raw); it.Next(); {
			s, ok := scalarText(it.Value(), kind)
			if !ok {
				errs.Add("body."+name+"["+strconv.Itoa(it.Index())+"]", "expected "+kind.String())
				continue
			}
			v, err := parse(s)
			if err != nil {
				errs.Add("body."+name+"["+strconv.Itoa(it.Index())+"]", err.Error())
				continue
			}
			out = append(out, v)
		}
		*dst = out
		return true
	}
	return false
}

// bodyMember returns the raw value of the top-level member name of a JSON
// body; null counts as absent. The body is checked first, once, by the
// rules UnmarshalBody decodes by: malformed JSON, a duplicate name
// included, is recorded at "body" and no member is read from it.
func bodyMember(in *Input, errs *FieldErrors, name string) ([]byte, bool) {
	if !in.checked {
		in.checked = true
		if se := syntaxError(in.Body()); se != nil {
			in.malformed = true
			errs.Add("body", malformed(se))
		}
	}
	if in.malformed {
		return nil, false
	}
	for it := jsonscan.Members(in.Body()); it.Next(); {
		if it.KeyIs(name) { // names are unique: the check refuses duplicates
			if jsonscan.KindOf(it.Value()) == jsonscan.Null {
				return nil, false
			}
			return it.Value(), true
		}
	}
	return nil, false
}

// scalarText returns the text a parser reads from a JSON scalar of kind.
func scalarText(raw []byte, kind jsonscan.Kind) (string, bool) {
	if jsonscan.KindOf(raw) != kind {
		return "", false
	}
	if kind == jsonscan.String {
		return jsonscan.Unquote(raw)
	}
	return string(raw), true
}

func set[T any](errs *FieldErrors, location, s string, parse Parser[T], dst *T) {
	v, err := parse(s)
	if err != nil {
		errs.Add(location, err.Error())
		return
	}
	*dst = v
}

func setAll[T any](errs *FieldErrors, prefix, name string, values []string, parse Parser[T], dst *[]T) bool {
	if len(values) == 0 {
		return false
	}
	out := make([]T, 0, len(values))
	for i, s := range values {
		v, err := parse(s)
		if err != nil {
			errs.Add(prefix+name+"["+strconv.Itoa(i)+"]", err.Error())
			continue
		}
		out = append(out, v)
	}
	*dst = out
	return true
}

// QueryPtr reads the query parameter name into a new *T when present.
func QueryPtr[T any](in *Input, errs *FieldErrors, name string, parse Parser[T], dst **T) bool {
	return setPtr(dst, func(v *T) bool { return Query(in, errs, name, parse, v) })
}

// HeaderPtr reads the header name into a new *T when present.
func HeaderPtr[T any](in *Input, errs *FieldErrors, name string, parse Parser[T], dst **T) bool {
	return setPtr(dst, func(v *T) bool { return Header(in, errs, name, parse, v) })
}

// FormPtr reads the form field name into a new *T when present.
func FormPtr[T any](in *Input, errs *FieldErrors, name string, parse Parser[T], dst **T) bool {
	return setPtr(dst, func(v *T) bool { return Form(in, errs, name, parse, v) })
}

func setPtr[T any](dst **T, read func(*T) bool) bool {
	var v T
	if !read(&v) {
		return false
	}
	*dst = &v
	return true
}

// Elem returns &s[i], or a new zero T when the decoder stopped before
// decoding element i: the walk still checks the element's raw JSON.
func Elem[T any](s []T, i int) *T {
	if i < len(s) {
		return &s[i]
	}
	return new(T)
}

// Or returns p, or a new zero T when p is nil (see Elem).
func Or[T any](p *T) *T {
	if p != nil {
		return p
	}
	return new(T)
}

// Require records "required" at location when a required value was absent.
func Require(errs *FieldErrors, present bool, location string) {
	if !present {
		errs.Add(location, "required")
	}
}

// RequireAt records "required" for the member key of at when it was absent.
func RequireAt(errs *FieldErrors, present bool, at *Path, key string) {
	if !present {
		errs.AddAt(at, key, "required")
	}
}

// decodeOptions are encoding/json's (invalid UTF-8 and lone surrogate
// escapes become U+FFFD, time.Duration is nanoseconds, [N]byte an array:
// the shapes the generator documents) but two: names match exactly and a
// duplicate name is an error.
var decodeOptions = json.JoinOptions(
	jsonv1.DefaultOptionsV1(),
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsonv1.ReportErrorsWithLegacySemantics(false),
)

// onPastErrors decodes as decodeOptions does, going on past a value that
// does not fit instead of stopping there.
var onPastErrors = json.JoinOptions(decodeOptions, jsonv1.ReportErrorsWithLegacySemantics(true))

// UnmarshalBody decodes the JSON body into dst with go-json-experiment/json
// (the v2 API that encoding/json/v2 is being made from): about 30% fewer
// instructions and half the allocations of encoding/json on a small body.
// Names match exactly, as the walk and the OpenAPI document name them, and
// a duplicate name is malformed JSON rather than last-one-wins, so no proxy
// or signature check in front can read another value than the workflow gets
// (docs/architecture.md). Malformed JSON is recorded and
// reported as false: nothing more can be checked. A value of the wrong type
// is not recorded here: the generated walk names every one of them; the
// error returned is kept for what a walk cannot see (a number too large for
// its Go type, a value its UnmarshalJSON refuses).
func UnmarshalBody(in *Input, errs *FieldErrors, dst any) (ok bool, valueErr error) {
	body := in.Body()
	err := json.Unmarshal(body, dst, decodeOptions)
	if err == nil {
		errs.body = body
		return true, nil
	}
	if se, syntax := errors.AsType[*jsontext.SyntacticError](err); syntax {
		errs.Add("body", malformed(se))
		return false, nil
	}
	// It stopped at the first value it could not store, before reading the
	// rest: malformed JSON after that value is still malformed JSON.
	if se := syntaxError(body); se != nil {
		errs.Add("body", malformed(se))
		return false, nil
	}
	// Decode again going on past such values, as encoding/json does, so
	// that every member that fits is there for its rules. Only a bad
	// request pays for these passes.
	_ = json.Unmarshal(body, dst, onPastErrors)
	errs.partial, errs.body = true, body
	if se, ok := errors.AsType[*json.SemanticError](err); ok {
		errs.stopped = pointerPath(body, se.JSONPointer)
	}
	return true, err
}

// TypeError records err from UnmarshalBody when the walk found nothing: a
// value that has the right JSON kind but does not fit its Go type.
func TypeError(errs *FieldErrors, err error) {
	if err == nil || errs.Len() > 0 {
		return
	}
	se, ok := errors.AsType[*json.SemanticError](err)
	if !ok {
		errs.Add("body", err.Error())
		return
	}
	location := errs.stopped
	if location == "" {
		location = "body"
	}
	if custom := se.Err; custom != nil && !errors.Is(custom, strconv.ErrRange) && !errors.Is(custom, strconv.ErrSyntax) {
		errs.Add(location, custom.Error()) // the type's own UnmarshalJSON or UnmarshalText refused it
		return
	}
	value := se.JSONKind.String()
	if se.JSONKind == '0' || se.JSONKind == '"' {
		value += " " + string(se.JSONValue)
	}
	if se.GoType == nil {
		errs.Add(location, "cannot hold "+value)
		return
	}
	errs.Add(location, "cannot hold "+value+" as "+se.GoType.String())
}

// syntaxError reads body as one JSON value and nothing after it.
func syntaxError(body []byte) *jsontext.SyntacticError {
	dec := jsontext.NewDecoder(bytes.NewReader(body), decodeOptions)
	_, err := dec.ReadValue()
	if err == nil {
		if _, err = dec.ReadToken(); err == io.EOF {
			return nil
		}
	}
	se, _ := errors.AsType[*jsontext.SyntacticError](err)
	return se
}

// malformed describes a syntax error without the package's name.
func malformed(se *jsontext.SyntacticError) string {
	return "malformed JSON: " + strings.TrimPrefix(se.Error(), "jsontext: ")
}

// pointerPath turns a JSON Pointer into this package's location form,
// "body.items[2].name": whether a token is an index or a name is read off
// the body, since "/2" may be either.
func pointerPath(body []byte, ptr jsontext.Pointer) string {
	at := &Path{Key: "body"}
	raw := body
	for token := range ptr.Tokens() {
		next := &Path{Parent: at}
		var found []byte
		switch jsonscan.KindOf(raw) {
		case jsonscan.Array:
			i, err := strconv.Atoi(token)
			if err != nil {
				return at.String()
			}
			next.Index = i
			for el := jsonscan.Elements(raw); el.Next(); {
				if el.Index() == i {
					found = el.Value()
					break
				}
			}
		case jsonscan.Object:
			next.Key = token
			for it := jsonscan.Members(raw); it.Next(); {
				if it.KeyIs(token) { // names are unique: the decoder refuses duplicates
					found = it.Value()
					break
				}
			}
		}
		if found == nil {
			return at.String()
		}
		at, raw = next, found
	}
	return at.String()
}

// CheckKind records "expected KIND" at at when raw has another kind, and
// reports whether raw may be walked further. Callers skip null values:
// the decoder leaves their fields alone, so they count as absent.
func CheckKind(errs *FieldErrors, raw []byte, want jsonscan.Kind, at *Path) bool {
	if jsonscan.KindOf(raw) == want {
		return true
	}
	errs.Add(at.String(), "expected "+want.String())
	return false
}

// CheckInteger is CheckKind for integer fields: a JSON number without a
// fraction or exponent.
func CheckInteger(errs *FieldErrors, raw []byte, at *Path) bool {
	if !jsonscan.IsInteger(raw) {
		errs.Add(at.String(), "expected integer")
		return false
	}
	return true
}

// IsNull reports whether raw is JSON null.
func IsNull(raw []byte) bool { return jsonscan.KindOf(raw) == jsonscan.Null }

// Invalid turns the error of a body's Validate method into a 400 problem,
// unless it is already a *bifrost.Error.
func Invalid(location string, err error) error {
	var be *bifrost.Error
	if errors.As(err, &be) {
		return be
	}
	var errs FieldErrors
	errs.Add(location, err.Error())
	return errs.Err()
}

// BodyRequired is the problem for an empty body where one is required.
func BodyRequired(errs *FieldErrors) {
	errs.Add("body", "required")
}
