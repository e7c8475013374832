package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// quickValidation answers, for the bodies fenceBody checked (POST
// /api/route and POST /api/events), whether kin-openapi's request
// validator takes the request, at a fraction of its cost: the same
// kin-openapi checks with the same options, except two that change no
// verdict for these bodies (see quickOperations), and without the errors'
// messages. Only a "yes" is used: the validator then lets the request
// through without validating it again. On a "no" (or a request it does not
// know) the full validator runs as before and gives the answer, so a
// refused request gets exactly the problem it always got.
//
// What openapi3filter.ValidateRequestBody does that quickValidation leaves
// out, and why the verdict stays the same:
//
//   - openapi3.VisitAsRequest: kin-openapi validates a oneOf's matching
//     schema twice (the second time to set its defaults, whatever
//     SkipSettingDefaults says) on a deep copy of the value, and sorts the
//     properties of each object's schema to check readOnly and writeOnly.
//     Without it, readOnly and writeOnly are ignored and nothing is set: so
//     quickOperations takes only bodies whose schemas have neither, and
//     validator sets SkipSettingDefaults.
//   - openapi3.MultiErrors (and the errors themselves): openapi3.FailFast
//     stops at the first error and builds none; kin-openapi's IsMatching
//     uses it for the same verdict.
//
// Parameters and the security requirement are validated by
// openapi3filter.ValidateRequest itself (with ExcludeRequestBody), and the
// body, the bytes kin-openapi would read (routeBody.validated: the route's
// body with data shrunk to 0 when fenceBody shrank it, the body as sent
// otherwise), is decoded into the value kin-openapi's JSONBodyDecoder
// makes of it (decodeFenced).
type quickValidation struct {
	router routers.Router
	// opts are the validator's options without the body.
	opts *openapi3filter.Options
	// schemaOpts are the body's schema options: the validator's
	// (schemaOptions), fail fast, not as a request.
	schemaOpts []openapi3.SchemaValidationOption
	// ops are the operations whose body quickValidation validates, with their JSON media type.
	ops map[*openapi3.Operation]*openapi3.MediaType
	// paths are the paths of ops: a request for another path (or the same
	// path written another way) is not looked up.
	paths map[string]bool
}

// newQuickValidation returns the quick validation of spec's operations
// for the validator with options opts (see quickValidation).
func newQuickValidation(spec *openapi3.T, opts openapi3filter.Options) (*quickValidation, error) {
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, fmt.Errorf("quick validation: router: %w", err)
	}
	noBody := opts
	noBody.ExcludeRequestBody = true
	q := &quickValidation{
		router:     router,
		opts:       &noBody,
		schemaOpts: append([]openapi3.SchemaValidationOption{openapi3.FailFast()}, opts.SchemaValidationOptions...),
		ops:        quickOperations(spec, opts),
		paths:      map[string]bool{},
	}
	for path, item := range spec.Paths.Map() {
		if q.ops[item.Post] != nil {
			q.paths[path] = true
		}
	}
	return q, nil
}

// quickOperations are the operations of spec whose bodies quickValidation
// may validate, with their application/json media type: the operations of
// fencedBodies (the fence records the bytes the validator reads of their
// body), under an OpenAPI 3.0 document (3.1 takes another validator),
// with a JSON body whose schemas, all that the body's schema reaches, mark
// nothing readOnly or writeOnly, and options that set no defaults, compile
// patterns as kin-openapi does and customise no message. None when any of
// that does not hold.
func quickOperations(spec *openapi3.T, opts openapi3filter.Options) map[*openapi3.Operation]*openapi3.MediaType {
	ops := map[*openapi3.Operation]*openapi3.MediaType{}
	if spec.IsOpenAPI31OrLater() || !opts.SkipSettingDefaults || opts.RegexCompiler != nil || opts.ExcludeRequestBody || opts.RejectWhenRequestBodyNotSpecified {
		return ops
	}
	for path := range fencedBodies {
		item := spec.Paths.Find(path)
		if item == nil || item.Post == nil || item.Post.RequestBody == nil || item.Post.RequestBody.Value == nil {
			continue
		}
		media := item.Post.RequestBody.Value.Content["application/json"]
		if media == nil || media.Schema == nil || media.Schema.Value == nil || len(media.Encoding) > 0 || media.Schema.Value.Format == "binary" {
			continue
		}
		if readOrWriteOnly(media.Schema.Value, map[*openapi3.Schema]bool{}) {
			continue
		}
		ops[item.Post] = media
	}
	return ops
}

// readOrWriteOnly reports whether s or a schema it reaches is readOnly or writeOnly.
func readOrWriteOnly(s *openapi3.Schema, seen map[*openapi3.Schema]bool) bool {
	if s == nil || seen[s] {
		return false
	}
	seen[s] = true
	if s.ReadOnly || s.WriteOnly {
		return true
	}
	var refs []*openapi3.SchemaRef
	refs = append(refs, s.Not, s.Items, s.AdditionalProperties.Schema)
	refs = append(refs, s.OneOf...)
	refs = append(refs, s.AnyOf...)
	refs = append(refs, s.AllOf...)
	for _, p := range s.Properties {
		refs = append(refs, p)
	}
	for _, r := range refs {
		if r != nil && readOrWriteOnly(r.Value, seen) {
			return true
		}
	}
	return false
}

// valid reports whether the validator takes r (see quickValidation):
// true only when it is sure; false sends r to the full validator.
func (q *quickValidation) valid(r *http.Request) bool {
	st := stateFrom(r.Context())
	if q == nil || len(q.ops) == 0 || st == nil || !st.hasBody || st.route == nil || st.route.problem != nil || len(st.route.validated) == 0 {
		return false
	}
	if r.Method != http.MethodPost || !q.paths[r.URL.Path] {
		return false
	}
	route, pathParams, err := q.router.FindRoute(r)
	if err != nil {
		return false
	}
	media := q.ops[route.Operation]
	if media == nil {
		return false
	}
	// The media type kin-openapi matches (Content.Get) and the one it
	// decodes by (decodeBody) must both be application/json.
	ct := r.Header.Get("Content-Type")
	base, _, _ := strings.Cut(ct, ";")
	if route.Operation.RequestBody.Value.Content.Get(ct) != media || strings.ToLower(strings.TrimSpace(base)) != "application/json" {
		return false
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: route, Options: q.opts}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return false
	}
	value, err := decodeFenced(st.route.validated)
	if err != nil {
		return false
	}
	return media.Schema.Value.VisitJSON(value, q.schemaOpts...) == nil
}
