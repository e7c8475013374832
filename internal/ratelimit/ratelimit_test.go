package ratelimit_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/ratelimit"
)

func TestAllow(t *testing.T) {
	l := ratelimit.New(nil)
	ctx := context.Background()
	rate := ratelimit.Rate{Requests: 3, Per: time.Hour}
	for i := range 3 {
		res := l.Allow(ctx, "user-a", rate)
		if res.Limited || res.Limit != 3 || res.Remaining != 2-i || res.Reset < 1 || res.Reset > 3600 {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", i+1, res, 2-i)
		}
	}
	res := l.Allow(ctx, "user-a", rate)
	if !res.Limited || res.Remaining != 0 || res.RetryAfter != 3600 {
		t.Fatalf("request 4: %+v, want limited, 0 remaining, Retry-After 3600", res)
	}
	h := http.Header{}
	res.SetHeaders(h)
	for name, want := range map[string]string{"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "Retry-After": "3600"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if h.Get("RateLimit-Reset") == "" {
		t.Error("RateLimit-Reset missing")
	}
	// Another identity has its own count.
	if res := l.Allow(ctx, "user-b", rate); res.Limited || res.Remaining != 2 {
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
