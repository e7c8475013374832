package api

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
)

// dropUndeclaredBody makes the body of a request to an operation whose
// contract declares no request body (GET /healthz, GET /readyz, and HEAD on
// them) empty before the body middlewares see it: RFC 9110 §9.3.1 gives such
// content no meaning, and the checks of a JSON body (content coding,
// charset, size, one JSON value, the in-flight budget) would otherwise
// answer a probe with a 400, 413, 415 or 503 that openapi.yaml does not list
// for these paths. net/http still reads or discards what was sent after the
// handler (the connection is closed when that is too much).
func dropUndeclaredBody(spec *openapi3.T) func(http.Handler) http.Handler {
	declared := map[string]bool{} // "METHOD /path/{template}"
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody != nil {
				declared[method+" "+path] = true
			}
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rctx := chi.RouteContext(r.Context())
			method := r.Method
			if rctx != nil && rctx.RouteMethod != "" {
				method = rctx.RouteMethod // GET for a HEAD served as GET (headAsGet)
			}
			if rctx != nil && !declared[method+" "+rctx.RoutePattern()] {
				r.Body, r.GetBody = http.NoBody, nil
				r.ContentLength, r.TransferEncoding = 0, nil
			}
			next.ServeHTTP(w, r)
		})
	}
}
