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

	in := events.Request{Data: requestData(ctx, req.Body.Data), RequestID: requestIDFrom(ctx)}
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
		return gen.PostRoute202JSONResponse{Success: "true", Ids: []string{}, EventId: ev.ID, Queued: true}, nil
	}
	loggerFrom(ctx).Info("event published", "event_id", ev.ID, "event", ev.Name, "user_id", u.ID, "inngest_ids", rcpt.IDs)
	return gen.PostRoute200JSONResponse{Success: "true", Ids: rcpt.IDs, EventId: ev.ID}, nil
}

// GetHealthz answers while the process is up.
func (s *Server) GetHealthz(context.Context, gen.GetHealthzRequestObject) (gen.GetHealthzResponseObject, error) {
	return gen.GetHealthz200JSONResponse{Status: gen.HealthStatusOk}, nil
}

// GetReadyz answers 200 once valid settings are loaded, with the delivery
// state (spool and circuit breaker).
func (s *Server) GetReadyz(ctx context.Context, _ gen.GetReadyzRequestObject) (gen.GetReadyzResponseObject, error) {
	if _, err := s.settings.Current(); err != nil {
		return nil, fmt.Errorf("readiness: %w", err)
	}
	out := gen.GetReadyz200JSONResponse{Status: gen.ReadinessStatusReady, Circuit: gen.Closed}
	if s.delivery != nil {
		st, err := s.delivery.Stats(ctx)
		if err != nil {
			return nil, &problemError{kind: kindSpoolUnavailable, detail: "The event spool cannot be read. Retry later.", err: err}
		}
		out.Spool = gen.SpoolStatus{
			Draining:         st.Depth > 0,
			Depth:            st.Depth,
			OldestAgeSeconds: float32(st.OldestAge(s.now()).Seconds()),
			DeadLetters:      st.Dead,
		}
		out.Circuit = gen.ReadinessCircuit(s.delivery.State().String())
	}
	return out, nil
}
