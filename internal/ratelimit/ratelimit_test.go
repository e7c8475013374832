package ratelimit_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/ratelimit"
	"github.com/routeapi/routeapi/internal/testkit/fakeclock"
)

// newClock is the one clock a test gives the limiter; the date is arbitrary.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)) }

func TestAllow(t *testing.T) {
	c := newClock()
	l := ratelimit.New(c.Now)
	ctx := context.Background()
	r := ratelimit.Rate{Requests: 3, Per: time.Hour}
	for i := range 3 {
		res := l.Allow(ctx, "user-a", r)
		// Reset: until the bucket is full again, 20 min per used request.
		if res.Limited || res.Limit != 3 || res.Remaining != 2-i || res.Reset != (i+1)*1200 {
			t.Fatalf("request %d: %+v, want allowed with %d remaining, reset %d", i+1, res, 2-i, (i+1)*1200)
		}
	}
	res := l.Allow(ctx, "user-a", r)
	if !res.Limited || res.Remaining != 0 || res.RetryAfter != 1200 || res.Reset != res.RetryAfter {
		t.Fatalf("request 4: %+v, want limited, 0 remaining, Retry-After = Reset = 1200", res)
	}
	h := http.Header{}
	res.SetHeaders(h)
	for name, want := range map[string]string{"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "RateLimit-Reset": "1200", "Retry-After": "1200"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// Another identity has its own bucket.
	if res := l.Allow(ctx, "user-b", r); res.Limited || res.Remaining != 2 {
		t.Errorf("user-b: %+v, want allowed with 2 remaining", res)
	}
	// A raised limit (a settings reload) takes effect at once.
	if res := l.Allow(ctx, "user-a", ratelimit.Rate{Requests: 10, Per: time.Hour}); res.Limited || res.Limit != 10 {
		t.Errorf("after raising the limit: %+v, want allowed under limit 10", res)
	}
	// A lowered one too.
	one := ratelimit.Rate{Requests: 1, Per: time.Hour}
	if res := l.Allow(ctx, "user-c", one); res.Limited {
		t.Errorf("limit 1, first request: %+v", res)
	}
	if res := l.Allow(ctx, "user-c", one); !res.Limited {
		t.Errorf("limit 1, second request: %+v, want limited", res)
	}
	h = http.Header{}
	l.Allow(ctx, "user-d", one).SetHeaders(h)
	if h.Get("Retry-After") != "" {
		t.Error("Retry-After on an allowed request")
	}
}

// TestAdvertisedResetIsTrue: a client that waits exactly what a 429 advertises
// gets a request through, and one that waits a second less does not; a client
// that waits an allowed answer's RateLimit-Reset has the whole limit back.
func TestAdvertisedResetIsTrue(t *testing.T) {
	ctx := context.Background()
	for _, r := range []ratelimit.Rate{
		{Requests: 1, Per: time.Second},
		{Requests: 3, Per: time.Minute},
		{Requests: 5, Per: 10 * time.Second},
		{Requests: 7, Per: time.Minute},
		{Requests: 100, Per: time.Hour},
	} {
		t.Run(strconv.Itoa(r.Requests)+"/"+r.Per.String(), func(t *testing.T) {
			c := newClock()
			l := ratelimit.New(c.Now)
			var last ratelimit.Result
			for range r.Requests {
				last = l.Allow(ctx, "k", r)
			}
			if last.Limited || last.Remaining != 0 {
				t.Fatalf("the %dth request: %+v", r.Requests, last)
			}
			limited := l.Allow(ctx, "k", r)
			if !limited.Limited || limited.Reset != limited.RetryAfter {
				t.Fatalf("over the limit: %+v, want limited with Reset = Retry-After", limited)
			}
			if limited.RetryAfter > 1 {
				c.Advance(time.Duration(limited.RetryAfter-1) * time.Second)
				if res := l.Allow(ctx, "k", r); !res.Limited {
					t.Fatalf("a second before Retry-After %d: allowed (the advertised wait is too long)", limited.RetryAfter)
				}
				c.Advance(time.Second)
			} else {
				c.Advance(time.Duration(limited.RetryAfter) * time.Second)
			}
			res := l.Allow(ctx, "k", r)
			if res.Limited {
				t.Fatalf("after waiting Retry-After %d s: still limited %+v", limited.RetryAfter, res)
			}
			// Waiting the allowed answer's Reset restores the whole limit.
			c.Advance(time.Duration(res.Reset) * time.Second)
			for i := range r.Requests {
				if res := l.Allow(ctx, "k", r); res.Limited {
					t.Fatalf("after waiting RateLimit-Reset: request %d of %d limited", i+1, r.Requests)
				}
			}
		})
	}
}

// TestIdleBucketsAreDropped: memory follows the active identities, not every identity ever seen.
func TestIdleBucketsAreDropped(t *testing.T) {
	c := newClock()
	l := ratelimit.New(c.Now)
	r := ratelimit.Rate{Requests: 2, Per: time.Second}
	for i := range 5000 {
		l.Allow(context.Background(), "id-"+strconv.Itoa(i), r)
		c.Advance(10 * time.Millisecond)
	}
	if n := l.Len(); n > 1100 {
		t.Errorf("%d buckets held after 5000 identities, each idle after 1 s: want at most about one sweep's worth", n)
	}
}
