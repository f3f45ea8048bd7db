package bind

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

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
	stopped string // where encoding/json stopped on a value it could not store
}

// Partial reports that encoding/json stopped at a value it could not store:
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
// did encoding/json stop there: only then are the member's rules checked, so
// a value of the wrong kind is reported once, as such, and the rules of
// every other member are still checked (SPEC §8: one 400 lists them all).
func (e *FieldErrors) Valid(at *Path, key string) bool {
	if len(e.list) == 0 && e.stopped == "" {
		return true
	}
	loc := at.String() + "." + key
	if loc == e.stopped {
		return false
	}
	for _, fe := range e.list {
		if fe.Location == loc {
			return false
		}
	}
	return true
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
		raw, ok := member(in.Body(), name)
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
		raw, ok := member(in.Body(), name)
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

// member returns the raw value of the top-level member name of a JSON object;
// null counts as absent.
func member(body []byte, name string) ([]byte, bool) {
	var found []byte
	for it := jsonscan.Members(body); it.Next(); {
		if it.KeyIs(name) { // the last one wins, as in encoding/json
			found = it.Value()
		}
	}
	if found == nil || jsonscan.KindOf(found) == jsonscan.Null {
		return nil, false
	}
	return found, true
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

// Elem returns &s[i], or a new zero T when encoding/json stopped before
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

// UnmarshalBody decodes the JSON body into dst. Malformed JSON is recorded
// and reported as false: nothing more can be checked. A value of the wrong
// type is not recorded here: the generated walk names every one of them; the
// error returned is kept for what a walk cannot see (a number too large for
// its Go type, a value its UnmarshalJSON refuses).
func UnmarshalBody(in *Input, errs *FieldErrors, dst any) (ok bool, valueErr error) {
	err := json.Unmarshal(in.Body(), dst)
	if err == nil {
		errs.body = in.Body()
		return true, nil
	}
	if _, syntax := errors.AsType[*json.SyntaxError](err); syntax {
		errs.Add("body", "malformed JSON: "+trimJSONError(err))
		return false, nil
	}
	errs.partial, errs.body = true, in.Body()
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		errs.stopped = "body." + te.Field
	}
	return true, err
}

// TypeError records err from UnmarshalBody when the walk found nothing: a
// value that has the right JSON kind but does not fit its Go type.
func TypeError(errs *FieldErrors, err error) {
	if err == nil || errs.Len() > 0 {
		return
	}
	te, ok := errors.AsType[*json.UnmarshalTypeError](err)
	if !ok {
		errs.Add("body", err.Error())
		return
	}
	location := "body"
	if te.Field != "" {
		location += "." + te.Field
	}
	errs.Add(location, "cannot hold "+te.Value+" as "+te.Type.String())
}

func trimJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at offset " + strconv.FormatInt(se.Offset, 10)
	}
	return err.Error()
}

// CheckKind records "expected KIND" at at when raw has another kind, and
// reports whether raw may be walked further. Callers skip null values:
// encoding/json leaves their fields alone, so they count as absent.
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
