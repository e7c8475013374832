package delivery

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/routeapi/routeapi/internal/inngest"
)

// Client sends encoded events in one Event API request (inngest.Client).
type Client interface {
	Send(ctx context.Context, events []json.RawMessage) ([]string, error)
}

// Observer is told about every Event API request (the metrics).
type Observer interface {
	// Sent reports one request of n events that took d and ended in err.
	Sent(n int, d time.Duration, err error)
}

// Sender is routeapi's one path into Inngest, shared by the Batcher and the
// Deliverer. It sends through the client, times each request and reports it
// to the observer, feeds the circuit breaker (inngest.Outcome.Answered: a
// 2xx, or a refusal (a 3xx or 4xx other than 408, 425 and 429), counts as
// a success and closes it; anything else (no answer in time, unreachable,
// a 5xx, 408, 425 or 429) counts as a failure) and, when
// Inngest refuses a batch of more than one event, sends each event again
// alone, so that one bad event does not take the others down. It is safe
// for concurrent use.
type Sender struct {
	client  Client
	breaker *Breaker
	obs     Observer
}

// NewSender returns a sender through c that feeds b and reports to obs
// (none may be nil).
func NewSender(c Client, b *Breaker, obs Observer) *Sender {
	return &Sender{client: c, breaker: b, obs: obs}
}

// allow reports whether the circuit breaker lets a request go to Inngest now
// (Breaker.Allow). The Publisher (through its Batcher) and the Deliverer
// ask it here: the Sender holds the one handle on the breaker.
func (s *Sender) allow() bool { return s.breaker.Allow() }

// sendOpts is how a caller wants its events sent.
type sendOpts struct {
	// timeout bounds each request (the client's own bound applies too); 0:
	// only the client's bound.
	timeout time.Duration
	// parallel resends the events of a refused batch all at once (each
	// publish waits for its own answer); otherwise one after the other.
	parallel bool
}

// settleFunc is told the outcome of one request that decided the events
// evs[lo:hi] of a send: Inngest's ids for them (len hi-lo) or the request's
// error. After a split it is called once per event, concurrently when the
// send is parallel.
type settleFunc func(lo, hi int, ids []string, err error)

// send sends evs in one request and hands its outcome to done. If Inngest
// refuses the batch (inngest.Rejected) and it holds more than one event,
// done is not told about the batch: each event is sent again alone, and
// done is called once per event. send returns when done has been called
// for every event.
func (s *Sender) send(ctx context.Context, evs []json.RawMessage, o sendOpts, done settleFunc) {
	// The deadline is set here, not in request: each batch is sent on a new
	// goroutine, and context.WithTimeout one frame deeper made its small
	// stack grow and be copied for every batch (BenchmarkBatcherSubmit).
	rctx, cancel := bound(ctx, o.timeout)
	ids, err := s.request(rctx, evs)
	cancel()
	if len(evs) > 1 && inngest.Classify(err) == inngest.Rejected {
		s.split(ctx, evs, o, done)
		return
	}
	done(0, len(evs), ids, err)
}

// bound is ctx with timeout (none for 0).
func bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return ctx, func() {}
}

// split sends each of evs alone (Inngest refused them together) and hands
// each request's outcome to done.
func (s *Sender) split(ctx context.Context, evs []json.RawMessage, o sendOpts, done settleFunc) {
	alone := func(i int) {
		rctx, cancel := bound(ctx, o.timeout)
		ids, err := s.request(rctx, evs[i:i+1])
		cancel()
		done(i, i+1, ids, err)
	}
	if !o.parallel {
		for i := range evs {
			alone(i)
		}
		return
	}
	var wg sync.WaitGroup
	for i := range evs {
		wg.Go(func() { alone(i) })
	}
	wg.Wait()
}

// request makes one Event API request: timed, reported, fed to the breaker.
func (s *Sender) request(ctx context.Context, evs []json.RawMessage) ([]string, error) {
	start := time.Now()
	ids, err := s.client.Send(ctx, evs)
	s.obs.Sent(len(evs), time.Since(start), err)
	if inngest.Classify(err).Answered() {
		s.breaker.Success()
	} else {
		s.breaker.Failure()
	}
	return ids, err
}

// batchBytes is the byte accounting of one Event API request: the events
// and the commas between them (the array's brackets left out). An event
// joins a batch while that stays within max (max <= 0: no limit); the
// first event of a batch always joins, however large.
type batchBytes struct {
	max    int
	events int
	size   int
}

// fits reports whether an event of n bytes may join the batch.
func (b *batchBytes) fits(n int) bool {
	return b.events == 0 || b.max <= 0 || b.size+1+n <= b.max
}

// add counts an event of n bytes into the batch.
func (b *batchBytes) add(n int) {
	if b.events > 0 {
		b.size++ // the comma before it
	}
	b.events++
	b.size += n
}

// reset empties the batch.
func (b *batchBytes) reset() { b.events, b.size = 0, 0 }
