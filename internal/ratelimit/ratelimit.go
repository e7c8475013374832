// Package ratelimit limits requests per identity (a user id or an API token
// id) with one token bucket per identity (golang.org/x/time/rate). The limit
// comes from the settings and may change at any reload; a changed limit takes
// effect at the next request (every bucket starts full under the new limit).
//
// Every instant comes from the one clock given to New: the buckets are fed
// that clock's time explicitly (rate.Limiter's AllowN and TokensAt), so the
// numbers a caller is told and the decisions taken agree, in tests and in
// production alike.
package ratelimit

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate allows Requests in each window of length Per: a bucket of Requests
// tokens, refilled at Requests/Per tokens per second. A burst of Requests is
// allowed at once; after that one request each Per/Requests.
type Rate struct {
	Requests int
	Per      time.Duration
}

// Result is the outcome of one check, for the RateLimit-* and Retry-After
// headers (draft-ietf-httpapi-ratelimit-headers). Every advertised instant is
// true: a client that waits Reset seconds has the advertised quota back.
type Result struct {
	// Limited is true when the request is over the limit and must be refused.
	Limited bool
	// Limit is the number of requests allowed per window (the bucket's size).
	Limit int
	// Remaining is how many more requests are allowed right now (0 when limited).
	Remaining int
	// Reset is seconds (at least 1) until quota returns: when Limited, until
	// the next request is allowed (equal to RetryAfter, as the draft asks when
	// both fields are sent); else until the full Limit is available again.
	Reset int
	// RetryAfter is seconds (at least 1) until the next request is allowed; set only when Limited.
	RetryAfter int
}

// Header names, per draft-ietf-httpapi-ratelimit-headers and RFC 9110 §10.2.3.
const (
	hLimit      = "RateLimit-Limit"
	hRemaining  = "RateLimit-Remaining"
	hReset      = "RateLimit-Reset"
	hRetryAfter = "Retry-After"
)

// sweepEvery is how many checks pass between sweeps of the idle buckets.
const sweepEvery = 1024

// Limiter checks requests per key. The zero value is not usable; call New.
// It is safe for concurrent use. Memory is bounded by the identities active
// within one window: a bucket that has refilled completely is the same as a
// new one and is dropped at the next sweep.
type Limiter struct {
	now func() time.Time

	mu      sync.Mutex
	rate    Rate
	buckets map[string]*rate.Limiter
	checks  int
}

// New returns a Limiter that takes every instant from now (nil means time.Now).
func New(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, buckets: map[string]*rate.Limiter{}}
}

// Allow counts one request for key under r and reports whether it is over
// the limit. A Rate with no requests or no window limits nothing.
func (l *Limiter) Allow(_ context.Context, key string, r Rate) Result {
	if r.Requests <= 0 || r.Per <= 0 {
		return Result{Limit: max(r.Requests, 0), Reset: 1}
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate != r {
		l.rate = r
		clear(l.buckets)
	}
	perSecond := float64(r.Requests) / r.Per.Seconds()
	b := l.buckets[key]
	if b == nil {
		b = rate.NewLimiter(rate.Limit(perSecond), r.Requests)
		l.buckets[key] = b
	}
	l.checks++
	if l.checks%sweepEvery == 0 {
		l.sweep(now, r)
	}
	res := Result{Limit: r.Requests}
	if b.AllowN(now, 1) {
		tokens := b.TokensAt(now)
		res.Remaining = max(0, int(math.Floor(tokens)))
		res.Reset = ceilSeconds((float64(r.Requests) - tokens) / perSecond)
		return res
	}
	tokens := b.TokensAt(now)
	res.Limited = true
	res.RetryAfter = ceilSeconds((1 - tokens) / perSecond)
	res.Reset = res.RetryAfter
	return res
}

// sweep drops the buckets that are full at now (they hold no state a new bucket would not).
func (l *Limiter) sweep(now time.Time, r Rate) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(r.Requests) {
			delete(l.buckets, k)
		}
	}
}

// ceilSeconds rounds a wait in seconds up to whole seconds, at least 1, so a
// client that waits the advertised time is never early.
func ceilSeconds(s float64) int {
	if s <= 1 || math.IsNaN(s) {
		return 1
	}
	if s >= math.MaxInt32 {
		return math.MaxInt32
	}
	return int(math.Ceil(s))
}

// SetHeaders writes res as RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset (IETF draft-ietf-httpapi-ratelimit-headers), plus Retry-After when limited.
func (res Result) SetHeaders(h http.Header) {
	h.Set(hLimit, strconv.Itoa(res.Limit))
	h.Set(hRemaining, strconv.Itoa(res.Remaining))
	h.Set(hReset, strconv.Itoa(res.Reset))
	if res.Limited {
		h.Set(hRetryAfter, strconv.Itoa(res.RetryAfter))
	}
}

// Len is the number of buckets held (identities seen since their bucket was last full).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
