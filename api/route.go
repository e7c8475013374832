package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/ratelimit"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/user"
)

// PostRoute does what the original Next.js route did: read the settings, the
// session and its user, and publish the event; it answers only once Inngest
// has accepted the event.
func (s *Server) PostRoute(ctx context.Context, req gen.PostRouteRequestObject) (gen.PostRouteResponseObject, error) {
	set, err := s.settings.Current()
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if !set.Route.Enabled {
		return nil, errRouteDisabled
	}
	cred, err := credentialFrom(ctx)
	if err != nil {
		return nil, fmt.Errorf("read credential: %w", err)
	}
	id, err := s.identify(ctx, set, cred)
	if err != nil {
		return nil, err
	}
	u, limitKey := id.user, id.key
	var rl gen.PostRoute200ResponseHeaders
	if lim := set.Route.RateLimit; lim != nil {
		res := s.limiter.Allow(ctx, limitKey, ratelimit.Rate{Requests: lim.Requests, Per: lim.Per})
		if res.Limited {
			h := http.Header{}
			res.SetHeaders(h)
			return nil, &problemError{kind: kindRateLimited, header: h,
				detail: fmt.Sprintf("This identity may make %d requests per %s. Retry later.", lim.Requests, lim.Per),
				err:    fmt.Errorf("rate limit %d per %s exceeded by %s", lim.Requests, lim.Per, limitKey)}
		}
		rl = gen.PostRoute200ResponseHeaders{RateLimitLimit: &res.Limit, RateLimitRemaining: &res.Remaining, RateLimitReset: &res.Reset}
	}

	in := events.Request{Data: requestData(ctx, req.Body.Data), RequestID: requestIDFrom(ctx)}
	if id.service {
		in.IdempotencyScope = id.key // "apitoken:<id>": apart from user ids
	}
	if req.Params.IdempotencyKey != nil {
		in.IdempotencyKey = *req.Params.IdempotencyKey
	}
	ev, err := events.Build(set, u, in, s.now())
	if err != nil {
		return nil, fmt.Errorf("build event: %w", err)
	}
	rcpt, err := s.publisher.Publish(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if rcpt.Queued {
		loggerFrom(ctx).Info("event queued", "event_id", ev.ID, "event", ev.Name, "user_id", u.ID)
		return gen.PostRoute202JSONResponse{Body: gen.RouteQueuedResponse{Success: "true", Ids: []string{}, EventId: ev.ID, Queued: true},
			Headers: gen.PostRoute202ResponseHeaders(rl)}, nil
	}
	loggerFrom(ctx).Info("event published", "event_id", ev.ID, "event", ev.Name, "user_id", u.ID, "inngest_ids", rcpt.IDs)
	return gen.PostRoute200JSONResponse{Body: gen.RouteResponse{Success: "true", Ids: rcpt.IDs, EventId: ev.ID}, Headers: rl}, nil
}

// identity is who is acting in a request.
type identity struct {
	user user.User
	// key names the identity apart from every other kind ("user:<id>",
	// "apitoken:<id>"); it keys the rate limit.
	key string
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
		return identity{user: user.User{ID: id.ID, Name: id.Name}, key: "apitoken:" + id.ID, service: true}, nil
	}
	sess, err := s.sessions.Resolve(ctx, cred)
	if err != nil {
		return identity{}, fmt.Errorf("resolve session from %s: %w", cred.Source, err)
	}
	u, err := s.users.FromSession(ctx, sess)
	if err != nil {
		return identity{}, fmt.Errorf("resolve user: %w", err)
	}
	return identity{user: u, key: "user:" + u.ID}, nil
}

// GetHealthz answers while the process is up.
func (s *Server) GetHealthz(context.Context, gen.GetHealthzRequestObject) (gen.GetHealthzResponseObject, error) {
	return gen.GetHealthz200JSONResponse{Status: gen.HealthStatusOk}, nil
}

// GetReadyz answers whether this instance can serve requests now, with the
// settings and delivery state (see readiness.go).
func (s *Server) GetReadyz(ctx context.Context, _ gen.GetReadyzRequestObject) (gen.GetReadyzResponseObject, error) {
	return s.ready(ctx)
}
