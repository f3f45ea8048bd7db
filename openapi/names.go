package openapi

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// components names the Go types the paths refer to (and those they refer
// to in turn), points every reference at its name, and returns the
// components: those schemas and the builtin parts.
func (b *builder) components(paths map[string]*PathItem) (*Components, error) {
	ids, err := b.referred(paths)
	if err != nil {
		return nil, err
	}
	schemas := builtinSchemas()
	reserved := map[string]bool{}
	for name := range schemas {
		reserved[name] = true
	}
	names := componentNames(ids, reserved)
	rewrite := func(s *Schema) {
		if isTypeRef(s.Ref) {
			s.Ref = schemaRef + names[s.Ref]
		}
	}
	for _, path := range sortedKeys(paths) {
		eachSchema(paths[path], rewrite)
	}
	for _, id := range ids {
		eachSchema(b.schemas[id], rewrite)
		schemas[names[id]] = b.schemas[id]
	}
	return &Components{
		Schemas:         schemas,
		Responses:       builtinResponses(),
		Parameters:      builtinParameters(),
		Headers:         builtinHeaders(),
		SecuritySchemes: securitySchemes(),
	}, nil
}

// referred are the Go types the paths refer to, from the operations down
// through the schemas of those types. Types nobody refers to are left out.
func (b *builder) referred(paths map[string]*PathItem) ([]string, error) {
	seen := map[string]bool{}
	var ids, missing []string
	visit := func(s *Schema) {
		id := s.Ref
		if !isTypeRef(id) || seen[id] {
			return
		}
		seen[id] = true
		if _, ok := b.schemas[id]; !ok {
			missing = append(missing, id)
			return
		}
		ids = append(ids, id)
	}
	for _, path := range sortedKeys(paths) {
		eachSchema(paths[path], visit)
	}
	for i := 0; i < len(ids); i++ {
		eachSchema(b.schemas[ids[i]], visit)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("openapi: no workflow carries the schema of %s", strings.Join(missing, ", "))
	}
	return ids, nil
}

// isTypeRef reports whether ref names a Go type (the generator's reference),
// not a component ("#/components/...").
func isTypeRef(ref string) bool { return ref != "" && !strings.HasPrefix(ref, "#") }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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
