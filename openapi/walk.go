package openapi

// eachSchema calls f with every schema in v (a *PathItem, *Operation,
// *Parameter, *RequestBody, *Response, *Header, *Components or *Schema) and
// every schema inside those, inner ones first.
func eachSchema(v any, f func(*Schema)) {
	switch v := v.(type) {
	case *PathItem:
		if v != nil {
			v.Operations(func(_ string, op *Operation) { eachSchema(op, f) })
		}
	case *Operation:
		if v == nil {
			return
		}
		for _, p := range v.Parameters {
			eachSchema(p, f)
		}
		eachSchema(v.RequestBody, f)
		for _, code := range sortedKeys(v.Responses) {
			eachSchema(v.Responses[code], f)
		}
	case *Parameter:
		if v != nil {
			eachSchema(v.Schema, f)
		}
	case *RequestBody:
		if v != nil {
			eachContent(v.Content, f)
		}
	case *Response:
		if v == nil {
			return
		}
		for _, h := range v.Headers {
			eachSchema(h.Value, f)
		}
		eachContent(v.Content, f)
	case *Header:
		if v != nil {
			eachSchema(v.Schema, f)
		}
	case *Components:
		eachComponent(v, f)
	case *Schema:
		if v != nil {
			eachInner(v, f)
			f(v)
		}
	}
}

func eachContent(content map[string]*MediaType, f func(*Schema)) {
	for _, mt := range sortedKeys(content) {
		if m := content[mt]; m != nil {
			eachSchema(m.Schema, f)
		}
	}
}

func eachComponent(c *Components, f func(*Schema)) {
	if c == nil {
		return
	}
	for _, name := range sortedKeys(c.Schemas) {
		eachSchema(c.Schemas[name], f)
	}
	for _, name := range sortedKeys(c.Responses) {
		eachSchema(c.Responses[name], f)
	}
	for _, p := range c.Parameters {
		eachSchema(p.Value, f)
	}
	for _, h := range c.Headers {
		eachSchema(h.Value, f)
	}
}

// eachInner walks the schemas inside s.
func eachInner(s *Schema, f func(*Schema)) {
	for _, p := range s.Properties {
		eachSchema(p.Value, f)
	}
	eachSchema(s.Items, f)
	eachSchema(s.AdditionalProperties, f)
	for _, list := range [][]*Schema{s.AllOf, s.AnyOf, s.OneOf} {
		for _, e := range list {
			eachSchema(e, f)
		}
	}
}
