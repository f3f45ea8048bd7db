package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// The document is a tree of JSON values whose objects keep their members in
// order, so that it is written the same way every time and reads in the
// order of the specification (openapi, info, servers, paths, components).
//
// A value is one of: *Object, []any, string, bool, int, int64, float64,
// json.Number, or nil.

// Object is a JSON object whose members keep the order they were set in.
type Object struct {
	members []member
}

type member struct {
	key   string
	value any
}

// NewObject returns an object with the given members: key, value, key, value…
func NewObject(kv ...any) *Object {
	o := &Object{members: make([]member, 0, len(kv)/2)}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Len is the number of members.
func (o *Object) Len() int { return len(o.members) }

// Keys returns the member names in order.
func (o *Object) Keys() []string {
	keys := make([]string, len(o.members))
	for i, m := range o.members {
		keys[i] = m.key
	}
	return keys
}

// Get returns the member key.
func (o *Object) Get(key string) (any, bool) {
	for _, m := range o.members {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

// Object returns the member key when it is an object, else nil.
func (o *Object) Object(key string) *Object {
	v, _ := o.Get(key)
	obj, _ := v.(*Object)
	return obj
}

// Has reports whether the object has the member key.
func (o *Object) Has(key string) bool {
	_, ok := o.Get(key)
	return ok
}

// Set replaces the member key in place, or appends it. It returns o.
func (o *Object) Set(key string, value any) *Object {
	for i, m := range o.members {
		if m.key == key {
			o.members[i].value = value
			return o
		}
	}
	o.members = append(o.members, member{key, value})
	return o
}

// Delete removes the member key.
func (o *Object) Delete(key string) {
	for i, m := range o.members {
		if m.key == key {
			o.members = append(o.members[:i], o.members[i+1:]...)
			return
		}
	}
}

// Clone returns a deep copy of o.
func (o *Object) Clone() *Object { return clone(o).(*Object) }

// clone copies a value deeply.
func clone(v any) any {
	switch v := v.(type) {
	case *Object:
		out := &Object{members: make([]member, len(v.members))}
		for i, m := range v.members {
			out.members[i] = member{m.key, clone(m.value)}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = clone(e)
		}
		return out
	}
	return v
}

// Parse reads one JSON value, keeping the order of object members and the
// text of numbers.
func Parse(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("openapi: data after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			obj := &Object{}
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				obj.members = append(obj.members, member{key.(string), v})
			}
			_, err := dec.Token() // }
			return obj, err
		case '[':
			list := []any{}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token() // ]
			return list, err
		}
		return nil, fmt.Errorf("openapi: unexpected %v", tok)
	}
	return tok, nil
}

// MarshalJSON writes the object compactly, members in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, o, "", ""); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Compact is v as JSON on one line.
func Compact(v any) (string, error) {
	var b bytes.Buffer
	err := writeJSON(&b, v, "", "")
	return b.String(), err
}

// MarshalJSON encodes v as a document: JSON indented by two spaces, members
// in order, with a final newline. (Object's method of the same name, for
// encoding/json, writes it compactly.)
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v, "\n", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// writeJSON writes v; nl is "" for compact output, "\n" followed by the
// current indentation otherwise.
func writeJSON(b *bytes.Buffer, v any, nl, indent string) error {
	inner := nl
	if nl != "" {
		inner = nl + indent
	}
	switch v := v.(type) {
	case *Object:
		if v.Len() == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, m := range v.members {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(inner)
			writeString(b, m.key)
			b.WriteByte(':')
			if nl != "" {
				b.WriteByte(' ')
			}
			if err := writeJSON(b, m.value, inner, indent); err != nil {
				return err
			}
		}
		b.WriteString(nl)
		b.WriteByte('}')
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(inner)
			if err := writeJSON(b, e, inner, indent); err != nil {
				return err
			}
		}
		b.WriteString(nl)
		b.WriteByte(']')
	case []string:
		list := make([]any, len(v))
		for i, s := range v {
			list[i] = s
		}
		return writeJSON(b, list, nl, indent)
	default:
		s, err := scalarJSON(v)
		if err != nil {
			return err
		}
		b.WriteString(s)
	}
	return nil
}

// scalarJSON is the JSON text of a value that is not an object or array.
func scalarJSON(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "null", nil
	case string:
		var b bytes.Buffer
		writeString(&b, v)
		return b.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case json.Number:
		return string(v), nil
	}
	return "", fmt.Errorf("openapi: cannot write a %T", v)
}

// writeString writes s as a JSON string, as encoding/json does but without
// escaping <, > and & (the document is not embedded in HTML).
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			b.WriteString(`\u202`)
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
