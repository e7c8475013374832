package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/settings"
)

// SendEvents publishes a batch of catalogue events for the caller, all or
// none: the validator has checked each event's data against its own schema
// (the discriminator on name chooses it); here the settings, the caller,
// the rate limit (once for the batch), what Inngest keeps unchanged (each
// data as sent), the names the settings switch off and each event's size
// are checked before anything is published. Each event is the route's
// envelope (events.Build) around its data as sent; the user comes from the
// session or API token only. The handler has no code per event: the
// catalogue is the contract.
//
// POST /api/events
func (s *Server) SendEvents(ctx context.Context, req gen.SendEventsRequestObject) (gen.SendEventsResponseObject, error) {
	set, err := s.settingsFor(ctx)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	id, rl, err := s.caller(ctx, set)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, &problemError{kind: kindInvalid, detail: "A JSON body is required."}
	}

	sent, err := sentEvents(req.Body.Events)
	if err != nil {
		return nil, err
	}
	if err := checkSentData(ctx, sent); err != nil {
		return nil, err
	}
	var key string
	if req.Params.IdempotencyKey != nil {
		key = *req.Params.IdempotencyKey
	}
	refused := checkDisabled(set, sent)
	var evs []events.Encoded
	if refused == nil {
		evs, refused = s.buildEvents(ctx, set, id, sent)
	}
	if refused != nil {
		// A retry of a batch published before a reload switched an event
		// off or made events too large gets its first answer, as any retry
		// after a reload does: the refusal would say nothing was published.
		if resp, ok := s.recordedEvents(ctx, id, key, req.Body.Events, rl); ok {
			return resp, nil
		}
		return nil, refused
	}
	switch {
	case key != "" && s.idem != nil:
		payload, err := eventsAsSent(ctx, req.Body.Events)
		if err != nil {
			return nil, err
		}
		return publishOnce(ctx, s, id, keyed[gen.SendEventsResponseObject]{
			operation: idempotency.OperationSendEvents,
			key:       key,
			payload:   payload,
			batch:     true,
			ids:       func(windowEnd time.Time) []string { return batchIDs(id, key, windowEnd, len(evs)) },
			publish: func(ctx context.Context, ids []string) (answer[gen.SendEventsResponseObject], error) {
				keyed, err := withIDs(evs, ids)
				if err != nil {
					return answer[gen.SendEventsResponseObject]{}, err
				}
				return s.publishAll(ctx, id, keyed, rl)
			},
			replay: func(a idempotency.Answer) gen.SendEventsResponseObject { return replayEvents(a, rl) },
		})
	case key != "":
		// No store: the ids still derive from the key (the window's end is
		// zero), so Inngest deduplicates a retry of the same batch.
		if evs, err = withIDs(evs, batchIDs(id, key, time.Time{}, len(evs))); err != nil {
			return nil, err
		}
	}
	ans, err := s.publishAll(ctx, id, evs, rl)
	if err != nil {
		return nil, err
	}
	return ans.resp, nil
}

// recordedEvents is the answer recorded for a batch sent earlier under
// key by id with the same events (recordedAnswer), as the response.
func (s *Server) recordedEvents(ctx context.Context, id identity, key string, sent []gen.CatalogueEvent, rl rateHeaders) (gen.SendEventsResponseObject, bool) {
	if key == "" || s.idem == nil {
		return nil, false
	}
	payload, err := eventsAsSent(ctx, sent)
	if err != nil {
		return nil, false
	}
	a, ok := s.recordedAnswer(ctx, id, idempotency.OperationSendEvents, key, payload, true)
	if !ok {
		return nil, false
	}
	return replayEvents(a, rl), true
}

// buildEvents builds and encodes the event of each sent event (encoded
// once, for its size check and its publish), refusing with 413 (a field
// error at each /events/<i>) the events larger than the settings'
// inngest.maxEventBytes. Each has a random id; withIDs replaces them for a
// request with an Idempotency-Key.
func (s *Server) buildEvents(ctx context.Context, set settings.Settings, id identity, sent []sentEvent) ([]events.Encoded, error) {
	now, reqID := s.now(), requestIDFrom(ctx)
	limit := set.Inngest.EventLimit()
	evs := make([]events.Encoded, len(sent))
	var tooLarge []gen.FieldError
	for i, se := range sent {
		ev, err := events.Build(se.Name, set.Public, id.user, events.Request{Data: se.Data, RequestID: reqID, PrincipalKind: id.kind}, now)
		if err != nil {
			return nil, fmt.Errorf("build event %d: %w", i, err)
		}
		enc, err := events.EncodeEvent(ev)
		if err != nil {
			return nil, fmt.Errorf("encode event %d: %w", i, err)
		}
		if size := len(enc.JSON); int64(size) > limit {
			tooLarge = append(tooLarge, gen.FieldError{Pointer: fmt.Sprintf("/events/%d", i),
				Detail: fmt.Sprintf("this event would be %d bytes, more than the %d bytes Inngest accepts", size, limit)})
		}
		evs[i] = enc
	}
	if len(tooLarge) > 0 {
		n := len(tooLarge)
		if n > maxFieldErrors {
			tooLarge = tooLarge[:maxFieldErrors]
		}
		return nil, &problemError{kind: kindTooLarge, fields: tooLarge,
			detail: fmt.Sprintf("%d of the %d events would be larger, with the user, the public settings and the event's envelope, than the %d bytes Inngest accepts (inngest.maxEventBytes); errors[] gives each one's size. Send less data in each; nothing was published.", n, len(sent), limit),
			err:    fmt.Errorf("%d events over inngest.maxEventBytes %d", n, limit)}
	}
	return evs, nil
}

