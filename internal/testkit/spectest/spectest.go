// Package spectest checks HTTP responses against openapi.yaml. Tests of every
// layer (handler tests in api/, end-to-end tests in e2e/) use it, so "every
// response matches the contract" is checked the same way everywhere.
package spectest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/routeapi/routeapi/gen"
)

var (
	once    sync.Once
	doc     *openapi3.T
	router  routers.Router
	errInit error
)

func load() (*openapi3.T, routers.Router, error) {
	once.Do(func() {
		doc, errInit = gen.GetSpec()
		if errInit != nil {
			return
		}
		doc.Servers = nil // match on paths only
		router, errInit = gorillamux.NewRouter(doc)
	})
	return doc, router, errInit
}

// Spec returns the parsed openapi.yaml (shared; do not modify).
func Spec() (*openapi3.T, error) {
	d, _, err := load()
	return d, err
}

// CheckResponse reports how a response to req differs from openapi.yaml: the
// status must be documented for the operation and the headers, content type
// and body must match it (openapi3filter.ValidateResponse). Every error
// response must be application/problem+json, and answers to paths or methods
// outside the spec's operations (404, 405) must still be Problem documents.
// Responses outside the contract that are not errors (/docs, /openapi.json)
// are not checked. req's body is not read.
//
// Every response must carry X-Content-Type-Options: nosniff, and every 405
// an Allow field (RFC 9110 §15.5.6). A response to HEAD is checked as the
// response to GET that it stands for, without its body (RFC 9110 §9.3.2).
func CheckResponse(req *http.Request, status int, header http.Header, body []byte) error {
	d, r, err := load()
	if err != nil {
		return fmt.Errorf("load spec: %w", err)
	}
	if got := header.Get("X-Content-Type-Options"); got != "nosniff" {
		return fmt.Errorf("status %d: X-Content-Type-Options %q, want nosniff", status, got)
	}
	if status == http.StatusMethodNotAllowed && len(header.Values("Allow")) == 0 {
		return errors.New("status 405 without an Allow field (RFC 9110 §15.5.6)")
	}
	if status >= 400 {
		if ct := header.Get("Content-Type"); ct != "application/problem+json" {
			return fmt.Errorf("status %d: Content-Type %q, want application/problem+json", status, ct)
		}
	}
	head := req.Method == http.MethodHead
	if head {
		req = req.Clone(req.Context())
		req.Method = http.MethodGet
	}
	route, params, err := r.FindRoute(req)
	if err != nil {
		if status < 400 {
			if strings.HasPrefix(req.URL.Path, "/api/") {
				return fmt.Errorf("status %d for %s %s, which is not in the spec", status, req.Method, req.URL.Path)
			}
			return nil // docs and spec files are outside the contract
		}
		if head {
			return nil // no body to check
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("status %d: body is not JSON: %w", status, err)
		}
		if err := d.Components.Schemas["Problem"].Value.VisitJSON(v); err != nil {
			return fmt.Errorf("status %d outside the spec's operations is not a Problem: %w", status, err)
		}
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: head},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("response %d does not match openapi.yaml: %w", status, err)
	}
	return nil
}
