package openapi

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// components gathers the schemas the paths refer to (and those they refer
// to in turn), names them, points every reference at its name, and returns
// the components object.
func (b *builder) components(paths map[string]*Object) (*Object, error) {
	// The types referred to, from the operations down.
	parsed := map[string]any{}
	var queue []string
	var missing []string
	visit := func(v any) {
		refs(v, func(id string) {
			if _, seen := parsed[id]; seen {
				return
			}
			text, ok := b.schemas[id]
			if !ok {
				missing = append(missing, id)
				parsed[id] = nil
				return
			}
			s, err := Parse([]byte(text))
			if err != nil {
				s = fmt.Errorf("schema of %s: %w", id, err)
			}
			parsed[id] = s
			queue = append(queue, id)
		})
	}
	for _, item := range paths {
		visit(item)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if _, isErr := parsed[id].(error); !isErr {
			visit(parsed[id])
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("openapi: no workflow carries the schema of %s", strings.Join(slices.Compact(missing), ", "))
	}
	ids := make([]string, 0, len(parsed))
	for id, s := range parsed {
		if err, isErr := s.(error); isErr {
			return nil, fmt.Errorf("openapi: %w", err)
		}
		ids = append(ids, id)
	}

	builtin := builtinSchemas()
	reserved := map[string]bool{}
	for name := range builtin {
		reserved[name] = true
	}
	names := componentNames(ids, reserved)
	rewrite := func(v any) { setRefs(v, func(id string) string { return schemaRef + names[id] }) }
	for _, item := range paths {
		rewrite(item)
	}
	schemas := map[string]*Object{}
	for name, s := range builtin {
		schemas[name] = s
	}
	for _, id := range ids {
		s := parsed[id]
		rewrite(s)
		obj, ok := s.(*Object)
		if !ok {
			return nil, fmt.Errorf("openapi: the schema of %s is not a JSON object", id)
		}
		schemas[names[id]] = obj
	}
	responses := builtinResponses()
	respObj := &Object{}
	for _, name := range sortedKeys(responses) {
		respObj.Set(name, responses[name])
	}
	return NewObject(
		"schemas", sortedObject(schemas),
		"responses", respObj,
		"parameters", builtinParameters(),
		"headers", builtinHeaders(),
		"securitySchemes", securitySchemes(),
	), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// refs calls f with every Go type referred to in v: each "$ref" member whose
// value does not start with "#".
func refs(v any, f func(id string)) {
	switch v := v.(type) {
	case *Object:
		for _, m := range v.members {
			if s, ok := m.value.(string); ok && m.key == "$ref" && !strings.HasPrefix(s, "#") {
				f(s)
				continue
			}
			refs(m.value, f)
		}
	case []any:
		for _, e := range v {
			refs(e, f)
		}
	}
}

// setRefs replaces every reference to a Go type in v by to(type).
func setRefs(v any, to func(id string) string) {
	switch v := v.(type) {
	case *Object:
		for i, m := range v.members {
			if s, ok := m.value.(string); ok && m.key == "$ref" && !strings.HasPrefix(s, "#") {
				v.members[i].value = to(s)
				continue
			}
			setRefs(m.value, to)
		}
	case []any:
		for _, e := range v {
			setRefs(e, to)
		}
	}
}

// componentNames names each type: its short name (the Go type name, with
// the short names of its type arguments: Page[shop.Item] is PageItem) when
// no other type has it, else the short name qualified by as many trailing
// elements of the package path as tell the types apart (ShopOrder,
// V2ShopOrder), and a number as a last resort. reserved names are taken.
func componentNames(ids []string, reserved map[string]bool) map[string]string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	byShort := map[string][]string{}
	for _, id := range ids {
		short := shortName(id)
		byShort[short] = append(byShort[short], id)
	}
	taken := map[string]bool{}
	for name := range reserved {
		taken[name] = true
	}
	names := map[string]string{}
	for _, short := range sortedKeys(byShort) {
		group := byShort[short]
		var candidates []string
		if len(group) == 1 && !taken[short] {
			candidates = []string{short}
		} else {
			depth := 0
			for _, id := range group {
				depth = max(depth, len(strings.Split(typePackage(id), "/")))
			}
			for k := 1; k <= max(depth, 1); k++ {
				candidates = candidates[:0]
				for _, id := range group {
					candidates = append(candidates, qualifier(typePackage(id), k)+short)
				}
				if distinct(candidates, taken) {
					break
				}
			}
		}
		for i, id := range group {
			name := candidates[i]
			for n := 2; taken[name]; n++ {
				name = candidates[i] + strconv.Itoa(n)
			}
			taken[name] = true
			names[id] = name
		}
	}
	return names
}

func distinct(names []string, taken map[string]bool) bool {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] || taken[n] {
			return false
		}
		seen[n] = true
	}
	return true
}

// qualifier is the last k elements of a package path as an identifier:
// example.com/shop/v2 and k=2 give ShopV2.
func qualifier(path string, k int) string {
	parts := strings.Split(path, "/")
	if k < len(parts) {
		parts = parts[len(parts)-k:]
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(camel(p))
	}
	return b.String()
}

// camel turns a path element into an exported identifier: body_struct →
// BodyStruct, yaml.v3 → YamlV3.
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if !isIdentRune(r) || r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isIdentRune(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
}

// typePackage is the package path of a named type written as
// types.TypeString writes it: example.com/shop for example.com/shop.Order.
func typePackage(id string) string {
	pkg, _, _ := splitNamed(id)
	return pkg
}

// splitNamed splits a named type into its package path, name and type
// arguments: example.com/shop.Page[example.com/shop.Item] gives
// example.com/shop, Page and [example.com/shop.Item].
func splitNamed(id string) (pkg, name string, args []string) {
	head := id
	if i := strings.IndexByte(id, '['); i >= 0 {
		head = id[:i]
		args = splitArgs(id[i+1 : len(id)-1])
	}
	slash := strings.LastIndexByte(head, '/')
	if dot := strings.IndexByte(head[slash+1:], '.'); dot >= 0 {
		return head[:slash+1+dot], head[slash+1+dot+1:], args
	}
	return "", head, args
}

// splitArgs splits type arguments at the commas outside brackets.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(', '{':
			depth++
		case ']', ')', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// shortName is the readable name of a type: Order, PageItem, ItemList.
func shortName(id string) string {
	switch {
	case strings.HasPrefix(id, "*"):
		return shortName(id[1:])
	case strings.HasPrefix(id, "[]"):
		return shortName(id[2:]) + "List"
	case strings.HasPrefix(id, "["):
		if i := strings.IndexByte(id, ']'); i > 0 {
			return shortName(id[i+1:]) + "List"
		}
	case strings.HasPrefix(id, "map["):
		depth := 0
		for i := 3; i < len(id); i++ {
			switch id[i] {
			case '[':
				depth++
			case ']':
				depth--
				if depth == 0 {
					return shortName(id[i+1:]) + "Map"
				}
			}
		}
	case strings.HasPrefix(id, "struct{"), strings.HasPrefix(id, "interface{"), strings.HasPrefix(id, "func("), id == "any":
		return "Object"
	}
	_, name, args := splitNamed(id)
	out := camel(name)
	if out == "" {
		out = "Type"
	}
	for _, a := range args {
		out += shortName(a)
	}
	return out
}
