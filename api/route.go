package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/settings"
)

// PostRoute does what the original Next.js route did: read the settings, the
// session and its user, and publish the event; it answers only once Inngest
// has accepted the event.
//
// POST /api/route
func (s *Server) PostRoute(ctx context.Context, req gen.PostRouteRequestObject) (gen.PostRouteResponseObject, error) {
	set, err := s.settingsFor(ctx)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if !set.Route.Enabled {
		return nil, errRouteDisabled
	}
	id, rl, err := s.caller(ctx, set)
	if err != nil {
		return nil, err
	}

	data, err := routeData(ctx, req.Body.Data)
	if err != nil {
		return nil, err
	}
	in := events.Request{Data: data, RequestID: requestIDFrom(ctx), PrincipalKind: id.kind}
	if req.Params.IdempotencyKey != nil {
		in.IdempotencyKey = *req.Params.IdempotencyKey
	}
	ev, err := events.Build(set.Route.Event, set.Public, id.user, in, s.now())
	if err != nil {
		return nil, fmt.Errorf("build event: %w", err)
	}
	enc, err := encodeEvent(set, ev)
	if err != nil {
		// A retry of a request published before a reload made its event
		// too large gets its first answer.
		if a, ok := s.recordedAnswer(ctx, id, "", in.IdempotencyKey, in.Data, false); ok {
			return replayRoute(a, rl), nil
		}
		return nil, err
	}
	if in.IdempotencyKey != "" && s.idem != nil {
		return publishOnce(ctx, s, id, keyed[gen.PostRouteResponseObject]{
			key:     in.IdempotencyKey,
			payload: in.Data,
			ids: func(windowEnd time.Time) []string {
				return []string{events.KeyedEventID(id.kind, id.user.ID, in.IdempotencyKey, windowEnd)}
			},
			publish: func(ctx context.Context, ids []string) (answer[gen.PostRouteResponseObject], error) {
				// The id comes from the key's window: the event is encoded
				// again with it (the same size: every id is 32 hex digits).
				ev.ID = ids[0]
				enc, err := events.EncodeEvent(ev)
				if err != nil {
					return answer[gen.PostRouteResponseObject]{}, fmt.Errorf("encode event: %w", err)
				}
				return s.publish(ctx, id, enc, rl)
			},
			replay: func(a idempotency.Answer) gen.PostRouteResponseObject { return replayRoute(a, rl) },
		})
	}
	ans, err := s.publish(ctx, id, enc, rl)
	if err != nil {
		return nil, err
	}
	return ans.resp, nil
}

// publish publishes ev and makes the success answer: 200 when Inngest
// accepted it, 202 when it is queued.
func (s *Server) publish(ctx context.Context, id identity, ev events.Encoded, rl rateHeaders) (answer[gen.PostRouteResponseObject], error) {
	rcpt, err := s.publisher.Publish(ctx, ev)
	if err != nil {
		return answer[gen.PostRouteResponseObject]{}, fmt.Errorf("publish: %w", err)
	}
	if rcpt.Queued {
		loggerFrom(ctx).Info("event queued", "event_id", ev.ID, "event", ev.Name, "user_id", id.user.ID)
		return answer[gen.PostRouteResponseObject]{
			resp: gen.PostRoute202JSONResponse{Body: gen.RouteQueuedResponse{Success: "true", Ids: []string{}, EventId: ev.ID, Queued: true},
				Headers: gen.PostRoute202ResponseHeaders(rl)},
			record: idempotency.Answer{Status: http.StatusAccepted, EventID: ev.ID, IDs: []string{}},
		}, nil
	}
	loggerFrom(ctx).Info("event published", "event_id", ev.ID, "event", ev.Name, "user_id", id.user.ID, "inngest_ids", rcpt.IDs)
	return answer[gen.PostRouteResponseObject]{
		resp:   gen.PostRoute200JSONResponse{Body: gen.RouteResponse{Success: "true", Ids: rcpt.IDs, EventId: ev.ID}, Headers: gen.PostRoute200ResponseHeaders(rl)},
		record: idempotency.Answer{Status: http.StatusOK, EventID: ev.ID, IDs: rcpt.IDs},
	}, nil
}

// encodeEvent encodes ev once, for its size check and its publish, and
// refuses with 413 an event larger than the settings'
// inngest.maxEventBytes: Inngest would refuse it ("Event is over the max
// size"), after routeapi had acknowledged it.
func encodeEvent(set settings.Settings, ev events.Event) (events.Encoded, error) {
	enc, err := events.EncodeEvent(ev)
	if err != nil {
		return events.Encoded{}, fmt.Errorf("encode event: %w", err)
	}
	if size, limit := len(enc.JSON), set.Inngest.EventLimit(); int64(size) > limit {
		return events.Encoded{}, &problemError{kind: kindTooLarge,
			detail: fmt.Sprintf("The event for this request would be %d bytes (data with the user, the public settings and the event's envelope), more than the %d bytes Inngest accepts (inngest.maxEventBytes). Send less data.", size, limit)}
	}
	return enc, nil
}
