package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// A tree is JSON read back with the order of object members and the text
// of numbers kept, for writers of other encodings (YAML). A node is one
// of: *tree (an object), []any, string, bool, json.Number, or nil.

// tree is a JSON object whose members keep their order.
type tree struct {
	members []treeMember
}

type treeMember struct {
	key   string
	value any
}

// parseTree reads one JSON value.
func parseTree(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("openapi: data after the JSON value")
	}
	return v, nil
}

func parseNode(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := &tree{}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := parseNode(dec)
			if err != nil {
				return nil, err
			}
			obj.members = append(obj.members, treeMember{key.(string), v})
		}
		_, err := dec.Token() // }
		return obj, err
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			v, err := parseNode(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token() // ]
		return list, err
	}
	return tok, nil
}

// scalarText is the JSON text of a node that is not an object or array.
func scalarText(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return string(v), nil
	}
	return "", fmt.Errorf("openapi: cannot write a %T", v)
}
