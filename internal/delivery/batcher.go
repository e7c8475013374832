package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/routeapi/routeapi/internal/admission"
	"github.com/routeapi/routeapi/internal/events"
)

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("batcher closed")

// Sender sends encoded events in one Event API request (events.Client).
type Sender interface {
	Send(ctx context.Context, events []json.RawMessage) ([]string, error)
}

// Observer is told about every Event API request (the breaker and metrics).
type Observer interface {
	// Sent reports one request of n events that took d and ended in err.
	Sent(n int, d time.Duration, err error)
}

// BatcherConfig configures a Batcher.
type BatcherConfig struct {
	// Linger is the longest a publish waits for others to join its batch.
	Linger time.Duration
	// MaxEvents and MaxBytes bound one request.
	MaxEvents int
	MaxBytes  int
	// MaxInFlight bounds concurrent Event API requests.
	MaxInFlight int
	// Timeout bounds one Event API request (the sender's own bound applies too).
	Timeout time.Duration
}

type item struct {
	ev   json.RawMessage
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

// Batcher coalesces concurrent publishes into one Event API request. A batch
// goes out as soon as no request is in flight (so a lone publish waits for
// nothing), or when it is full, or when the linger is over. Each publish
// gets its own id back.
type Batcher struct {
	cfg      BatcherConfig
	send     Sender
	obs      Observer
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

// NewBatcher starts a batcher that sends through s and reports to obs (may be nil).
func NewBatcher(cfg BatcherConfig, s Sender, obs Observer) *Batcher {
	if cfg.MaxEvents < 1 {
		cfg.MaxEvents = 1
	}
	if cfg.MaxInFlight < 1 {
		cfg.MaxInFlight = 1
	}
	b := &Batcher{
		cfg: cfg, send: s, obs: obs,
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
// returns when the batch's request ends or ctx does (events.ErrTimeout).
// The admission lease in ctx, if any, is held until the batch's request
// ends, even when Submit returned before: until then the batch keeps ev.
func (b *Batcher) Submit(ctx context.Context, ev json.RawMessage) (string, error) {
	it := &item{ev: ev, done: make(chan result, 1), release: admission.FromContext(ctx).Hold()}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		it.release()
		return "", ErrClosed
	}
	select {
	case b.in <- it:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		it.release()
		return "", fmt.Errorf("batch: %w: %w", ctx.Err(), events.ErrTimeout)
	}
	select {
	case r := <-it.done:
		return r.id, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("batch: %w: %w", ctx.Err(), events.ErrTimeout)
	}
}

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
		batch := []*item{first}
		size := len(first.ev)
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
			if size+len(it.ev)+1 > b.cfg.MaxBytes {
				carry = it
				break
			}
			batch = append(batch, it)
			size += len(it.ev) + 1
		}
		linger.Stop()
		b.dispatch(batch)
	}
}

// flushRest sends whatever is still queued at Close.
func (b *Batcher) flushRest() {
	for {
		var batch []*item
		size := 0
	fill:
		for len(batch) < b.cfg.MaxEvents {
			select {
			case it := <-b.in:
				if len(batch) > 0 && size+len(it.ev)+1 > b.cfg.MaxBytes {
					b.dispatch(batch)
					batch, size = nil, 0
				}
				batch = append(batch, it)
				size += len(it.ev) + 1
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

func (b *Batcher) sendBatch(batch []*item) {
	evs := make([]json.RawMessage, len(batch))
	for i, it := range batch {
		evs[i] = it.ev
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.Timeout)
	defer cancel()
	start := time.Now()
	ids, err := b.send.Send(ctx, evs)
	if b.obs != nil {
		b.obs.Sent(len(evs), time.Since(start), err)
	}
	if err == nil {
		for i, it := range batch {
			it.finish(result{id: ids[i]})
		}
		return
	}
	if errors.Is(err, events.ErrRejected) && len(batch) > 1 {
		// One bad event must not take the others down: send each alone.
		var wg sync.WaitGroup
		for _, it := range batch {
			wg.Go(func() { b.sendBatch([]*item{it}) })
		}
		wg.Wait()
		return
	}
	for _, it := range batch {
		it.finish(result{err: err})
	}
}
