package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/diskspace"
	"github.com/routeapi/routeapi/internal/idempotency"
)

// The idempotency refusals (draft-ietf-httpapi-idempotency-key-header §2.7).
var (
	// kindKeyInFlight: the key's first request has not answered yet.
	kindKeyInFlight = kind{"idempotency-key-in-flight", "Idempotency key in use", http.StatusConflict, 1}
	// kindKeyReused: the key was first used with another payload.
	kindKeyReused = kind{"idempotency-key-reused", "Idempotency key reused", http.StatusUnprocessableEntity, 0}
)

// errIdempotencyStore wraps a failure of the idempotency store.
var errIdempotencyStore = errors.New("idempotency store")

// defaultIdempotencyLease holds a key for a request in flight when Deps sets none.
const defaultIdempotencyLease = time.Minute

// idempotencyWriteBound bounds recording the outcome of a request, which
// runs even when the caller has gone away.
const idempotencyWriteBound = 5 * time.Second

// answer is a success answer in the two forms an operation needs: R, its
// response object, for the caller, and the record for the idempotency store.
type answer[R any] struct {
	resp   R
	record idempotency.Answer
}

// keyed is one request with an Idempotency-Key, as publishOnce needs it:
// what its key covers, how its events' ids derive from the key's window,
// how it publishes and how a recorded answer is replayed.
type keyed[R any] struct {
	// operation keeps the keys of operations apart (idempotency.Key.Operation:
	// "" for POST /api/route, idempotency.OperationSendEvents).
	operation string
	// key is the Idempotency-Key as sent.
	key string
	// payload is what the key's fingerprint covers: the caller's part of
	// the request, as sent (the route's data, the batch's events array).
	payload json.RawMessage
	// batch: the request publishes a batch (log lines say event_ids).
	batch bool
	// ids are the events' ids under the key's window, which ends at windowEnd.
	ids func(windowEnd time.Time) []string
	// publish publishes the events under ids and makes the answer.
	publish func(ctx context.Context, ids []string) (answer[R], error)
	// replay is a recorded answer as the response.
	replay func(idempotency.Answer) R
}

// idsAttr is the log attribute of a request's event ids: event_id for the
// route's one event, event_ids for a batch.
func idsAttr(batch bool, ids []string) slog.Attr {
	if !batch && len(ids) == 1 {
		return slog.String("event_id", ids[0])
	}
	return slog.Any("event_ids", ids)
}

// recordedIDs are the event ids of a recorded answer: EventIDs for a
// batch, EventID for the route.
func recordedIDs(a idempotency.Answer) []string {
	if a.EventIDs != nil {
		return a.EventIDs
	}
	return []string{a.EventID}
}

// publishOnce publishes the events of a request with an Idempotency-Key:
// the first request with the key publishes and records its answer; a repeat
// with the same payload gets that answer back and publishes nothing; a
// repeat with another payload gets 422, one while the first is in flight
// 409.
func publishOnce[R any](ctx context.Context, s *Server, id identity, k keyed[R]) (R, error) {
	var none R
	fp, err := idempotency.FingerprintOf(k.payload)
	if err != nil {
		return none, fmt.Errorf("idempotency: %w", err)
	}
	digest := idempotency.Key{Principal: idempotency.Principal{Kind: id.kind, ID: id.user.ID}, Key: k.key, Operation: k.operation}.Digest()
	res, err := s.idem.Begin(ctx, digest, fp, s.now(), s.idemLease)
	if err != nil {
		if errors.Is(err, diskspace.ErrLow) {
			return none, fmt.Errorf("reserve idempotency key: %w", err)
		}
		return none, fmt.Errorf("%w: %w", errIdempotencyStore, err)
	}
	if res.Outcome == idempotency.Replay {
		loggerFrom(ctx).Info("idempotent replay", idsAttr(k.batch, recordedIDs(res.Answer)), "status", res.Answer.Status, "user_id", id.user.ID)
		return k.replay(res.Answer), nil
	}
	if err := refusal(res, k.key); err != nil {
		return none, err
	}
	// The ids belong to this key's window: the same for every request that
	// proceeds under it (a retry after a 5xx, a takeover after a crash), new
	// ones once the key is used again after its window.
	return publishKeyed(ctx, s, digest, fp, k, k.ids(res.ExpiresAt))
}

