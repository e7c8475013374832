package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/routeapi/routeapi/internal/admission"
	"github.com/routeapi/routeapi/internal/inngest"
)

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("batcher closed")

// BatcherConfig configures a Batcher.
type BatcherConfig struct {
	// Linger is the longest a publish waits for others to join its batch.
	Linger time.Duration
	// MaxEvents bounds the events of one request coalesced from separate
	// Submits. A SubmitAll group is one request whatever its size.
	MaxEvents int
	// MaxBytes bounds one request's events in bytes: the encoded events plus
	// the comma between each two, the array's brackets not counted (the
	// body is at most MaxBytes+2 bytes). An event joins a batch only while
	// that stays within MaxBytes; the first event of a batch always joins,
	// so a larger one goes alone, and a SubmitAll group goes whole, alone,
	// whatever its bytes. 0 or less: no limit.
	MaxBytes int
	// MaxInFlight bounds concurrent Event API requests.
	MaxInFlight int
	// Timeout bounds one Event API request (the client's own bound applies too).
	Timeout time.Duration
}

type item struct {
	ev json.RawMessage
	// grp, when not nil, is a group of events (SubmitAll) that go to Inngest
	// in one request of their own; ev is then nil.
	grp  *group
	done chan result
	// release lets go of the request's admission lease (internal/admission):
	// the item keeps the event's bytes until its batch's request has ended,
	// which may be after the publish that submitted it gave up waiting.
	release func()
}

// finish lets go of the event (its request has ended) and hands r to the
// publish waiting for it, in that order: a publish that has its answer no
// longer counts against the budget through the batcher.
func (it *item) finish(r result) {
	it.release()
	it.done <- r
}

type result struct {
	id  string
	err error
}

// group is the events of one SubmitAll and the outcome of each, filled in
// by the request that decided it before the item's done is sent.
type group struct {
	evs []json.RawMessage
	res []result
}

// Batcher coalesces concurrent publishes into one Event API request. A batch
// goes out as soon as no request is in flight (so a lone publish waits for
// nothing), or when it is full, or when the linger is over. Each publish
// gets its own id back. A group of events (SubmitAll) goes out at once, as a
// request of its own; it takes a MaxInFlight slot like any batch.
type Batcher struct {
	cfg      BatcherConfig
	send     *Sender
	in       chan *item
	stop     chan struct{}
	stopped  chan struct{}
	sem      chan struct{}
	inflight atomic.Int32
	idle     chan struct{}
	sends    sync.WaitGroup
	closing  sync.Once
	mu       sync.RWMutex
	closed   bool
}

// NewBatcher starts a batcher that sends through s.
func NewBatcher(cfg BatcherConfig, s *Sender) *Batcher {
	if cfg.MaxEvents < 1 {
		cfg.MaxEvents = 1
	}
	if cfg.MaxInFlight < 1 {
		cfg.MaxInFlight = 1
	}
	b := &Batcher{
		cfg: cfg, send: s,
		in:      make(chan *item, 4*cfg.MaxEvents),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		sem:     make(chan struct{}, cfg.MaxInFlight),
		idle:    make(chan struct{}, 1),
	}
	go b.loop()
	return b
}

// Submit publishes one encoded event and returns Inngest's id for it. It
// returns when the batch's request ends or ctx does (inngest.ErrTimeout).
// The admission lease in ctx, if any, is held until the batch's request
// ends, even when Submit returned before: until then the batch keeps ev.
func (b *Batcher) Submit(ctx context.Context, ev json.RawMessage) (string, error) {
	it := &item{ev: ev, done: make(chan result, 1), release: admission.FromContext(ctx).Hold()}
	r := b.submit(ctx, it)
	return r.id, r.err
}

// SubmitAll publishes evs (at least one) in one Event API request of their
// own, whatever BatcherConfig.MaxEvents and MaxBytes say (those bound how
// many separate publishes are coalesced; the group is one unit its caller
// built), under the same MaxInFlight bound, the same per-request Timeout and
// the same Sender (breaker, metrics, the split of a refused request) as
// Submit. It returns Inngest's id for each event in order, or, when they
// were not all accepted, each event's own error (nil for those accepted):
// after a split, events have outcomes of their own. When ctx ends first, or
// after Close, err is set (inngest.ErrTimeout, ErrClosed) and the outcome
// of each event is unknown. The admission lease in ctx is held as Submit
// holds it.
func (b *Batcher) SubmitAll(ctx context.Context, evs []json.RawMessage) (ids []string, errs []error, err error) {
	if len(evs) == 0 {
		return nil, nil, errors.New("batch: no events")
	}
	// The group keeps its own copy of the slice (not of the events): a
	// caller's slice does not escape (Publisher.publish passes Publish's
	// one event through the same code).
	g := &group{evs: slices.Clone(evs), res: make([]result, len(evs))}
	it := &item{grp: g, done: make(chan result, 1), release: admission.FromContext(ctx).Hold()}
	if r := b.submit(ctx, it); r.err != nil {
		return nil, nil, r.err
	}
	ids = make([]string, len(evs))
	for i, r := range g.res {
		ids[i] = r.id
		if r.err != nil {
			if errs == nil {
				errs = make([]error, len(evs))
			}
			errs[i] = r.err
		}
	}
	return ids, errs, nil
}

