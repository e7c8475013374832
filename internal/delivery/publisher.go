package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/spool"
)

// Metrics is what the Publisher and the Deliverer report; internal/metrics
// implements it. The Sender reports each request to its own Observer, and
// the breaker's state goes to the onChange given to NewBreaker.
type Metrics interface {
	// Spooled counts events written to the spool by why ("unavailable", "circuit-open", ...).
	Spooled(reason string, n int)
	// Delivered counts spooled events the deliverer got accepted.
	Delivered(n int)
	// DeadLettered counts events moved to the dead letters.
	DeadLettered(n int)
}

// ErrNotQueued means Inngest did not take the event and the spool could not store it.
var ErrNotQueued = errors.New("event could not be queued")

// Receipt is the outcome of a publish the caller may report as success.
type Receipt struct {
	// IDs are Inngest's ids, one per event in order, when it accepted every
	// event at once (empty when Inngest named none).
	IDs []string
	// Queued: every event Inngest did not accept at once is in the spool
	// (or, for those Inngest refused, in the dead letters) and will be
	// delivered later.
	Queued bool
}

// Publisher publishes an event through the batcher and falls back to the
// spool when Inngest is down, slow or failing. Every event it reports as
// published or queued is either accepted by Inngest or durably stored.
type Publisher struct {
	// Batcher sends the event; its Sender's circuit breaker decides whether
	// the event goes to Inngest at all or straight to the spool.
	Batcher *Batcher
	Spool   spool.Spool
	Metrics Metrics
	Log     *slog.Logger
	Timeout time.Duration
	Wake    func()
	Now     func() time.Time
}

// Publish publishes e, encoded by its caller (events.EncodeEvent, whose
// encoding the caller has sized). Errors: spool.ErrFull (the spool has no
// room) or ErrNotQueued (the spool failed). It is PublishAll of one event,
// except that the event may share its Event API request with other
// publishes (the Batcher coalesces single events).
func (p *Publisher) Publish(ctx context.Context, e events.Encoded) (Receipt, error) {
	return p.publish(ctx, []events.Event{e.Event}, []json.RawMessage{e.JSON})
}

// PublishAll publishes evs, the events of one sendEvents batch (POST
// /api/events), each encoded by its caller (events.EncodeEvent), as one
// unit:
//
//   - While the circuit is open, every event goes into the spool in one
//     Spool.Put: Receipt{Queued: true}.
//   - Otherwise the events go to Inngest in one Event API request of their
//     own (Batcher.SubmitAll), bounded by Timeout; the caller's
//     cancellation does not cut a send in flight short. The request holds
//     the whole batch whatever ROUTEAPI_BATCH_MAX_EVENTS and
//     ROUTEAPI_BATCH_MAX_BYTES say: those bound the coalescing of separate
//     publishes, and a batch (at most 100 events, each within Inngest's
//     event size) is well inside what one Event API request takes (5000
//     events and a size limit per event, not per request: the Event API's
//     eventstream.ParseStream with consts.MaxEvents). A batch of one event
//     goes as Publish's, which may share its request. If Inngest refuses
//     the request, the Sender sends each event alone to find the ones it
//     refuses. (Inngest's Event API handles a request's events in order and
//     answers 400 at the first it refuses, having taken those before it:
//     sent again alone under their ids, Inngest deduplicates them.)
//   - Inngest accepted every event: Receipt{IDs: Inngest's ids in order}
//     (empty when Inngest did not name an id for every event).
//   - Otherwise the events Inngest refused alone (inngest.Rejected) go to the
//     dead letters, then every event it did not accept (no answer in time,
//     unavailable, not sent) goes into the spool in one Spool.Put, one
//     transaction: all of them or none: Receipt{Queued: true}.
//
// Events Inngest accepted stay accepted whatever happens next: an error
// answer to a batch Inngest accepted in part means a retry must use the same
// event ids (an Idempotency-Key: events.BatchEventID) for Inngest to drop
// the part it has. Errors: spool.ErrFull (the spool has no room for all the
// events to queue: none is queued), ErrNotQueued (the spool failed: none is
// queued; or the refused events could not be dead-lettered: then nothing
// was queued either). evs must hold at least one event.
func (p *Publisher) PublishAll(ctx context.Context, evs []events.Encoded) (Receipt, error) {
	if len(evs) == 0 {
		return Receipt{}, errors.New("publish: no events")
	}
	plain := make([]events.Event, len(evs))
	encs := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		plain[i], encs[i] = e.Event, e.JSON
	}
	return p.publish(ctx, plain, encs)
}

