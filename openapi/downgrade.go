package openapi

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
//   - keywords 3.0 does not know (contentEncoding, contentMediaType,
//     $comment) and 3.1-only document members (webhooks,
//     jsonSchemaDialect, info.summary, license.identifier) are dropped.
func downgrade(doc *Object) {
	doc.Set("openapi", "3.0.3")
	doc.Delete("webhooks")
	doc.Delete("jsonSchemaDialect")
	if info := doc.Object("info"); info != nil {
		info.Delete("summary")
		if l := info.Object("license"); l != nil {
			l.Delete("identifier")
		}
	}
	if paths := doc.Object("paths"); paths != nil {
		for _, path := range paths.members {
			item, _ := path.value.(*Object)
			if item == nil {
				continue
			}
			for _, m := range item.members {
				switch op := m.value.(type) {
				case *Object:
					downgradeOperation(op)
				case []any: // path-level parameters
					for _, p := range op {
						downgradeParameter(p)
					}
				}
			}
		}
	}
	c := doc.Object("components")
	if c == nil {
		return
	}
	each := func(name string, f func(any)) {
		if o := c.Object(name); o != nil {
			for _, m := range o.members {
				f(m.value)
			}
		}
	}
	each("schemas", func(v any) { downgradeSchema(v) })
	each("responses", downgradeResponse)
	each("parameters", downgradeParameter)
	each("headers", downgradeParameter)
	each("requestBodies", func(v any) {
		if o, ok := v.(*Object); ok {
			downgradeContentHolder(o)
		}
	})
}

func downgradeOperation(op *Object) {
	if params, ok := op.Get("parameters"); ok {
		if list, ok := params.([]any); ok {
			for _, p := range list {
				downgradeParameter(p)
			}
		}
	}
	downgradeContentHolder(op.Object("requestBody"))
	if rs := op.Object("responses"); rs != nil {
		for _, m := range rs.members {
			downgradeResponse(m.value)
		}
	}
}

// downgradeParameter handles a parameter or a header object.
func downgradeParameter(v any) {
	p, ok := v.(*Object)
	if !ok || p == nil {
		return
	}
	downgradeSchema(p.Object("schema"))
	downgradeContentHolder(p)
}

func downgradeResponse(v any) {
	r, ok := v.(*Object)
	if !ok || r == nil {
		return
	}
	if hs := r.Object("headers"); hs != nil {
		for _, m := range hs.members {
			downgradeParameter(m.value)
		}
	}
	downgradeContentHolder(r)
}

// downgradeContentHolder handles the schemas of an object's content map.
func downgradeContentHolder(v *Object) {
	if v == nil {
		return
	}
	if content := v.Object("content"); content != nil {
		for _, m := range content.members {
			if mt, ok := m.value.(*Object); ok {
				downgradeSchema(mt.Object("schema"))
			}
		}
	}
}

// downgradeSchema rewrites one schema and the schemas inside it.
func downgradeSchema(v any) {
	s, ok := v.(*Object)
	if !ok || s == nil {
		return
	}
	// The schemas inside first.
	if props := s.Object("properties"); props != nil {
		for _, m := range props.members {
			downgradeSchema(m.value)
		}
	}
	for _, key := range []string{"items", "additionalProperties", "not"} {
		downgradeSchema(s.Object(key))
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		if list, ok := s.Get(key); ok {
			if list, ok := list.([]any); ok {
				for _, e := range list {
					downgradeSchema(e)
				}
			}
		}
	}

	// type: [T, "null"]
	if t, ok := s.Get("type"); ok {
		if list, ok := t.([]any); ok {
			var types []any
			null := false
			for _, e := range list {
				if e == "null" {
					null = true
				} else {
					types = append(types, e)
				}
			}
			switch {
			case len(types) == 1:
				s.replace("type", member{"type", types[0]})
				if null {
					s.insertAfter("type", member{"nullable", true})
				}
			case len(types) == 0:
				s.Delete("type")
			default: // several real types: 3.0 has no form for that; any value
				s.Delete("type")
			}
		}
	}
	// oneOf/anyOf with a null branch.
	for _, key := range []string{"oneOf", "anyOf"} {
		v, ok := s.Get(key)
		if !ok {
			continue
		}
		list, _ := v.([]any)
		var rest []any
		null := false
		for _, e := range list {
			if isNullSchema(e) {
				null = true
			} else {
				rest = append(rest, e)
			}
		}
		if !null {
			continue
		}
		if len(rest) == 1 {
			s.replace(key, member{"allOf", rest}, member{"nullable", true})
		} else {
			s.replace(key, member{key, rest}, member{"nullable", true})
		}
	}
	// $ref with siblings.
	if ref, ok := s.Get("$ref"); ok && s.Len() > 1 {
		wrapped := NewObject("$ref", ref)
		if all, ok := s.Get("allOf"); ok {
			list, _ := all.([]any)
			s.Set("allOf", append([]any{wrapped}, list...))
			s.Delete("$ref")
		} else {
			s.replace("$ref", member{"allOf", []any{wrapped}})
		}
	}
	// Numeric exclusive bounds.
	for _, pair := range [][2]string{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
		v, ok := s.Get(pair[0])
		if !ok {
			continue
		}
		if _, isBool := v.(bool); isBool {
			continue
		}
		s.replace(pair[0], member{pair[1], v}, member{pair[0], true})
	}
	if ex, ok := s.Get("examples"); ok {
		if list, ok := ex.([]any); ok && len(list) > 0 {
			s.replace("examples", member{"example", list[0]})
		} else {
			s.Delete("examples")
		}
	}
	if c, ok := s.Get("const"); ok {
		s.replace("const", member{"enum", []any{c}})
	}
	for _, key := range []string{"contentEncoding", "contentMediaType", "$comment", "$schema", "$id"} {
		s.Delete(key)
	}
}

func isNullSchema(v any) bool {
	o, ok := v.(*Object)
	if !ok || o.Len() != 1 {
		return false
	}
	t, _ := o.Get("type")
	return t == "null"
}

// replace puts members in the place of key (dropping any other member of
// the same names).
func (o *Object) replace(key string, with ...member) {
	i := -1
	for j, m := range o.members {
		if m.key == key {
			i = j
		}
	}
	if i < 0 {
		for _, m := range with {
			o.Set(m.key, m.value)
		}
		return
	}
	var out []member
	for j, m := range o.members {
		if j == i {
			out = append(out, with...)
			continue
		}
		dup := false
		for _, w := range with {
			dup = dup || w.key == m.key
		}
		if !dup {
			out = append(out, m)
		}
	}
	o.members = out
}

// insertAfter puts m right after the member key.
func (o *Object) insertAfter(key string, m member) {
	v, _ := o.Get(key)
	o.replace(key, member{key, v}, m)
}
