package delivery

import (
	"sync"
	"time"
)

// State is a circuit breaker's state.
type State int

// The breaker's states.
const (
	// Closed: Inngest answers; publishes go to it.
	Closed State = iota
	// Open: Inngest is down; publishes go straight to the spool.
	Open
	// HalfOpen: one probe is allowed through to see whether Inngest is back.
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "closed"
}

// Breaker opens after Threshold consecutive failures (Inngest unreachable,
// 5xx, 408, 425, 429 or too slow), lets one probe through every Cooldown while open, and
// closes on the first success. It is safe for concurrent use.
type Breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	onChange  func(State)

	mu       sync.Mutex
	state    State
	failures int
	openedAt time.Time
}

// NewBreaker returns a closed breaker. onChange (may be nil) is called with
// each new state, under the breaker's lock: keep it quick.
func NewBreaker(threshold int, cooldown time.Duration, onChange func(State)) *Breaker {
	if threshold < 1 {
		threshold = 1
	}
	if onChange == nil {
		onChange = func(State) {}
	}
	b := &Breaker{threshold: threshold, cooldown: cooldown, now: time.Now, onChange: onChange}
	onChange(Closed)
	return b
}

func (b *Breaker) set(s State) {
	if b.state != s {
		b.state = s
		b.onChange(s)
	}
}

// Allow reports whether a publish may go to Inngest now. While open it lets
// one probe through per cooldown (the breaker is then half-open until the
// probe's result is reported).
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case Closed:
		return true
	case Open:
		if b.now().Sub(b.openedAt) >= b.cooldown {
			b.set(HalfOpen)
			b.openedAt = b.now()
			return true
		}
		return false
	default: // HalfOpen: a probe is out; if it never reports, allow another after a cooldown
		if b.now().Sub(b.openedAt) >= b.cooldown {
			b.openedAt = b.now()
			return true
		}
		return false
	}
}

// Success records that Inngest answered with a decision (a 2xx, or a
// refusal: inngest.Outcome.Answered): the breaker closes.
func (b *Breaker) Success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = 0
	b.set(Closed)
}

// Failure records that Inngest was unreachable, answered 5xx (or 408, 425,
// 429: "not now") or too late.
func (b *Breaker) Failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.state == HalfOpen || (b.state == Closed && b.failures >= b.threshold) {
		b.openedAt = b.now()
		b.set(Open)
	}
}

// State returns the current state.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}
