package openapi_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bifrost-go/bifrost/openapi"
)

// fragmentFile is a fragment as Marshal writes it: keys of maps sorted,
// every object in the model's order, properties in declaration order.
const fragmentFile = `{
  "operations": {
    "create_order": {
      "parameters": [
        {
          "name": "dry_run",
          "in": "query",
          "required": true,
          "schema": {
            "type": "boolean"
          }
        },
        {
          "name": "X-Tenant",
          "in": "header",
          "description": "The tenant <id> & more.",
          "required": true,
          "deprecated": true,
          "schema": {
            "type": "string",
            "pattern": "^[a-z]+$"
          }
        }
      ],
      "requestBody": {
        "required": true,
        "content": {
          "application/json": {
            "schema": {
              "$ref": "example.com/shop.Order"
            }
          },
          "application/x-www-form-urlencoded": {
            "schema": {
              "type": "object",
              "additionalProperties": {
                "type": "string"
              }
            }
          }
        }
      },
      "responses": {
        "200": {
          "description": "The workflow's result.",
          "content": {
            "application/json": {
              "schema": {
                "$ref": "example.com/shop.Order"
              }
            }
          }
        },
        "default": {
          "description": "The workflow's own response.",
          "content": {
            "*/*": {
              "schema": {}
            }
          }
        }
      }
    },
    "ping": {}
  },
  "schemas": {
    "example.com/shop.Order": {
      "type": "object",
      "description": "Order is an order.",
      "properties": {
        "zeta": {
          "type": "string",
          "format": "email",
          "minLength": 1,
          "maxLength": 80
        },
        "alpha": {
          "type": [
            "integer",
            "null"
          ],
          "format": "int32",
          "minimum": -1.5,
          "exclusiveMaximum": 1e+21,
          "enum": [
            1,
            2.50,
            null
          ],
          "description": "Counted.",
          "deprecated": true
        },
        "next": {
          "oneOf": [
            {
              "$ref": "example.com/shop.Order"
            },
            {
              "type": "null"
            }
          ],
          "description": "The next one."
        },
        "tags": {
          "type": "array",
          "items": {
            "type": "string",
            "const": "x"
          },
          "minItems": 0,
          "maxItems": 3
        },
        "attrs": {
          "type": "object",
          "additionalProperties": {},
          "maxProperties": 4
        },
        "data": {
          "type": "string",
          "format": "byte",
          "contentEncoding": "base64",
          "examples": [
            "AAE=",
            {
              "a": [
                true,
                false
              ],
              "b": 1
            }
          ],
          "default": ""
        }
      },
      "required": [
        "zeta",
        "alpha"
      ]
    }
  }
}
`

// TestFragmentRoundTrip: a fragment reads back as the same values, and
// writes the same bytes again (numbers keep their text, properties their
// order, <, > and & stay as they are; objects inside values such as
// examples are written with their keys sorted).
func TestFragmentRoundTrip(t *testing.T) {
	f, err := openapi.ParseFragment([]byte(fragmentFile))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != fragmentFile {
		t.Fatalf("parse and marshal changed the fragment:\n%s", got)
	}
	again, err := openapi.ParseFragment(got)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := again.Marshal(); !bytes.Equal(data, got) {
		t.Fatal("a second round trip changed the fragment")
	}
	props := f.Schemas["example.com/shop.Order"].Properties
	var names []string
	for _, p := range props {
		names = append(names, p.Name)
	}
	if strings.Join(names, " ") != "zeta alpha next tags attrs data" {
		t.Errorf("properties %v", names)
	}
	if _, err := openapi.ParseFragment([]byte(`{"operations":{"x":{"summary2":""}}}`)); err == nil {
		t.Error("an unknown member was accepted")
	}
}

// TestModelOrder: members are written in the model's order whatever order
// they were set in; public security is [] and absent security left out.
func TestModelOrder(t *testing.T) {
	s := &openapi.Schema{Description: "d", Required: []string{"b"}, Type: openapi.Type("object")}
	s.Properties.Set("b", &openapi.Schema{Default: 0, Maximum: "9", Minimum: "1", Type: openapi.Types{"integer", "null"}})
	s.Properties.Set("a", &openapi.Schema{Ref: "#/components/schemas/A", Description: "<a> & b"})
	s.Properties.Set("b", &openapi.Schema{Enum: []any{"x"}, Type: openapi.Type("string"), Format: "uuid"}) // in place
	got, err := openapi.Compact(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","description":"d","properties":{"b":{"type":"string","format":"uuid","enum":["x"]},` +
		`"a":{"$ref":"#/components/schemas/A","description":"<a> & b"}},"required":["b"]}`
	if got != want {
		t.Errorf("schema\n got %s\nwant %s", got, want)
	}

	op := &openapi.Operation{
		Responses:   map[string]*openapi.Response{"default": {Ref: "#d"}, "200": {Description: "ok"}, "400": {Ref: "#b"}},
		OperationID: "x",
		Security:    []openapi.SecurityRequirement{},
		Tags:        []string{"t"},
	}
	got, _ = openapi.Compact(op)
	want = `{"tags":["t"],"operationId":"x","security":[],"responses":{"200":{"description":"ok"},"400":{"$ref":"#b"},"default":{"$ref":"#d"}}}`
	if got != want {
		t.Errorf("operation\n got %s\nwant %s", got, want)
	}
	op.Security = nil
	if got, _ = openapi.Compact(op); strings.Contains(got, "security") {
		t.Errorf("nil security written: %s", got)
	}

	doc, err := openapi.Build(nil, openapi.V31)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := openapi.Compact(doc)
	last := -1
	for _, key := range []string{`"openapi"`, `"info"`, `"servers"`, `"security"`, `"tags"`, `"paths"`, `"components"`} {
		i := strings.Index(data, key)
		if i < last {
			t.Errorf("%s out of order", key)
		}
		last = i
	}
}