// recordedAnswer is the answer recorded under key for operation by id
// with payload (the idempotency store's Recorded: a request completed
// within the key's window), for a retry that the settings reloaded since
// now refuse: the refusal would say nothing was published, while the
// first request was. ok is false without a key or a store, when nothing is
// recorded, or when the store cannot be read (logged: the refusal stands).
// Only reads the store.
func (s *Server) recordedAnswer(ctx context.Context, id identity, operation, key string, payload json.RawMessage, batch bool) (idempotency.Answer, bool) {
	if key == "" || s.idem == nil {
		return idempotency.Answer{}, false
	}
	fp, err := idempotency.FingerprintOf(payload)
	if err != nil {
		return idempotency.Answer{}, false
	}
	digest := idempotency.Key{Principal: idempotency.Principal{Kind: id.kind, ID: id.user.ID}, Key: key, Operation: operation}.Digest()
	a, ok, err := s.idem.Recorded(ctx, digest, fp, s.now())
	if err != nil {
		loggerFrom(ctx).Error("look up idempotent answer", "err", err.Error())
		return idempotency.Answer{}, false
	}
	if ok {
		loggerFrom(ctx).Info("idempotent replay", idsAttr(batch, recordedIDs(a)), "status", a.Status, "user_id", id.user.ID)
	}
	return a, ok
}

// refusal is the error for a Begin outcome other than Proceed and Replay:
// the key in flight (409), reused with other data (422), or an outcome this
// code does not know. Nil for Proceed.
func refusal(res idempotency.Result, key string) error {
	switch res.Outcome {
	case idempotency.Busy:
		return &problemError{kind: kindKeyInFlight,
			detail: fmt.Sprintf("A request with the Idempotency-Key %q is still in progress. Retry after it has answered; the retry gets its answer.", key),
			err:    fmt.Errorf("idempotency key in flight for %s more", res.LeaseLeft)}
	case idempotency.Mismatch:
		return &problemError{kind: kindKeyReused,
			detail: fmt.Sprintf("The Idempotency-Key %q was already used with a different request body within the last 24 hours (until %s). Use a new key for a new request.",
				key, res.ExpiresAt.UTC().Format(time.RFC3339)),
			err: errors.New("idempotency key reused with another payload")}
	case idempotency.Proceed:
		return nil
	default:
		return fmt.Errorf("idempotency: unknown outcome %d", res.Outcome)
	}
}

// publishKeyed publishes the events under ids for a key Begin let proceed,
// then records the answer for replays, or releases the key when there is
// nothing to replay.
func publishKeyed[R any](ctx context.Context, s *Server, digest idempotency.Digest, fp idempotency.Fingerprint, k keyed[R], ids []string) (R, error) {
	log := loggerFrom(ctx)
	ans, err := k.publish(ctx, ids)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), idempotencyWriteBound)
	defer cancel()
	if err != nil {
		// Nothing to replay: free the key for a retry with the same data.
		if rerr := s.idem.Release(wctx, digest, fp); rerr != nil {
			log.Error("release idempotency key", idsAttr(k.batch, ids), "err", rerr.Error())
		}
		var none R
		return none, err
	}
	if cerr := s.idem.Complete(wctx, digest, fp, ans.record); cerr != nil {
		// The events are published or queued, so the answer stands. The key
		// stays in flight until its lease ends; a retry then publishes again
		// under the same event ids, which Inngest deduplicates.
		log.Error("record idempotent answer", idsAttr(k.batch, ids), "err", cerr.Error())
	}
	return ans.resp, nil
}

// replayRoute is a recorded answer of POST /api/route as its response.
func replayRoute(a idempotency.Answer, rl rateHeaders) gen.PostRouteResponseObject {
	if a.Status == http.StatusAccepted {
		return gen.PostRoute202JSONResponse{Body: gen.RouteQueuedResponse{Success: "true", Ids: []string{}, EventId: a.EventID, Queued: true},
			Headers: gen.PostRoute202ResponseHeaders(rl)}
	}
	ids := a.IDs
	if ids == nil {
		ids = []string{}
	}
	return gen.PostRoute200JSONResponse{Body: gen.RouteResponse{Success: "true", Ids: ids, EventId: a.EventID}, Headers: gen.PostRoute200ResponseHeaders(rl)}
}