// submit queues it and waits for its outcome or the end of ctx.
func (b *Batcher) submit(ctx context.Context, it *item) result {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		it.release()
		return result{err: ErrClosed}
	}
	select {
	case b.in <- it:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		it.release()
		return result{err: fmt.Errorf("batch: %w: %w", ctx.Err(), inngest.ErrTimeout)}
	}
	select {
	case r := <-it.done:
		return r
	case <-ctx.Done():
		return result{err: fmt.Errorf("batch: %w: %w", ctx.Err(), inngest.ErrTimeout)}
	}
}

// allow reports whether the circuit breaker of the batcher's Sender lets a
// publish go to Inngest now (Sender.allow).
func (b *Batcher) allow() bool { return b.send.allow() }

// Close sends what is queued, waits for the requests in flight and stops.
// Submit fails with ErrClosed afterwards.
func (b *Batcher) Close() {
	b.closing.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.stop)
		<-b.stopped
		b.sends.Wait()
	})
}

func (b *Batcher) loop() {
	defer close(b.stopped)
	var carry *item
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-b.in:
			case <-b.stop:
				b.flushRest()
				return
			}
		}
		if first.grp != nil {
			b.dispatch([]*item{first}) // a group is a request of its own
			continue
		}
		batch := []*item{first}
		size := batchBytes{max: b.cfg.MaxBytes}
		size.add(len(first.ev))
		linger := time.NewTimer(b.cfg.Linger)
	collect:
		for len(batch) < b.cfg.MaxEvents {
			var it *item
			select {
			case it = <-b.in:
			default:
				if b.inflight.Load() == 0 {
					break collect // nothing to wait for: send now
				}
				select {
				case it = <-b.in:
				case <-linger.C:
					break collect
				case <-b.idle:
					break collect
				case <-b.stop:
					break collect
				}
			}
			if it.grp != nil || !size.fits(len(it.ev)) {
				carry = it
				break
			}
			batch = append(batch, it)
			size.add(len(it.ev))
		}
		linger.Stop()
		b.dispatch(batch)
	}
}

// flushRest sends whatever is still queued at Close.
func (b *Batcher) flushRest() {
	for {
		var batch []*item
		size := batchBytes{max: b.cfg.MaxBytes}
	fill:
		for len(batch) < b.cfg.MaxEvents {
			select {
			case it := <-b.in:
				if it.grp != nil {
					b.dispatch([]*item{it})
					continue
				}
				if !size.fits(len(it.ev)) {
					b.dispatch(batch)
					batch = nil
					size.reset()
				}
				batch = append(batch, it)
				size.add(len(it.ev))
			default:
				break fill
			}
		}
		if len(batch) == 0 {
			return
		}
		b.dispatch(batch)
	}
}

func (b *Batcher) dispatch(batch []*item) {
	b.sem <- struct{}{}
	b.inflight.Add(1)
	b.sends.Add(1)
	go func() {
		defer b.sends.Done()
		b.sendBatch(batch)
		<-b.sem
		if b.inflight.Add(-1) == 0 {
			select {
			case b.idle <- struct{}{}:
			default:
			}
		}
	}()
}

// sendBatch sends batch through the sender and answers each publish with
// the outcome of the request that decided its event (the batch's, or its
// own after the sender split a refused batch).
func (b *Batcher) sendBatch(batch []*item) {
	if g := batch[0].grp; g != nil {
		b.send.send(context.Background(), g.evs, sendOpts{timeout: b.cfg.Timeout, parallel: true}, func(lo, hi int, ids []string, err error) {
			for i := lo; i < hi; i++ {
				g.res[i] = result{err: err}
				if err == nil {
					g.res[i].id = ids[i-lo]
				}
			}
		})
		batch[0].finish(result{})
		return
	}
	evs := make([]json.RawMessage, len(batch))
	for i, it := range batch {
		evs[i] = it.ev
	}
	b.send.send(context.Background(), evs, sendOpts{timeout: b.cfg.Timeout, parallel: true}, func(lo, hi int, ids []string, err error) {
		for i, it := range batch[lo:hi] {
			r := result{err: err}
			if err == nil {
				r.id = ids[i]
			}
			it.finish(r)
		}
	})
}
