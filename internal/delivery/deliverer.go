package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/spool"
)

// DelivererConfig configures a Deliverer.
type DelivererConfig struct {
	// Batch is the most events sent in one request.
	Batch int
	// MaxBytes bounds one request's events in bytes, counted as
	// BatcherConfig.MaxBytes counts them: the encoded events plus the comma
	// between each two, not the array's brackets; the first event of a
	// request always joins, so a larger one goes alone. 0 or less: no limit.
	MaxBytes int
	// Poll is how often the spool is checked when nothing woke the deliverer
	// (other replicas' events, retries coming due).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the delay before a retry; it doubles per
	// attempt, with jitter.
	MinBackoff, MaxBackoff time.Duration
	// Lease is how long a claimed event is hidden from other deliverers; it
	// must exceed the send timeout.
	Lease time.Duration
}

// Deliverer drains the spool into Inngest. Events keep their id, so Inngest
// deduplicates a redelivery.
type Deliverer struct {
	cfg     DelivererConfig
	spool   spool.Spool
	send    *Sender
	metrics Metrics
	log     *slog.Logger
	wake    chan struct{}
	now     func() time.Time
	// claim is how many events the next Claim asks for: Batch, halved after
	// each failed claim down to 1 and doubled back after each success. A
	// claim rewrites its records (bbolt copies the pages it changes), so on
	// a nearly full disk a smaller claim still fits in the space kept free
	// for it where a full batch does not, and the spool drains.
	claim atomic.Int64
}

// NewDeliverer returns a deliverer that sends through s (and waits for its
// circuit breaker) and reports to m; call Run.
func NewDeliverer(cfg DelivererConfig, sp spool.Spool, s *Sender, m Metrics, log *slog.Logger) *Deliverer {
	d := &Deliverer{cfg: cfg, spool: sp, send: s, metrics: m, log: log, wake: make(chan struct{}, 1), now: time.Now}
	d.claim.Store(int64(max(cfg.Batch, 1)))
	return d
}

// Wake makes the deliverer look at the spool now.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (d *Deliverer) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			more, err := d.Once(ctx)
			if err != nil && ctx.Err() == nil {
				d.log.Error("spool delivery", "err", err.Error())
			}
			if !more {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-t.C:
		}
	}
}

// Once claims one batch of due events (fewer after failed claims, see
// Deliverer.claim) and tries to deliver it, unless the circuit breaker holds
// deliveries back. more reports that it should be called again at once (it
// delivered a full batch).
func (d *Deliverer) Once(ctx context.Context) (more bool, err error) {
	// While the circuit is open, deliveries wait for its probe slot: the
	// deliverer then probes for everyone (no hammering of a down Inngest).
	if !d.send.allow() {
		return false, nil
	}
	now := d.now()
	want := int(d.claim.Load())
	recs, err := d.spool.Claim(ctx, now, want, d.cfg.Lease)
	if err != nil {
		d.claim.Store(int64(max(want/2, 1)))
		return false, err
	}
	d.claim.Store(int64(min(want*2, max(d.cfg.Batch, 1))))
	if len(recs) == 0 {
		return false, nil
	}
	answered := true
	for _, chunk := range chunks(recs, d.cfg.MaxBytes) {
		if !answered {
			// Inngest failed on the previous chunk: the rest come due again
			// after their lease, without another attempt now.
			break
		}
		answered = d.deliver(ctx, chunk)
	}
	return answered && len(recs) == want, nil
}

// chunks splits recs into runs of at most maxBytes of events (0: no
// limit; see batchBytes).
func chunks(recs []spool.Record, maxBytes int) [][]spool.Record {
	var out [][]spool.Record
	start, size := 0, batchBytes{max: maxBytes}
	for i, r := range recs {
		if !size.fits(len(r.Event)) {
			out = append(out, recs[start:i])
			start = i
			size.reset()
		}
		size.add(len(r.Event))
	}
	return append(out, recs[start:])
}

// deliver sends recs through the sender (which resends each event alone if
// Inngest refuses the batch) and records each request's outcome; it reports
// whether Inngest answered the batch (a refused batch counts as answered,
// whatever then becomes of its events).
func (d *Deliverer) deliver(ctx context.Context, recs []spool.Record) bool {
	evs := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		evs[i] = r.Event
	}
	answered := true
	d.send.send(ctx, evs, sendOpts{}, func(lo, hi int, _ []string, err error) {
		ok := d.settle(ctx, recs[lo:hi], err)
		if hi-lo == len(recs) {
			answered = ok
		}
	})
	return answered
}

// settle records the outcome of the request that carried recs: acked,
// dead-lettered (refused alone) or put back for a retry with backoff. It
// reports whether Inngest answered and the spool took the outcome.
func (d *Deliverer) settle(ctx context.Context, recs []spool.Record, err error) bool {
	bg := context.WithoutCancel(ctx)
	o := inngest.Classify(err)
	if o.Retryable() {
		d.retry(bg, recs, err)
		return false
	}
	switch o {
	case inngest.OK:
		seqs := make([]uint64, len(recs))
		for i, r := range recs {
			seqs[i] = r.Seq
		}
		if aerr := d.spool.Ack(bg, seqs); aerr != nil {
			d.log.Error("spool ack (the events were delivered and will be sent again; Inngest deduplicates them by id)", "err", aerr.Error())
			return false
		}
		d.metrics.Delivered(len(recs))
		d.log.Info("spooled events delivered", "events", len(recs))
		return true
	default: // inngest.Rejected, for an event sent alone (the sender splits a refused batch)
		if berr := (deadLetters{d.spool, d.metrics, d.log}).bury(bg, recs, err, "a spooled event"); berr != nil {
			d.log.Error("spool bury", "err", berr.Error())
			return false
		}
		return true
	}
}

// retry puts recs back in the spool, due again after a backoff, with err
// as their last error.
func (d *Deliverer) retry(ctx context.Context, recs []spool.Record, err error) {
	now := d.now()
	for i := range recs {
		recs[i].Attempts++
		recs[i].NextAt = now.Add(d.backoff(recs[i].Attempts))
		recs[i].LastError = err.Error()
	}
	if rerr := d.spool.Retry(ctx, recs); rerr != nil {
		d.log.Error("spool retry", "err", rerr.Error())
	}
	d.log.Warn("spooled events not delivered; retrying later", "events", len(recs), "attempts", recs[0].Attempts, "err", err.Error())
}

// backoff is the delay before retry number attempts: MinBackoff doubled per
// attempt, capped at MaxBackoff, with "equal jitter" (half fixed, half random).
func (d *Deliverer) backoff(attempts int) time.Duration {
	b := d.cfg.MinBackoff
	for i := 1; i < attempts && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.cfg.MaxBackoff)
	half := b / 2
	return half + rand.N(half+1) //nolint:gosec // G404: jitter needs no cryptographic randomness
}
