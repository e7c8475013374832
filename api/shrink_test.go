package api

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/routeapi/routeapi/gen"
)

// TestShrinkSafe: fenceBody shrinks data with today's contract, and stops
// as soon as the contract constrains data (it would hide data from the validator).
func TestShrinkSafe(t *testing.T) {
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	if !shrinkSafe(spec) {
		t.Fatal("shrinkSafe(openapi.yaml) = false: data is unconstrained there")
	}
	for name, constrain := range map[string]func(*openapi3.Schema){
		"type":       func(s *openapi3.Schema) { s.Type = &openapi3.Types{openapi3.TypeObject} },
		"enum":       func(s *openapi3.Schema) { s.Enum = []any{"a"} },
		"properties": func(s *openapi3.Schema) { s.Properties = openapi3.Schemas{"id": openapi3.NewStringSchema().NewRef()} },
		"maxLength":  func(s *openapi3.Schema) { n := uint64(3); s.MaxLength = &n },
		"oneOf":      func(s *openapi3.Schema) { s.OneOf = openapi3.SchemaRefs{openapi3.NewStringSchema().NewRef()} },
	} {
		t.Run(name, func(t *testing.T) {
			spec, err := gen.GetSpec()
			if err != nil {
				t.Fatal(err)
			}
			media := spec.Paths.Find("/api/route").Post.RequestBody.Value.Content.Get("application/json")
			data := *media.Schema.Value.Properties["data"].Value // a copy: GetSpec may share schemas
			constrain(&data)
			body := *media.Schema.Value
			body.Properties = openapi3.Schemas{"data": data.NewRef()}
			media.Schema = body.NewRef()
			if shrinkSafe(spec) {
				t.Errorf("shrinkSafe with data constrained by %s = true, want false", name)
			}
		})
	}
}