// checkDisabled refuses with 403 event-disabled a batch with an event name
// the settings switch off (events.disabled), with a field error at each
// such /events/<i>/name.
func checkDisabled(set settings.Settings, sent []sentEvent) error {
	var fields []gen.FieldError
	var names []string
	for i, se := range sent {
		if !set.Events.IsDisabled(se.Name) {
			continue
		}
		fields = append(fields, gen.FieldError{Pointer: fmt.Sprintf("/events/%d/name", i), Detail: se.Name + " is switched off"})
		if !slices.Contains(names, se.Name) {
			names = append(names, se.Name)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	if len(fields) > maxFieldErrors {
		fields = fields[:maxFieldErrors]
	}
	return &problemError{kind: kindEventDisabled, fields: fields,
		detail: fmt.Sprintf("The settings switch off the event %s (events.disabled); nothing was published.", strings.Join(names, ", ")),
		err:    fmt.Errorf("events disabled by settings: %s", strings.Join(names, ", "))}
}

// publishAll publishes the batch and makes the success answer: 200 when
// Inngest accepted every event, 202 when they are queued.
func (s *Server) publishAll(ctx context.Context, id identity, evs []events.Encoded, rl rateHeaders) (answer[gen.SendEventsResponseObject], error) {
	rcpt, err := s.publisher.PublishAll(ctx, evs)
	if err != nil {
		return answer[gen.SendEventsResponseObject]{}, fmt.Errorf("publish %d events: %w", len(evs), err)
	}
	ids := make([]string, len(evs))
	names := make([]string, len(evs))
	for i, ev := range evs {
		ids[i], names[i] = ev.ID, ev.Name
	}
	log := loggerFrom(ctx)
	if rcpt.Queued {
		log.Info("events queued", "event_ids", ids, "events", names, "user_id", id.user.ID)
		return answer[gen.SendEventsResponseObject]{
			resp: gen.SendEvents202JSONResponse{Body: gen.SendEventsQueuedResponse{Success: "true", EventIds: ids, Ids: []string{}, Queued: true},
				Headers: gen.SendEvents202ResponseHeaders(rl)},
			record: idempotency.Answer{Status: http.StatusAccepted, EventIDs: ids, IDs: []string{}},
		}, nil
	}
	inngestIDs := rcpt.IDs
	if inngestIDs == nil {
		inngestIDs = []string{}
	}
	log.Info("events published", "event_ids", ids, "events", names, "user_id", id.user.ID, "inngest_ids", inngestIDs)
	return answer[gen.SendEventsResponseObject]{
		resp: gen.SendEvents200JSONResponse{Body: gen.SendEventsResponse{Success: "true", EventIds: ids, Ids: inngestIDs},
			Headers: gen.SendEvents200ResponseHeaders(rl)},
		record: idempotency.Answer{Status: http.StatusOK, EventIDs: ids, IDs: inngestIDs},
	}, nil
}

// replayEvents is a recorded answer of POST /api/events as its response.
func replayEvents(a idempotency.Answer, rl rateHeaders) gen.SendEventsResponseObject {
	eventIDs := a.EventIDs
	if eventIDs == nil {
		eventIDs = []string{}
	}
	if a.Status == http.StatusAccepted {
		return gen.SendEvents202JSONResponse{Body: gen.SendEventsQueuedResponse{Success: "true", EventIds: eventIDs, Ids: []string{}, Queued: true},
			Headers: gen.SendEvents202ResponseHeaders(rl)}
	}
	ids := a.IDs
	if ids == nil {
		ids = []string{}
	}
	return gen.SendEvents200JSONResponse{Body: gen.SendEventsResponse{Success: "true", EventIds: eventIDs, Ids: ids}, Headers: gen.SendEvents200ResponseHeaders(rl)}
}

// batchIDs are the ids of a batch of n events sent with an Idempotency-Key
// whose window ends at windowEnd (zero without an idempotency store):
// events.BatchEventID of each index.
func batchIDs(id identity, key string, windowEnd time.Time, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = events.BatchEventID(id.kind, id.user.ID, key, windowEnd, i)
	}
	return ids
}

// withIDs is evs with event i's id ids[i], encoded again (a copy: a retry
// builds its own). Every id is 32 hexadecimal digits, so each encoding
// keeps the size buildEvents checked.
func withIDs(evs []events.Encoded, ids []string) ([]events.Encoded, error) {
	out := make([]events.Encoded, len(evs))
	for i, ev := range evs {
		e := ev.Event
		e.ID = ids[i]
		enc, err := events.EncodeEvent(e)
		if err != nil {
			return nil, fmt.Errorf("encode event %d: %w", i, err)
		}
		out[i] = enc
	}
	return out, nil
}