// publish is Publish and PublishAll: evs and their encodings encs. One
// event goes through Batcher.Submit (coalesced with others), more through
// Batcher.SubmitAll (a request of their own).
func (p *Publisher) publish(ctx context.Context, evs []events.Event, encs []json.RawMessage) (Receipt, error) {
	var (
		sent    = p.Batcher.allow()
		ids     []string
		errs    []error // each event's error after a split; nil: sendErr for all
		sendErr error
		one     [1]string
	)
	if sent {
		// Only the publish bound cuts the wait short: a caller that goes away
		// must not turn a send in flight into a spooled duplicate.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.Timeout)
		if len(encs) == 1 {
			one[0], sendErr = p.Batcher.Submit(sctx, encs[0])
			ids = one[:]
		} else {
			ids, errs, sendErr = p.Batcher.SubmitAll(sctx, encs)
		}
		cancel()
	}
	errOf := func(i int) error {
		if errs != nil {
			return errs[i]
		}
		return sendErr
	}
	if sent && sendErr == nil && errs == nil {
		return Receipt{IDs: accepted(ids)}, nil
	}

	// Sort the events Inngest did not accept: refused (dead letters) or to
	// queue, each with why.
	var (
		refused []burial
		queue   []spool.Record
		why     []spoolReason
	)
	for i, e := range evs {
		err := errOf(i)
		reason := "circuit-open"
		if sent {
			o := inngest.Classify(err)
			switch {
			case o == inngest.OK:
				continue
			case o == inngest.Rejected:
				refused = addBurial(refused, p.record(e.ID, encs[i]), err)
				continue
			case errors.Is(err, ErrClosed):
				reason = "shutting-down"
			default: // retryable: inngest.Timeout or inngest.Unavailable
				reason = o.String()
			}
		}
		queue = append(queue, p.record(e.ID, encs[i]))
		why = addReason(why, reason, e.ID, err)
	}
	requestID := evs[0].Data.RequestID
	what := "the event"
	if len(evs) > 1 {
		what = "an event of a batch"
	}
	if err := p.bury(ctx, refused, what, requestID); err != nil {
		return Receipt{}, err
	}
	if len(queue) == 0 {
		return Receipt{Queued: true}, nil
	}
	for _, w := range why {
		if w.err != nil {
			p.logSpooling(requestID, w)
		}
	}
	pctx, cancel := spoolContext(ctx)
	defer cancel()
	if err := p.Spool.Put(pctx, queue); err != nil {
		if errors.Is(err, spool.ErrFull) {
			return Receipt{}, fmt.Errorf("spool %s: %w", describe(queue), err)
		}
		return Receipt{}, fmt.Errorf("spool %s: %w: %w", describe(queue), ErrNotQueued, err)
	}
	for _, w := range why {
		p.Metrics.Spooled(w.reason, len(w.ids))
	}
	if p.Wake != nil {
		p.Wake()
	}
	return Receipt{Queued: true}, nil
}

// accepted is Receipt.IDs for events Inngest accepted with ids: the ids,
// or none when Inngest did not name one for every event.
func accepted(ids []string) []string {
	for _, id := range ids {
		if id == "" {
			return []string{}
		}
	}
	return append([]string(nil), ids...)
}

// spoolReason is the events spooled for one reason, with the first error
// that gave it (nil while the circuit is open).
type spoolReason struct {
	reason string
	ids    []string
	err    error
}

func addReason(why []spoolReason, reason, id string, err error) []spoolReason {
	for i := range why {
		if why[i].reason == reason {
			why[i].ids = append(why[i].ids, id)
			return why
		}
	}
	return append(why, spoolReason{reason: reason, ids: []string{id}, err: err})
}

// logSpooling logs the events of w going to the spool.
func (p *Publisher) logSpooling(requestID string, w spoolReason) {
	if len(w.ids) == 1 {
		p.Log.Warn("event not published at once; spooling it",
			"request_id", requestID, "event_id", w.ids[0], "reason", w.reason, "err", w.err.Error())
		return
	}
	p.Log.Warn("events not published at once; spooling them",
		"request_id", requestID, "event_ids", w.ids, "reason", w.reason, "err", w.err.Error())
}

// burial is the refused events of one cause (the error of the request that
// refused them), for one Bury.
type burial struct {
	cause error
	recs  []spool.Record
}

func addBurial(bs []burial, rec spool.Record, cause error) []burial {
	for i := range bs {
		if bs[i].cause.Error() == cause.Error() {
			bs[i].recs = append(bs[i].recs, rec)
			return bs
		}
	}
	return append(bs, burial{cause: cause, recs: []spool.Record{rec}})
}

// bury moves refused events to the dead letters, one Bury per cause.
func (p *Publisher) bury(ctx context.Context, bs []burial, what, requestID string) error {
	if len(bs) == 0 {
		return nil
	}
	bctx, cancel := spoolContext(ctx)
	defer cancel()
	for _, b := range bs {
		if err := (deadLetters{p.Spool, p.Metrics, p.Log}).bury(bctx, b.recs, b.cause, what, "request_id", requestID); err != nil {
			// Not kept anywhere: the caller gets a 503 (ErrNotQueued), never a 500.
			return fmt.Errorf("dead-letter %s: %w: %w", describe(b.recs), ErrNotQueued, err)
		}
	}
	return nil
}

// describe names recs in an error: "event <id>", or "<n> events (<first id>, ...)".
func describe(recs []spool.Record) string {
	if len(recs) == 1 {
		return "event " + recs[0].EventID
	}
	return fmt.Sprintf("%d events (%s, ...)", len(recs), recs[0].EventID)
}

func (p *Publisher) record(id string, enc []byte) spool.Record {
	now := p.Now()
	return spool.Record{EventID: id, Event: enc, EnqueuedAt: now, NextAt: now}
}

// spoolWriteBound bounds one spool write on the request path: a spool that
// cannot answer in time (a PostgreSQL spool behind a dropped network) gives
// the caller 503 instead of holding the request past the server's timeouts.
const spoolWriteBound = 5 * time.Second

// spoolContext is ctx without its cancellation (a caller that goes away must
// not undo a write it may already have been promised) but with spoolWriteBound.
func spoolContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), spoolWriteBound)
}
