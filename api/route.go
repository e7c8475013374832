package api

import (
	"context"
	"fmt"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/events"
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
	sess, err := s.sessions.Resolve(ctx, cred)
	if err != nil {
		return nil, fmt.Errorf("resolve session from %s: %w", cred.Source, err)
	}
	u, err := s.users.FromSession(ctx, sess)
	if err != nil {
		return nil, fmt.Errorf("resolve user: %w", err)
	}

	in := events.Request{Data: req.Body.Data, RequestID: requestIDFrom(ctx)}
	if req.Params.IdempotencyKey != nil {
		in.IdempotencyKey = *req.Params.IdempotencyKey
	}
	ev, err := events.Build(set, u, in, s.now())
	if err != nil {
		return nil, fmt.Errorf("build event: %w", err)
	}
	ids, err := s.publisher.Publish(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	loggerFrom(ctx).Info("event published", "event_id", ev.ID, "event", ev.Name, "user_id", u.ID, "inngest_ids", ids)
	return gen.PostRoute200JSONResponse{Success: "true", Ids: ids, EventId: ev.ID}, nil
}

// GetHealthz answers while the process is up.
func (s *Server) GetHealthz(context.Context, gen.GetHealthzRequestObject) (gen.GetHealthzResponseObject, error) {
	return gen.GetHealthz200JSONResponse{Status: gen.Ok}, nil
}

// GetReadyz answers 200 once valid settings are loaded.
func (s *Server) GetReadyz(context.Context, gen.GetReadyzRequestObject) (gen.GetReadyzResponseObject, error) {
	if _, err := s.settings.Current(); err != nil {
		return nil, fmt.Errorf("readiness: %w", err)
	}
	return gen.GetReadyz200JSONResponse{Status: gen.Ready}, nil
}
