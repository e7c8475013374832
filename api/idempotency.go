package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/diskspace"
	"github.com/routeapi/routeapi/internal/events"
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

// answer is a success answer in the two forms the route needs: for the
// caller, and for the idempotency store.
type answer struct {
	resp   gen.PostRouteResponseObject
	record idempotency.Answer
}

// publishOnce publishes ev for a request with an Idempotency-Key: the
// first request with the key publishes and records its answer; a repeat
// with the same data gets that answer back and publishes nothing; a repeat
// with other data gets 422, one while the first is in flight 409.
func (s *Server) publishOnce(ctx context.Context, id identity, key string, data json.RawMessage, ev events.Event, rl gen.PostRoute200ResponseHeaders) (gen.PostRouteResponseObject, error) {
	fp, err := idempotency.FingerprintOf(data)
	if err != nil {
		return nil, fmt.Errorf("idempotency: %w", err)
	}
	digest := idempotency.Key{Principal: idempotency.Principal{Kind: id.kind, ID: id.user.ID}, Key: key}.Digest()
	res, err := s.idem.Begin(ctx, digest, fp, s.now(), s.idemLease)
	if err != nil {
		if errors.Is(err, diskspace.ErrLow) {
			return nil, fmt.Errorf("reserve idempotency key: %w", err)
		}
		return nil, fmt.Errorf("%w: %w", errIdempotencyStore, err)
	}
	if res.Outcome == idempotency.Replay {
		loggerFrom(ctx).Info("idempotent replay", "event_id", res.Answer.EventID, "status", res.Answer.Status, "user_id", id.user.ID)
		return replay(res.Answer, rl), nil
	}
	if err := refusal(res, key); err != nil {
		return nil, err
	}
	// The id belongs to this key's window: the same for every request that
	// proceeds under it (a retry after a 5xx, a takeover after a crash), a
	// new one once the key is used again after its window.
	ev.ID = events.KeyedEventID(id.kind, id.user.ID, key, res.ExpiresAt)
	return s.publishKeyed(ctx, id, digest, fp, ev, rl)
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

// publishKeyed publishes ev under a key Begin let proceed, then records the
// answer for replays, or releases the key when there is nothing to replay.
func (s *Server) publishKeyed(ctx context.Context, id identity, digest idempotency.Digest, fp idempotency.Fingerprint, ev events.Event, rl gen.PostRoute200ResponseHeaders) (gen.PostRouteResponseObject, error) {
	log := loggerFrom(ctx)
	ans, err := s.publish(ctx, id, ev, rl)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), idempotencyWriteBound)
	defer cancel()
	if err != nil {
		// Nothing to replay: free the key for a retry with the same data.
		if rerr := s.idem.Release(wctx, digest, fp); rerr != nil {
			log.Error("release idempotency key", "event_id", ev.ID, "err", rerr.Error())
		}
		return nil, err
	}
	if cerr := s.idem.Complete(wctx, digest, fp, ans.record); cerr != nil {
		// The event is published or queued, so the answer stands. The key
		// stays in flight until its lease ends; a retry then publishes again
		// under the same event id, which Inngest deduplicates.
		log.Error("record idempotent answer", "event_id", ev.ID, "err", cerr.Error())
	}
	return ans.resp, nil
}

// replay is the recorded answer as a response.
func replay(a idempotency.Answer, rl gen.PostRoute200ResponseHeaders) gen.PostRouteResponseObject {
	if a.Status == http.StatusAccepted {
		return gen.PostRoute202JSONResponse{Body: gen.RouteQueuedResponse{Success: "true", Ids: []string{}, EventId: a.EventID, Queued: true},
			Headers: gen.PostRoute202ResponseHeaders(rl)}
	}
	ids := a.IDs
	if ids == nil {
		ids = []string{}
	}
	return gen.PostRoute200JSONResponse{Body: gen.RouteResponse{Success: "true", Ids: ids, EventId: a.EventID}, Headers: rl}
}
