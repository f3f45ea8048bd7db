package runtime

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// neverStored are the request headers no execution record keeps, whatever
// the endpoint (SPEC §8): credentials a caller sends, to Bifrost or to a
// public workflow. Options.RedactHeaders adds to them.
var neverStored = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Bifrost-Key"}

// redactor removes those headers from a stored input: the decoded args of a
// workflow that takes *bifrost.Request ("request": {"header": …}) or the
// headers themselves ("header": …). The workflow still sees them when it
// runs in the request; an async one, run later from the record, does not.
type redactor struct {
	names map[string]bool // canonical header names
}

func newRedactor(extra []string) redactor {
	r := redactor{names: map[string]bool{}}
	for _, name := range append(neverStored, extra...) {
		r.names[http.CanonicalHeaderKey(name)] = true
	}
	return r
}

// input returns the stored form of an input. Inputs without headers, the
// common case, are returned as they are without being parsed.
func (r redactor) input(raw []byte) []byte {
	if !bytes.Contains(raw, []byte(`"header":`)) {
		return raw
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return raw
	}
	changed := false
	if h, ok := r.headers(top["header"]); ok {
		top["header"], changed = h, true
	}
	if req, ok := top["request"]; ok {
		var fields map[string]json.RawMessage
		if json.Unmarshal(req, &fields) == nil {
			if h, ok := r.headers(fields["header"]); ok {
				fields["header"] = h
				if out, err := json.Marshal(fields); err == nil {
					top["request"], changed = out, true
				}
			}
		}
	}
	if !changed {
		return raw
	}
	out, err := json.Marshal(top)
	if err != nil {
		return raw
	}
	return out
}

// headers returns the header object without the redacted names, and
// whether it removed any.
func (r redactor) headers(raw json.RawMessage) (json.RawMessage, bool) {
	var h map[string][]string
	if len(raw) == 0 || json.Unmarshal(raw, &h) != nil {
		return nil, false
	}
	removed := false
	for name := range h {
		if r.names[http.CanonicalHeaderKey(name)] {
			delete(h, name)
			removed = true
		}
	}
	if !removed {
		return nil, false
	}
	out, err := json.Marshal(h)
	return out, err == nil
}
