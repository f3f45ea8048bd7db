package bind

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/bifrost-go/bifrost"
)

// BodyKind is the kind of a request body, from its Content-Type.
type BodyKind int

const (
	NoBody    BodyKind = iota // empty body
	JSONBody                  // application/json or application/*+json
	FormBody                  // application/x-www-form-urlencoded
	OtherBody                 // anything else
)

// Input is what generated decoders read a request from.
type Input struct {
	Request *bifrost.Request
	Kind    BodyKind
	form    url.Values

	// A JSON body whose members are read one by one (bodyMember) is
	// checked once: checked says it was, malformed what was found.
	checked, malformed bool
}

// NewInput classifies the body of req by its Content-Type and parses a form
// body. A form that cannot be parsed is a 400 problem.
func NewInput(req *bifrost.Request) (*Input, error) {
	in := new(Input)
	if err := in.Reset(req, true); err != nil {
		return nil, err
	}
	return in, nil
}

// Reset fills in for req, in place, so the server can keep it in its
// per-request state. A form is parsed only when parseForm is set: a workflow
// that takes the raw bytes accepts any body, malformed forms included.
func (in *Input) Reset(req *bifrost.Request, parseForm bool) error {
	*in = Input{Request: req, Kind: bodyKind(req.Header.Get("Content-Type"), len(req.Body))}
	if in.Kind != FormBody || !parseForm {
		return nil
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return &bifrost.Error{Status: http.StatusBadRequest, Title: http.StatusText(http.StatusBadRequest),
			Detail: "the form body is malformed", Errors: []bifrost.FieldError{{Location: "body", Message: "malformed form encoding"}}}
	}
	in.form = form
	return nil
}

func bodyKind(contentType string, size int) BodyKind {
	if size == 0 {
		return NoBody
	}
	if contentType == "application/json" { // the common case, without parsing
		return JSONBody
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return OtherBody
	}
	switch {
	case mt == "application/json", strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		return JSONBody
	case mt == "application/x-www-form-urlencoded":
		return FormBody
	}
	return OtherBody
}

// Body returns the raw request body.
func (in *Input) Body() []byte { return in.Request.Body }

// Query returns the first value of the query parameter name.
func (in *Input) Query(name string) (string, bool) {
	vs := in.Request.Query[name]
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// QueryAll returns every value of the query parameter name.
func (in *Input) QueryAll(name string) []string { return in.Request.Query[name] }

// Header returns the first value of the header name (canonical form).
func (in *Input) Header(name string) (string, bool) {
	vs := in.Request.Header[name]
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// HeaderAll returns every value of the header name (canonical form).
func (in *Input) HeaderAll(name string) []string { return in.Request.Header[name] }

// Form returns the first value of the form field name, when the body is a form.
func (in *Input) Form(name string) (string, bool) {
	vs := in.form[name]
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// FormAll returns every value of the form field name, when the body is a form.
func (in *Input) FormAll(name string) []string { return in.form[name] }

// FormMap returns the form as a map: a field sent once is a string, a field
// sent several times a []any of strings. It backs map and any body
// parameters when the body is a form (Slack slash commands).
func (in *Input) FormMap() map[string]any {
	m := make(map[string]any, len(in.form))
	for k, vs := range in.form {
		if len(vs) == 1 {
			m[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		m[k] = list
	}
	return m
}
