// Package gen holds the Go code generated from openapi.yaml by oapi-codegen:
// the models, the chi strict server interface and the embedded spec.
//
// Nothing in this package is written by hand. Change openapi.yaml and run
// `make generate`.
package gen

//go:generate go tool oapi-codegen -config ../oapi-codegen.yaml ../openapi.yaml
