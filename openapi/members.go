package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Members is a JSON object whose members keep the order they were set in:
// a struct's properties in field order, a response's headers as added.
type Members[V any] []Member[V]

// Member is one named member of Members.
type Member[V any] struct {
	Name  string
	Value V
}

// Set replaces the member name in place, or appends it.
func (m *Members[V]) Set(name string, v V) {
	for i := range *m {
		if (*m)[i].Name == name {
			(*m)[i].Value = v
			return
		}
	}
	*m = append(*m, Member[V]{name, v})
}

// Get returns the member name.
func (m Members[V]) Get(name string) (V, bool) {
	for _, e := range m {
		if e.Name == name {
			return e.Value, true
		}
	}
	var zero V
	return zero, false
}

// MarshalJSON writes the members in order.
func (m Members[V]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := marshal(e.Name)
		if err != nil {
			return nil, err
		}
		value, err := marshal(e.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object, keeping the order of its members.
func (m *Members[V]) UnmarshalJSON(data []byte) error {
	dec := newDecoder(data)
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return fmt.Errorf("openapi: want an object, not %v", tok)
	}
	out := Members[V]{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		var v V
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		out.Set(key.(string), v)
	}
	if _, err := dec.Token(); err != nil { // }
		return err
	}
	*m = out
	return nil
}

// marshal writes v as compact JSON without escaping <, > and & (the
// document is not embedded in HTML).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// MarshalJSON writes v (an OpenAPI document, a Fragment, any value encoding/json
// writes) as a file: indented by two spaces, <, > and & as they are, with a
// final newline.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Compact writes v as JSON on one line, <, > and & as they are.
func Compact(v any) (string, error) {
	b, err := marshal(v)
	return string(b), err
}

// newDecoder reads JSON strictly: numbers as json.Number (their text
// kept), no member the model does not know.
func newDecoder(data []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	return dec
}

// decodeStrict reads exactly one JSON value into v.
func decodeStrict(data []byte, v any) error {
	dec := newDecoder(data)
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("openapi: data after the JSON value")
	}
	return nil
}
