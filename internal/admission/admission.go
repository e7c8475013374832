// Package admission bounds the request bytes routeapi holds in memory at
// once. Every request with a body takes a lease on a shared budget, weighed
// by the body bytes it will buffer, before its body is read; a request that
// cannot get one within a short wait is refused (the caller answers 503
// overloaded with Retry-After) instead of adding to memory. The lease is
// returned when nothing holds the request's bytes any more: the handler is
// done and the batcher, which may still be sending the event built from the
// body after the handler gave up waiting for it, has let it go (Hold).
//
// The budget is a golang.org/x/sync/semaphore.Weighted: waiters are served
// first come, first served, so a large body at the head of the queue is not
// starved by small ones behind it.
package admission

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// ErrOverloaded means the budget had no room for the request within the wait.
var ErrOverloaded = errors.New("admission: the in-flight byte budget is used up")

// Budget is a budget of bytes shared by the requests in flight.
type Budget struct {
	sem     *semaphore.Weighted
	size    int64
	wait    time.Duration
	inUse   atomic.Int64
	refused atomic.Int64
}

// New returns a budget of size bytes (above 0). Acquire waits up to wait
// (0: not at all) for room before it gives up.
func New(size int64, wait time.Duration) (*Budget, error) {
	if size <= 0 {
		return nil, fmt.Errorf("admission: budget of %d bytes, want more than 0", size)
	}
	if wait < 0 {
		return nil, fmt.Errorf("admission: wait %s, want 0 or more", wait)
	}
	return &Budget{sem: semaphore.NewWeighted(size), size: size, wait: wait}, nil
}

// Size is the budget in bytes.
func (b *Budget) Size() int64 { return b.size }

// InUse is the number of bytes leased right now.
func (b *Budget) InUse() int64 { return b.inUse.Load() }

// Refused is the number of Acquire calls that ended in ErrOverloaded.
func (b *Budget) Refused() int64 { return b.refused.Load() }

// Acquire leases n bytes (n above the budget's size is taken as the whole
// budget, so any request can be admitted when it is alone). It waits for
// room up to the budget's wait or until ctx ends, and then returns an error
// wrapping ErrOverloaded (or ctx's error). The caller must Release the lease.
func (b *Budget) Acquire(ctx context.Context, n int64) (*Lease, error) {
	n = max(min(n, b.size), 0)
	if !b.sem.TryAcquire(n) {
		if b.wait <= 0 {
			b.refused.Add(1)
			return nil, fmt.Errorf("lease %d of %d bytes: %w", n, b.size, ErrOverloaded)
		}
		wctx, cancel := context.WithTimeout(ctx, b.wait)
		err := b.sem.Acquire(wctx, n)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("lease %d bytes: %w", n, ctx.Err())
			}
			b.refused.Add(1)
			return nil, fmt.Errorf("lease %d of %d bytes within %s: %w", n, b.size, b.wait, ErrOverloaded)
		}
	}
	b.inUse.Add(n)
	l := &Lease{b: b, n: n}
	l.refs.Store(1)
	l.release = sync.OnceFunc(l.drop)
	return l, nil
}

// Lease is n bytes of a budget, held until its last holder lets go.
type Lease struct {
	b       *Budget
	n       int64
	refs    atomic.Int64
	release func()
}

// Release lets go of the holder Acquire made. Later calls do nothing. A nil
// lease is fine.
func (l *Lease) Release() {
	if l != nil {
		l.release()
	}
}

// Hold adds a holder (something that keeps the request's bytes after the
// handler returns) and returns its release, which may be called more than
// once. The bytes go back to the budget when every holder let go. On a nil
// lease it returns a release that does nothing.
func (l *Lease) Hold() (release func()) {
	if l == nil {
		return func() {}
	}
	l.refs.Add(1)
	return sync.OnceFunc(l.drop)
}

func (l *Lease) drop() {
	if l.refs.Add(-1) == 0 {
		l.b.inUse.Add(-l.n)
		l.b.sem.Release(l.n)
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying l, for whatever keeps the request's bytes
// beyond the handler (the batcher) to Hold it.
func NewContext(ctx context.Context, l *Lease) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext is the lease in ctx, nil when there is none.
func FromContext(ctx context.Context) *Lease {
	l, _ := ctx.Value(ctxKey{}).(*Lease)
	return l
}
