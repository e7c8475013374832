package delivery

import (
	"context"
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
	// IDs are Inngest's ids, when it accepted the event at once.
	IDs []string
	// Queued: the event is in the spool (or, if Inngest refused it, in the
	// dead letters) and will be delivered later.
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

// Publish publishes e. Errors: spool.ErrFull (the spool has no room),
// ErrNotQueued (the spool failed), or an encoding error.
func (p *Publisher) Publish(ctx context.Context, e events.Event) (Receipt, error) {
	enc, err := events.Encode(e)
	if err != nil {
		return Receipt{}, err
	}
	reason := "circuit-open"
	if p.Batcher.allow() {
		// Only the publish bound cuts the wait short: a caller that goes away
		// must not turn a send in flight into a spooled duplicate.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.Timeout)
		id, err := p.Batcher.Submit(sctx, enc)
		cancel()
		switch o := inngest.Classify(err); {
		case o == inngest.OK:
			ids := []string{}
			if id != "" { // "" when Inngest accepted the event without naming its internal id
				ids = append(ids, id)
			}
			return Receipt{IDs: ids}, nil
		case o == inngest.Rejected:
			bctx, cancel := spoolContext(ctx)
			berr := deadLetters{p.Spool, p.Metrics, p.Log}.bury(bctx, []spool.Record{p.record(e.ID, enc)}, err, "the event", "request_id", e.Data.RequestID)
			cancel()
			if berr != nil {
				// Not kept anywhere: the caller gets a 503 (ErrNotQueued), never a 500.
				return Receipt{}, fmt.Errorf("dead-letter event %s: %w: %w", e.ID, ErrNotQueued, berr)
			}
			return Receipt{Queued: true}, nil
		case errors.Is(err, ErrClosed):
			reason = "shutting-down"
		default: // retryable: inngest.Timeout or inngest.Unavailable
			reason = o.String()
		}
		p.Log.Warn("event not published at once; spooling it",
			"request_id", e.Data.RequestID, "event_id", e.ID, "reason", reason, "err", err.Error())
	}
	pctx, cancel := spoolContext(ctx)
	defer cancel()
	if err := p.Spool.Put(pctx, []spool.Record{p.record(e.ID, enc)}); err != nil {
		if errors.Is(err, spool.ErrFull) {
			return Receipt{}, fmt.Errorf("spool event %s: %w", e.ID, err)
		}
		return Receipt{}, fmt.Errorf("spool event %s: %w: %w", e.ID, ErrNotQueued, err)
	}
	p.Metrics.Spooled(reason, 1)
	if p.Wake != nil {
		p.Wake()
	}
	return Receipt{Queued: true}, nil
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
