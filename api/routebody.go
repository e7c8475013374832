package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/rawjson"
	"github.com/routeapi/routeapi/internal/settings"
)

// routePath and eventsPath are the operations whose body fenceBody checks.
const (
	routePath  = "/api/route"
	eventsPath = "/api/events"
)

// fencedBody describes one operation whose body fenceBody checks.
type fencedBody struct {
	// member is the top-level member fenceBody keeps as sent (routeBody.data):
	// the route's data, the batch's events.
	member string
	// dataDepth is how deep the body nests the data values it carries:
	// POST /api/route's data is a member of the body (1); each of POST
	// /api/events' data is in an event in the events array (3). The body may
	// nest settings.MaxDataDepth more.
	dataDepth int
	// shrinkable: data may be replaced for the validator (shrinkSafe). Only
	// POST /api/route's data is unconstrained; each event's data has its
	// own schema and is validated as sent.
	shrinkable bool
}

// fencedBodies are the operations whose body fenceBody checks, by path.
var fencedBodies = map[string]fencedBody{
	routePath:  {member: "data", dataDepth: 1, shrinkable: true},
	eventsPath: {member: "events", dataDepth: 3},
}

// routeBody is a fenced operation's body as fenceBody found it, before the
// validator. For POST /api/route it is the one place PostRoute takes data
// from.
type routeBody struct {
	// data is the value of the operation's member (fencedBody.member: POST
	// /api/route's data, POST /api/events' events), bytes as sent (nil when
	// there is none).
	data json.RawMessage
	// problem is the first rule of what Inngest keeps unchanged that the body
	// breaks (nil when none).
	problem *rawjson.Problem
	// validated is the body exactly as the validator reads it: the body as
	// sent, or POST /api/route's body with data shrunk to 0 when fenceBody
	// shrank it (nil with a problem). quickValidation decodes these bytes.
	validated []byte
}

// fenceBody checks the body of the operations of fencedBodies (POST
// /api/route and POST /api/events), and no other operation's, in one pass
// (rawjson.Check: one JSON value, the rules of what Inngest keeps
// unchanged, the top-level members) and keeps the result in the request
// state (routeBody), with the bytes the validator will read
// (routeBody.validated).
//
// With shrink set (shrinkSafe: the contract leaves data unconstrained) it
// also shows the validator and the strict server POST /api/route's body with
// data's value replaced by 0, every other byte as sent: RouteRequest (data
// required and not null, nothing else) gives the same verdict and field
// errors, and neither decodes a large data value again. A body that is not
// one JSON object, breaks a rule or has a null data goes on as sent, as
// does every body of POST /api/events.
func fenceBody(shrink bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st := stateFrom(r.Context())
			fb, fenced := fencedBodies[chi.RouteContext(r.Context()).RoutePattern()]
			if st == nil || !st.hasBody || r.Method != http.MethodPost || !fenced {
				next.ServeHTTP(w, r)
				return
			}
			members, err := rawjson.Check(st.body, settings.MaxDataDepth+fb.dataDepth)
			var p *rawjson.Problem
			switch {
			case errors.As(err, &p):
				st.route = &routeBody{problem: p}
			case err != nil: // not JSON: the validator and oneJSONValue say so
			default:
				rb := &routeBody{}
				at := -1
				for _, m := range members {
					if m.Name == fb.member { // at most one: duplicates break a rule
						rb.data, at = m.Value, m.Offset
					}
				}
				rb.validated = st.body
				st.route = rb
				if shrink && fb.shrinkable && at >= 0 && string(rb.data) != "null" {
					small := make([]byte, 0, len(st.body)-len(rb.data)+1)
					small = append(small, st.body[:at]...)
					small = append(small, '0')
					small = append(small, st.body[at+len(rb.data):]...)
					setBody(r, small)
					rb.validated = small
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// routeData is the request's data value as sent, or a 400 problem pointing
// at what Inngest would refuse or change. PostRoute must take data from here
// and never from the decoded body alone: when fenceBody shrank the
// body, the decoded data is the 0 it put in place of the caller's value.
// Without fence state (a body the fence did not see) decoded is checked here.
func routeData(ctx context.Context, decoded json.RawMessage) (json.RawMessage, error) {
	if st := stateFrom(ctx); st != nil && st.route != nil {
		if st.route.problem != nil {
			return nil, acceptanceProblem(st.route.problem, "")
		}
		if st.route.data != nil {
			return st.route.data, nil
		}
	}
	if _, err := rawjson.Check(decoded, settings.MaxDataDepth); err != nil {
		var p *rawjson.Problem
		if errors.As(err, &p) {
			return nil, acceptanceProblem(p, "/data")
		}
		return nil, &problemError{kind: kindInvalid, detail: detailNotJSON, err: err}
	}
	return decoded, nil
}

// acceptanceProblem is the 400 for a body that breaks a rule of
// rawjson.Check; prefix is the pointer of the checked value in the body.
func acceptanceProblem(p *rawjson.Problem, prefix string) *problemError {
	detail := p.Detail
	if p.Rule == rawjson.RuleDepth {
		detail = fmt.Sprintf("Arrays and objects in data nest more than %d deep, the most routeapi accepts (Inngest decodes the whole event with a limit of 10000 and wraps it again).", settings.MaxDataDepth)
	}
	return &problemError{
		kind:   kindInvalid,
		detail: "The request body cannot reach Inngest as sent: " + detail,
		fields: []gen.FieldError{{Pointer: prefix + p.Pointer, Detail: detail}},
		err:    fmt.Errorf("body breaks rule %s: %w", p.Rule, p),
	}
}

// shrinkSafe reports whether fenceBody may shrink data with spec: only
// while RouteRequest's data accepts any non-null value. Shrinking hides
// data's value from the validator, so a schema that constrains data (a type,
// an enum, properties, a pattern, …) must see the real value; NewServer then
// validates bodies as sent.
func shrinkSafe(spec *openapi3.T) bool {
	path := spec.Paths.Find(routePath)
	if path == nil || path.Post == nil || path.Post.RequestBody == nil || path.Post.RequestBody.Value == nil {
		return false
	}
	media := path.Post.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return false
	}
	data := media.Schema.Value.Properties["data"]
	if data == nil || data.Value == nil {
		return false
	}
	raw, err := json.Marshal(data.Value)
	if err != nil {
		return false
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return false
	}
	// What does not constrain the value: documentation and generator hints.
	for _, k := range []string{"description", "example", "examples", "title", "x-go-type", "x-go-type-import"} {
		delete(fields, k)
	}
	return len(fields) == 0
}
