package api

import (
	"context"
	"net/http"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/session"
)

// credentialResult is the credential found on the request, or why there is none.
type credentialResult struct {
	cred session.Credential
	err  error
}

// withCredential reads the session credential off the HTTP request for
// PostRoute, which only sees the decoded request object.
func (s *Server) withCredential(f gen.StrictHandlerFunc, operationID string) gen.StrictHandlerFunc {
	if operationID != "PostRoute" {
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
