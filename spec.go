// Package routeapi holds the service's contract, openapi.yaml, as the bytes
// that were written, so the binary can serve it exactly.
//
// The service itself lives in api/ (HTTP), internal/ (sessions, settings,
// users, events) and cmd/routeapi (the binary).
package routeapi

import _ "embed"

// OpenAPIYAML is openapi.yaml, the single source of truth for the HTTP API.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte
