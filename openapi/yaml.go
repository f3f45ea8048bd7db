package openapi

import (
	"bytes"
	"fmt"
	"strings"
)

// MarshalYAML encodes v (an OpenAPI document, or any value encoding/json writes) as
// a block-style YAML document, members in the order of its JSON. Strings
// that a YAML reader could take for something else (numbers, booleans,
// status codes such as "200", anything with a colon) are double-quoted; the
// rest are plain.
func MarshalYAML(v any) ([]byte, error) {
	data, err := marshal(v)
	if err != nil {
		return nil, err
	}
	node, err := parseTree(data)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	switch n := node.(type) {
	case *tree:
		if len(n.members) > 0 {
			err := yamlObject(&b, n, 0, false)
			return b.Bytes(), err
		}
	case []any:
		if len(n) > 0 {
			err := yamlArray(&b, n, 0)
			return b.Bytes(), err
		}
	}
	s, err := yamlScalar(node)
	if err != nil {
		return nil, err
	}
	b.WriteString(s + "\n")
	return b.Bytes(), nil
}

// yamlObject writes the members of a non-empty object at indent; with
// inline, the first member continues the current line (after "- ").
func yamlObject(b *bytes.Buffer, o *tree, indent int, inline bool) error {
	for i, m := range o.members {
		if i > 0 || !inline {
			b.WriteString(strings.Repeat(" ", indent))
		}
		b.WriteString(yamlString(m.key))
		b.WriteByte(':')
		if err := yamlMember(b, m.value, indent+2); err != nil {
			return err
		}
	}
	return nil
}

// yamlMember writes the value of a member or item whose key or dash is
// already written: a scalar on the same line, a collection below it.
func yamlMember(b *bytes.Buffer, v any, indent int) error {
	switch v := v.(type) {
	case *tree:
		if len(v.members) > 0 {
			b.WriteByte('\n')
			return yamlObject(b, v, indent, false)
		}
	case []any:
		if len(v) > 0 {
			b.WriteByte('\n')
			return yamlArray(b, v, indent)
		}
	}
	s, err := yamlScalar(v)
	if err != nil {
		return err
	}
	b.WriteString(" " + s + "\n")
	return nil
}

func yamlArray(b *bytes.Buffer, list []any, indent int) error {
	for _, item := range list {
		b.WriteString(strings.Repeat(" ", indent) + "-")
		if o, ok := item.(*tree); ok && len(o.members) > 0 {
			b.WriteByte(' ')
			if err := yamlObject(b, o, indent+2, true); err != nil {
				return err
			}
			continue
		}
		if err := yamlMember(b, item, indent+2); err != nil {
			return err
		}
	}
	return nil
}

func yamlScalar(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return yamlString(v), nil
	case *tree:
		return "{}", nil
	case []any:
		return "[]", nil
	}
	s, err := scalarText(v)
	if err != nil {
		return "", fmt.Errorf("openapi: yaml: %w", err)
	}
	return s, nil
}

// yamlString is s as a plain scalar when that reads back as the same string
// in every YAML reader, double-quoted otherwise.
func yamlString(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0xfeff || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// plain reports whether s can be written unquoted: it starts with a letter,
// a slash, an underscore or a dollar sign (so it is no number, date or
// indicator), holds only characters without meaning in block context, and
// is not a word that YAML 1.1 readers take for a boolean or null.
func plain(s string) bool {
	if s == "" || s[len(s)-1] == ' ' {
		return false
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null":
		return false
	}
	c := s[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '_' || c == '$') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(" _./$()+,;=@-'{}", c) >= 0:
			if c == ' ' && i+1 < len(s) && s[i+1] == ' ' {
				return false
			}
		default:
			return false
		}
	}
	return true
}
