// Package openapitest checks OpenAPI documents with two independent
// validators, for tests: github.com/getkin/kin-openapi (load, then
// Validate) and github.com/pb33f/libopenapi (build the model, then
// libopenapi-validator's check against the specification's own schema).
// Both see every document, 3.0 and 3.1.
package openapitest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// Validate fails t with every problem either validator finds in doc (JSON
// or YAML).
func Validate(t testing.TB, name string, doc []byte) {
	t.Helper()
	if err := Kin(doc); err != nil {
		t.Errorf("%s: kin-openapi: %v", name, err)
	}
	if err := LibOpenAPI(doc); err != nil {
		t.Errorf("%s: libopenapi: %v", name, err)
	}
}

// Kin loads doc with kin-openapi and validates it, patterns and formats
// included, examples checked against their schemas.
func Kin(doc []byte) error {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	d, err := loader.LoadFromData(doc)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	opts := []openapi3.ValidationOption{
		openapi3.EnableSchemaFormatValidation(),
		openapi3.EnableSchemaPatternValidation(),
		openapi3.EnableExamplesValidation(),
		openapi3.EnableMultiError(),
	}
	if d.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.IsOpenAPI31OrLater())
	}
	return d.Validate(context.Background(), opts...)
}

// LibOpenAPI builds doc's model with libopenapi (references resolved,
// circular ones reported) and validates the document against the OpenAPI
// specification's JSON schema with libopenapi-validator.
func LibOpenAPI(doc []byte) error {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	var problems []string
	if _, err := d.BuildV3Model(); err != nil {
		problems = append(problems, "model: "+err.Error())
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		return fmt.Errorf("validator: %w", errors.Join(errs...))
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			problems = append(problems, e.Error())
			for _, se := range e.SchemaValidationErrors {
				problems = append(problems, fmt.Sprintf("  %s (line %d): %s", se.FieldPath, se.Line, se.Reason))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}
