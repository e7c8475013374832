package api

import (
	"context"
	"net/http"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/session"
)

// credentialResult is the credential found on the request, or why there is none.
type credentialResult struct {
	cred session.Credential
	err  error
}

// withCredential reads the session credential off the HTTP request for
// every authenticated operation (s.secured: those whose security in the
// contract is not empty), which only see the decoded request object.
func (s *Server) withCredential(f gen.StrictHandlerFunc, operationID string) gen.StrictHandlerFunc {
	if !s.secured[operationKey(operationID)] {
		return f
	}
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, request any) (any, error) {
		cred, err := session.Extract(r, s.cookieNames)
		ctx = context.WithValue(ctx, credentialKey, credentialResult{cred, err})
		return f(ctx, w, r, request)
	}
}

func credentialFrom(ctx context.Context) (session.Credential, error) {
	res, ok := ctx.Value(credentialKey).(credentialResult)
	if !ok {
		return session.Credential{}, session.ErrNoCredential
	}
	return res.cred, res.err
}

// securedOperations is the set of spec's operations that require a
// credential (a security requirement that is not empty: the operation's
// own, or the document's when the operation has none), by operationKey.
func securedOperations(spec *openapi3.T) map[string]bool {
	out := map[string]bool{}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			sec := op.Security
			if sec == nil {
				sec = &spec.Security
			}
			if len(*sec) > 0 && !anyEmpty(*sec) {
				out[operationKey(op.OperationID)] = true
			}
		}
	}
	return out
}

// anyEmpty reports whether one of the alternatives is the empty
// requirement ({}: no credential needed), which makes the credential
// optional.
func anyEmpty(reqs openapi3.SecurityRequirements) bool {
	for _, r := range reqs {
		if len(r) == 0 {
			return true
		}
	}
	return false
}

// operationKey names an operation the same way whether it comes as the
// contract's operationId ("sendEvents") or as gen's Go name ("SendEvents",
// oapi-codegen's camel case of it): its letters and digits, lower case.
func operationKey(id string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, id)
}
