package openapi_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/openapi/openapitest"
	"github.com/bifrost-go/bifrost/workflow"
)

// fragment is a package's fragment from JSON texts: operations by workflow
// name, schemas by type.
func fragment(t *testing.T, ops, schemas map[string]string) []byte {
	t.Helper()
	raw := func(m map[string]string) map[string]json.RawMessage {
		out := map[string]json.RawMessage{}
		for k, v := range m {
			out[k] = json.RawMessage(v)
		}
		return out
	}
	data, err := json.Marshal(map[string]any{"operations": raw(ops), "schemas": raw(schemas)})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// shop is a set of workflows using every feature the builder adds to an
// operation.
func shop(t *testing.T) []*workflow.Spec {
	order := `{"type":"object","description":"Order is an order.","properties":{"id":{"type":"string"},"next":{"oneOf":[{"$ref":"example.com/shop.Order"},{"type":"null"}],"description":"The next order."},"items":{"type":"array","items":{"$ref":"example.com/shop.Page[example.com/shop.Item]"}}},"required":["id"]}`
	page := `{"type":"object","properties":{"items":{"type":"array","items":{"$ref":"example.com/shop.Item"}},"total":{"type":["integer","null"],"format":"int64","exclusiveMinimum":0}}}`
	item := `{"type":"object","properties":{"sku":{"type":"string","examples":["A-1"]},"kind":{"const":"item","type":"string"},"data":{"type":"string","format":"byte","contentEncoding":"base64"}}}`
	schemas := map[string]string{
		"example.com/shop.Order":                       order,
		"example.com/shop.Page[example.com/shop.Item]": page,
		"example.com/shop.Item":                        item,
		"example.com/billing.Order":                    `{"type":"object","properties":{"amount":{"type":"number"}}}`,
		"example.com/shop.Unused":                      `{"type":"object"}`,
		"example.com/shop.Problem":                     `{"type":"object","properties":{"code":{"type":"integer"}}}`,
	}
	body := `{"parameters":[{"name":"q","in":"query","required":true,"schema":{"type":"string"}}],` +
		`"requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"example.com/shop.Order"}}}},` +
		`"responses":{"200":{"description":"The workflow's result.","content":{"application/json":{"schema":{"$ref":"example.com/shop.Order"}}}}}}`
	shop := fragment(t, map[string]string{
		"create_order": body,
		"problem":      `{"responses":{"200":{"description":"r","content":{"application/json":{"schema":{"$ref":"example.com/shop.Problem"}}}}}}`,
	}, schemas)
	billing := fragment(t, map[string]string{
		"bill": `{"responses":{"default":{"description":"Status chosen.","content":{"application/json":{"schema":{"$ref":"example.com/billing.Order"}}}}}}`,
	}, map[string]string{"example.com/billing.Order": schemas["example.com/billing.Order"]})
	return []*workflow.Spec{
		{Name: "create_order", Package: "example.com/shop", Func: "CreateOrder", Summary: "CreateOrder creates an order.",
			Description: "More words.", Endpoint: true, Methods: []string{"POST", "GET"}, Tags: []string{"shop"},
			Body: workflow.BodyDecoded, OpenAPI: shop, Rate: &workflow.Rate{N: 1, Per: time.Second}},
		{Name: "bill", Package: "example.com/billing", Func: "Bill", Endpoint: true, Methods: []string{"PUT"}, Tags: []string{"billing"},
			OpenAPI: billing},
		{Name: "problem", Package: "example.com/shop", Func: "Problem", Endpoint: true, Methods: []string{"POST"}, Public: true,
			Verify: &workflow.Verify{Kind: "github"}, OpenAPI: shop},
		{Name: "later", Package: "example.com/shop", Func: "Later", Endpoint: true, Methods: []string{"POST"}, Mode: workflow.Async,
			Deprecated: true, Verify: &workflow.Verify{Kind: "standard"}, Tags: []string{"shop"}, OpenAPI: shop},
		{Name: "stripe", Package: "example.com/shop", Endpoint: true, Methods: []string{"POST"}, Public: true,
			Verify: &workflow.Verify{Kind: "stripe"}, OpenAPI: shop},
		{Name: "slack", Package: "example.com/shop", Endpoint: true, Methods: []string{"POST"}, Public: true,
			Verify: &workflow.Verify{Kind: "slack"}, OpenAPI: shop},
		{Name: "hmac", Package: "example.com/shop", Endpoint: true, Methods: []string{"DELETE"},
			Verify: &workflow.Verify{Kind: "hmac-sha256", SignatureHeader: "X-Sig"}, OpenAPI: shop},
		{Name: "internal", Package: "example.com/shop", Func: "Internal", OpenAPI: shop}, // no endpoint
	}
}

func build(t *testing.T, specs []*workflow.Spec, v openapi.Version, f openapi.Format) []byte {
	t.Helper()
	doc, err := openapi.Document(specs, v, f)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestValid checks the document in both versions and both formats with both
// validators.
func TestValid(t *testing.T) {
	for _, v := range []openapi.Version{openapi.V31, openapi.V30} {
		for _, f := range []openapi.Format{openapi.JSON, openapi.YAML} {
			openapitest.Validate(t, string(v)+" "+string(f), build(t, shop(t), v, f))
		}
	}
	openapitest.Validate(t, "no workflows", build(t, nil, openapi.V31, openapi.JSON))
}

// TestDeterministic: the document depends on the set of workflows, not on
// their order.
func TestDeterministic(t *testing.T) {
	want := build(t, shop(t), openapi.V31, openapi.JSON)
	ws := shop(t)
	slices.Reverse(ws)
	if got := build(t, ws, openapi.V31, openapi.JSON); !bytes.Equal(got, want) {
		t.Fatal("the document changed with the order of the workflows")
	}
}

func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at walks a decoded document: at(doc, "paths", "/x", "get").
func at(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[p]; !ok {
				t.Fatalf("no %q in %v (path %v)", p, keys(c), path)
			}
		case []any:
			i := 0
			for _, ch := range p {
				i = i*10 + int(ch-'0')
			}
			v = c[i]
		default:
			t.Fatalf("cannot walk %q into %T", p, v)
		}
	}
	return v
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOperations(t *testing.T) {
	doc := decode(t, build(t, shop(t), openapi.V31, openapi.JSON))
	paths := at(t, doc, "paths").(map[string]any)
	if got := keys(paths); !reflect.DeepEqual(got, []string{
		"/api/endpoints/bill", "/api/endpoints/create_order", "/api/endpoints/hmac", "/api/endpoints/later",
		"/api/endpoints/problem", "/api/endpoints/slack", "/api/endpoints/stripe",
		"/api/executions", "/api/executions/{id}", "/api/executions/{id}/cancel", "/api/executions/{id}/replay",
	}) {
		t.Fatalf("paths %v", got)
	}
	get := at(t, paths, "/api/endpoints/create_order", "get").(map[string]any)
	post := at(t, paths, "/api/endpoints/create_order", "post").(map[string]any)
	if get["operationId"] != "create_order_get" || post["operationId"] != "create_order_post" {
		t.Errorf("operation ids %v, %v", get["operationId"], post["operationId"])
	}
	if _, ok := get["requestBody"]; ok {
		t.Error("GET has a request body")
	}
	if got := jsonOf(t, at(t, post, "requestBody", "content", "application/json", "schema")); got != `{"$ref":"#/components/schemas/ShopOrder"}` {
		t.Errorf("body schema %s", got)
	}
	codes := func(op any) []string { return keys(at(t, op, "responses").(map[string]any)) }
	if got := codes(post); !reflect.DeepEqual(got, []string{"200", "400", "401", "403", "413", "415", "429", "500", "503", "504", "default"}) {
		t.Errorf("create_order POST responses %v", got)
	}
	if got := codes(get); !reflect.DeepEqual(got, []string{"200", "400", "401", "403", "429", "500", "503", "504", "default"}) {
		t.Errorf("create_order GET responses %v", got)
	}
	if got := jsonOf(t, at(t, post, "security")); got != `[{"bearerAuth":[]},{"apiKeyAuth":[]}]` {
		t.Errorf("security %s", got)
	}
	if got := jsonOf(t, at(t, post, "responses", "200", "headers")); !strings.Contains(got, "X-Bifrost-Execution-Id") {
		t.Errorf("200 headers %s", got)
	}

	problem := at(t, paths, "/api/endpoints/problem", "post")
	if got := jsonOf(t, at(t, problem, "security")); got != `[]` {
		t.Errorf("public security %s", got)
	}
	if got := codes(problem); !reflect.DeepEqual(got, []string{"200", "400", "401", "413", "500", "504", "default"}) {
		t.Errorf("public verified responses %v", got)
	}
	if got := at(t, problem, "parameters", "0", "name"); got != "X-Hub-Signature-256" {
		t.Errorf("github signature header %v", got)
	}

	later := at(t, paths, "/api/endpoints/later", "post")
	if got := codes(later); !reflect.DeepEqual(got, []string{"202", "400", "401", "403", "413", "500", "503", "default"}) {
		t.Errorf("async responses %v", got)
	}
	if at(t, later, "deprecated") != true || at(t, later, "summary") != "Later" {
		t.Errorf("deprecated %v, summary %v", at(t, later, "deprecated"), at(t, later, "summary"))
	}
	var names []string
	for _, p := range at(t, later, "parameters").([]any) {
		p := p.(map[string]any)
		if n, ok := p["name"]; ok {
			names = append(names, n.(string))
		} else {
			names = append(names, p["$ref"].(string))
		}
	}
	if !reflect.DeepEqual(names, []string{"webhook-id", "webhook-timestamp", "webhook-signature", "#/components/parameters/IdempotencyKey"}) {
		t.Errorf("async standard-webhooks parameters %v", names)
	}
	for path, want := range map[string][]string{
		"/api/endpoints/stripe": {"Stripe-Signature"},
		"/api/endpoints/slack":  {"X-Slack-Signature", "X-Slack-Request-Timestamp"},
	} {
		var got []string
		for _, p := range at(t, paths, path, "post", "parameters").([]any) {
			got = append(got, p.(map[string]any)["name"].(string))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s parameters %v, want %v", path, got, want)
		}
	}
	if got := at(t, paths, "/api/endpoints/hmac", "delete", "parameters", "0", "name"); got != "X-Sig" {
		t.Errorf("hmac header %v", got)
	}
	bill := at(t, paths, "/api/endpoints/bill", "put")
	if got := keys(at(t, bill, "responses", "default", "content").(map[string]any)); !reflect.DeepEqual(got, []string{"application/json", "application/problem+json"}) {
		t.Errorf("default response content %v", got)
	}
	// A public workflow exists: reading an execution may need no credential.
	if got := jsonOf(t, at(t, paths, "/api/executions/{id}", "get", "security")); got != `[{"bearerAuth":[]},{"apiKeyAuth":[]},{}]` {
		t.Errorf("execution security %s", got)
	}
}

// TestComponentNames: short names, qualified only on collision; reserved
// names; generic instances; unreferenced schemas left out.
func TestComponentNames(t *testing.T) {
	doc := decode(t, build(t, shop(t), openapi.V31, openapi.JSON))
	got := keys(at(t, doc, "components", "schemas").(map[string]any))
	want := []string{"Accepted", "BillingOrder", "Execution", "ExecutionList", "ExecutionLog", "ExecutionStatus", "ExecutionStep",
		"FieldError", "Item", "PageItem", "Problem", "ShopOrder", "ShopProblem"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("schemas %v\nwant %v", got, want)
	}
	ref := at(t, doc, "components", "schemas", "ShopOrder", "properties", "items", "items", "$ref")
	if ref != "#/components/schemas/PageItem" {
		t.Errorf("generic ref %v", ref)
	}

	// Without the billing workflow, Order needs no qualifier.
	var ws []*workflow.Spec
	for _, w := range shop(t) {
		if w.Name != "bill" {
			ws = append(ws, w)
		}
	}
	doc = decode(t, build(t, ws, openapi.V31, openapi.JSON))
	if _, ok := at(t, doc, "components", "schemas").(map[string]any)["Order"]; !ok {
		t.Errorf("schemas %v: want Order", keys(at(t, doc, "components", "schemas").(map[string]any)))
	}
}

// TestComponentNamesDeep: packages whose last elements agree are told apart
// by more of their path.
func TestComponentNamesDeep(t *testing.T) {
	op := func(name, id string) []byte {
		return fragment(t, map[string]string{
			name: `{"responses":{"200":{"description":"x","content":{"application/json":{"schema":{"$ref":"` + id + `"}}}}}}`,
		}, map[string]string{id: `{"type":"object"}`})
	}
	ws := []*workflow.Spec{
		{Name: "a", Package: "example.com/a/models", Endpoint: true, Methods: []string{"POST"}, OpenAPI: op("a", "example.com/a/models.Order")},
		{Name: "b", Package: "example.com/b/models", Endpoint: true, Methods: []string{"POST"}, OpenAPI: op("b", "example.com/b/models.Order")},
		{Name: "c", Package: "example.com/c", Endpoint: true, Methods: []string{"POST"}, OpenAPI: op("c", "example.com/c.List[int]")},
	}
	doc := decode(t, build(t, ws, openapi.V31, openapi.JSON))
	got := keys(at(t, doc, "components", "schemas").(map[string]any))
	for _, name := range []string{"AModelsOrder", "BModelsOrder", "ListInt"} {
		if !slices.Contains(got, name) {
			t.Errorf("schemas %v: want %s", got, name)
		}
	}
}

// TestMerge: a type two packages carry is described by its own package's
// version, whatever the order.
func TestMerge(t *testing.T) {
	op := func(name, description string) []byte {
		return fragment(t, map[string]string{
			name: `{"responses":{"200":{"description":"x","content":{"application/json":{"schema":{"$ref":"example.com/m.T"}}}}}}`,
		}, map[string]string{"example.com/m.T": `{"type":"object","description":"` + description + `"}`})
	}
	ws := []*workflow.Spec{
		{Name: "user", Package: "example.com/user", Endpoint: true, Methods: []string{"POST"}, OpenAPI: op("user", "stale")},
		{Name: "owner", Package: "example.com/m", Endpoint: true, Methods: []string{"POST"}, OpenAPI: op("owner", "fresh")},
	}
	for range 2 {
		doc := decode(t, build(t, ws, openapi.V31, openapi.JSON))
		if got := at(t, doc, "components", "schemas", "T", "description"); got != "fresh" {
			t.Errorf("description %v", got)
		}
		slices.Reverse(ws)
	}
}

func TestErrors(t *testing.T) {
	for name, fragment := range map[string]string{
		"bad json":       `{"operations":{"w":{"responses":`,
		"not an object":  `{"operations":{"w":[]}}`,
		"unknown member": `{"operations":{"w":{"responses":{"200":{"description":"x","x-unknown":1}}}}}`,
		"missing schema": `{"operations":{"w":{"responses":{"200":{"description":"x","content":{"application/json":{"schema":{"$ref":"example.com/x.Gone"}}}}}}}}`,
	} {
		w := &workflow.Spec{Name: "w", Endpoint: true, Methods: []string{"POST"}, OpenAPI: []byte(fragment)}
		if _, err := openapi.Document([]*workflow.Spec{w}, openapi.V31, openapi.JSON); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := openapi.ParseVersion("2.0"); err == nil {
		t.Error("version 2.0 accepted")
	}
	if _, err := openapi.ParseFormat("xml"); err == nil {
		t.Error("format xml accepted")
	}
}

// TestDowngrade: what 3.0 consumers need instead of 3.1's forms.
func TestDowngrade(t *testing.T) {
	doc := decode(t, build(t, shop(t), openapi.V30, openapi.JSON))
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi %v", doc["openapi"])
	}
	schemas := at(t, doc, "components", "schemas")
	for path, want := range map[string]string{
		// oneOf [$ref, null] + description → allOf + nullable
		"ShopOrder/properties/next": `{"allOf":[{"$ref":"#/components/schemas/ShopOrder"}],"description":"The next order.","nullable":true}`,
		// type [T, null] → type T + nullable; numeric exclusiveMinimum → boolean form
		"PageItem/properties/total": `{"exclusiveMinimum":true,"format":"int64","minimum":0,"nullable":true,"type":"integer"}`,
		// examples → example; const → enum; contentEncoding dropped
		"Item/properties/sku":  `{"example":"A-1","type":"string"}`,
		"Item/properties/kind": `{"enum":["item"],"type":"string"}`,
		"Item/properties/data": `{"format":"byte","type":"string"}`,
		// a builtin: nullable string
		"Execution/properties/error": `{"description":"Why the execution failed; null unless it did.","nullable":true,"type":"string"}`,
	} {
		if got := jsonOf(t, at(t, schemas, strings.Split(path, "/")...)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", path, got, want)
		}
	}
	// The 3.1 document keeps the 3.1 forms.
	doc31 := build(t, shop(t), openapi.V31, openapi.JSON)
	for _, s := range []string{`"oneOf"`, `"null"`, `"examples"`, `"exclusiveMinimum": 0`} {
		if !bytes.Contains(doc31, []byte(s)) {
			t.Errorf("3.1 document lacks %s", s)
		}
	}
	doc30 := build(t, shop(t), openapi.V30, openapi.JSON)
	for _, s := range []string{`"oneOf"`, `"null"`, `"examples"`, `"contentEncoding"`, `"const"`} {
		if bytes.Contains(doc30, []byte(s)) {
			t.Errorf("3.0 document has %s", s)
		}
	}
}

// TestYAML: the YAML document reads back as the JSON one, tricky strings
// included.
func TestYAML(t *testing.T) {
	tricky := []string{"200", "true", "yes", "No", "null", "~", "a: b", "#x", "x #y", "-x", "- x", "", " x", "x ", "*/*",
		"1.0", "1e3", "0x10", "2026-01-02", "héllo", "line\nline", "tab\there", `quote"s`, `back\slash`, "{id}", "[a]",
		"@at", "`tick`", "a,b", "?q", "!bang", "&amp", "%p", "|pipe", ">gt", "'single'", "\u2028", "\x7f", "ok.fine/path_x-y"}
	obj := map[string]any{}
	for i, s := range tricky {
		obj[s] = map[string]any{"value": s, "list": []any{s, i, 1.5, true, nil}, "empty": map[string]any{}, "none": []any{}}
	}
	js, err := openapi.MarshalJSON(obj)
	if err != nil {
		t.Fatal(err)
	}
	ys, err := openapi.MarshalYAML(obj)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(ys, &fromYAML); err != nil {
		t.Fatalf("%v\n%s", err, ys)
	}
	// YAML reads 1 as int and 1.5 as float; JSON reads both as float64.
	if a, b := jsonOf(t, fromJSON), jsonOf(t, fromYAML); a != b {
		t.Errorf("YAML reads back differently:\njson %s\nyaml %s\n%s", a, b, ys)
	}

	// The whole document too.
	var a, b any
	if err := json.Unmarshal(build(t, shop(t), openapi.V31, openapi.JSON), &a); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(build(t, shop(t), openapi.V31, openapi.YAML), &b); err != nil {
		t.Fatal(err)
	}
	if jsonOf(t, a) != jsonOf(t, b) {
		t.Error("the YAML document differs from the JSON one")
	}
}
