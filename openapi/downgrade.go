package openapi

import "slices"

// downgrade rewrites a 3.1 document as OpenAPI 3.0.3 in place, the way
// 3.0 consumers need it (openapi-consumers.md):
//
//   - type: [T, "null"] becomes type: T with nullable: true;
//   - oneOf or anyOf of a schema and {type: "null"} becomes allOf: [schema]
//     with nullable: true (a nullable $ref);
//   - a $ref with sibling keywords becomes allOf: [{$ref}] beside them,
//     since 3.0 ignores the siblings of a $ref;
//   - numeric exclusiveMinimum/exclusiveMaximum become minimum/maximum
//     with the boolean form;
//   - examples (a list) becomes example (its first item); const becomes a
//     one-item enum;
//   - contentEncoding, which 3.0 does not know, is dropped.
//
// The model has no other 3.1-only member to drop.
func downgrade(doc *OpenAPI) {
	doc.OpenAPI = "3.0.3"
	seen := map[*Schema]bool{}
	once := func(s *Schema) {
		if !seen[s] {
			seen[s] = true
			downgradeSchema(s)
		}
	}
	for _, path := range sortedKeys(doc.Paths) {
		eachSchema(doc.Paths[path], once)
	}
	eachSchema(doc.Components, once)
}

// downgradeSchema rewrites one schema (the walk reaches the schemas inside).
func downgradeSchema(s *Schema) {
	nullableType(s)
	s.OneOf = nullableBranch(s, s.OneOf)
	s.AnyOf = nullableBranch(s, s.AnyOf)
	refSiblings(s)
	if e := s.ExclusiveMinimum; e != nil && e.Bound != "" {
		s.Minimum, s.ExclusiveMinimum = e.Bound, &Exclusive{}
	}
	if e := s.ExclusiveMaximum; e != nil && e.Bound != "" {
		s.Maximum, s.ExclusiveMaximum = e.Bound, &Exclusive{}
	}
	if len(s.Examples) > 0 {
		s.Example = s.Examples[0]
	}
	s.Examples = nil
	if s.Const != nil {
		s.Enum, s.Const = []any{s.Const}, nil
	}
	s.ContentEncoding = ""
}

// nullableType: type [T, "null"] becomes type T, nullable. Several real
// types have no 3.0 form: the schema allows any value then.
func nullableType(s *Schema) {
	if len(s.Type) < 2 {
		return
	}
	real := slices.DeleteFunc(slices.Clone(s.Type), func(t string) bool { return t == "null" })
	s.Type = nil
	if len(real) == 1 {
		s.Type = real
		s.Nullable = true
	}
}

// nullableBranch takes {type: "null"} out of a oneOf or anyOf list: the
// schema becomes nullable, and one branch left is an allOf of one.
func nullableBranch(s *Schema, list []*Schema) []*Schema {
	rest := slices.DeleteFunc(slices.Clone(list), isNullSchema)
	if len(rest) == len(list) {
		return list
	}
	s.Nullable = true
	if len(rest) == 1 {
		s.AllOf = append(rest, s.AllOf...)
		return nil
	}
	return rest
}

// isNullSchema reports whether s is {type: "null"}.
func isNullSchema(s *Schema) bool {
	if s == nil || !slices.Equal(s.Type, Types{"null"}) {
		return false
	}
	rest := *s
	rest.Type = nil
	return rest.isZero()
}

// refSiblings: 3.0 ignores the siblings of a $ref, so a $ref with any
// becomes an allOf of it beside them.
func refSiblings(s *Schema) {
	if s.Ref == "" {
		return
	}
	rest := *s
	rest.Ref = ""
	if rest.isZero() {
		return
	}
	s.AllOf = append([]*Schema{{Ref: s.Ref}}, s.AllOf...)
	s.Ref = ""
}
