// Package ratelimit limits requests per identity (a user id or an API token
// id) with go-chi/httprate's sliding-window counter. The limit comes from the
// settings and may change at any reload; a changed limit takes effect at the
// next request (the counts start again under the new limit).
package ratelimit

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/httprate"
)

// Rate allows Requests in each window of length Per.
type Rate struct {
	Requests int
	Per      time.Duration
}

// Result is the outcome of one check, for the RateLimit-* and Retry-After headers.
type Result struct {
	// Limited is true when the request is over the limit and must be refused.
	Limited bool
	// Limit is the number of requests allowed per window.
	Limit int
	// Remaining is how many more requests the window allows (0 when limited).
	Remaining int
	// Reset is the number of seconds until the current window ends (at least 1).
	Reset int
	// RetryAfter is the number of seconds to wait when Limited (the window length, as httprate advises).
	RetryAfter int
}

// Header names httprate is told to use; the values are read back from them.
const (
	hLimit      = "RateLimit-Limit"
	hRemaining  = "RateLimit-Remaining"
	hReset      = "RateLimit-Reset"
	hRetryAfter = "Retry-After"
)

// Limiter checks requests per key. The zero value is not usable; call New.
// It is safe for concurrent use.
type Limiter struct {
	now  func() time.Time
	mu   sync.Mutex
	rate Rate
	rl   *httprate.RateLimiter
}

// New returns a Limiter. now may be nil (time.Now); it is only used to turn
// httprate's reset instant into seconds.
func New(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now}
}

// limiter returns the httprate limiter for rate, replacing the current one when the rate changed.
func (l *Limiter) limiter(rate Rate) *httprate.RateLimiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rl == nil || l.rate != rate {
		l.rate = rate
		l.rl = httprate.NewRateLimiter(rate.Requests, rate.Per, httprate.WithResponseHeaders(httprate.ResponseHeaders{
			Limit: hLimit, Remaining: hRemaining, Reset: hReset, RetryAfter: hRetryAfter,
		}))
	}
	return l.rl
}

// Allow counts one request for key under rate and reports whether it is over the limit.
func (l *Limiter) Allow(ctx context.Context, key string, rate Rate) Result {
	rl := l.limiter(rate)
	rec := headerRecorder{h: http.Header{}}
	req := (&http.Request{}).WithContext(ctx)
	limited := rl.OnLimit(&rec, req, key)
	res := Result{Limited: limited, Limit: atoi(rec.h.Get(hLimit)), Remaining: max(0, atoi(rec.h.Get(hRemaining)))}
	if limited {
		res.Remaining = 0
		res.RetryAfter = max(1, atoi(rec.h.Get(hRetryAfter)))
	}
	// httprate gives the window's end as a Unix time; RateLimit-Reset is seconds from now.
	if end, err := strconv.ParseInt(rec.h.Get(hReset), 10, 64); err == nil {
		res.Reset = int(max(1, end-l.now().Unix()))
	} else {
		res.Reset = max(1, int(rate.Per/time.Second))
	}
	if res.Limit == 0 {
		res.Limit = rate.Requests
	}
	return res
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

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// headerRecorder is the ResponseWriter httprate writes its headers to; the
// body and status are never used (OnLimit does not respond).
type headerRecorder struct{ h http.Header }

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *headerRecorder) WriteHeader(int)             {}
