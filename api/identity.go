package api

import (
	"context"
	"fmt"

	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/user"
)

// identity is who is acting in a request.
type identity struct {
	user user.User
	// key names the identity apart from every other kind ("user:<id>",
	// "apitoken:<id>"); it keys the rate limit.
	key string
	// kind is the kind of principal (events.KindUser, events.KindAPIToken):
	// with user.ID it scopes idempotency keys and event ids.
	kind string
	// service is true for an API token (a back end), false for a user session.
	service bool
}

// identify says who is acting: a service identity for an API token (rk_...),
// else the user of the session.
func (s *Server) identify(ctx context.Context, set settings.Settings, cred session.Credential) (identity, error) {
	if cred.Source == session.SourceBearer && apitoken.Is(cred.Token) {
		id, err := apitoken.Lookup(set.APITokens, cred.Token)
		if err != nil {
			return identity{}, fmt.Errorf("API token: %w", err)
		}
		return identity{user: user.User{ID: id.ID, Name: id.Name}, key: "apitoken:" + id.ID, kind: events.KindAPIToken, service: true}, nil
	}
	sess, err := s.sessions.Resolve(ctx, cred)
	if err != nil {
		return identity{}, fmt.Errorf("resolve session from %s: %w", cred.Source, err)
	}
	u, err := s.users.FromSession(ctx, sess)
	if err != nil {
		return identity{}, fmt.Errorf("resolve user: %w", err)
	}
	return identity{user: u, key: "user:" + u.ID, kind: events.KindUser}, nil
}

// caller says who is calling and applies set's rate limit to them, once
// for the request: the credential the strict middleware read off the
// request (withCredential), the identity it names (identify: 401 or 503
// when the session cannot be resolved) and the RateLimit-* headers of the
// success answer (rateLimit: 429 over the limit). Every authenticated
// operation starts here, after reading the settings.
func (s *Server) caller(ctx context.Context, set settings.Settings) (identity, rateHeaders, error) {
	cred, err := credentialFrom(ctx)
	if err != nil {
		return identity{}, rateHeaders{}, fmt.Errorf("read credential: %w", err)
	}
	id, err := s.identify(ctx, set, cred)
	if err != nil {
		return identity{}, rateHeaders{}, err
	}
	rl, err := s.rateLimit(ctx, set, id.key)
	if err != nil {
		return identity{}, rateHeaders{}, err
	}
	return id, rl, nil
}
