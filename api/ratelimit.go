package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/routeapi/routeapi/internal/ratelimit"
	"github.com/routeapi/routeapi/internal/settings"
)

// rateHeaders are the RateLimit-* headers of a success answer. Every
// operation's generated success headers have these three fields, so
// rateHeaders converts to each (gen.PostRoute200ResponseHeaders(rl)).
type rateHeaders struct {
	RateLimitLimit     *int
	RateLimitRemaining *int
	RateLimitReset     *int
}

// rateLimit applies set's route.rateLimit to the identity named key
// (identity.key): the RateLimit-* headers of the success answer, or a 429
// rate-limited problem carrying the limiter's headers (Retry-After,
// RateLimit-*). Without a rate limit in the settings it allows the request
// and sends no headers.
// It is called once per request, whatever the operation and however many
// events the request carries.
func (s *Server) rateLimit(ctx context.Context, set settings.Settings, key string) (rateHeaders, error) {
	lim := set.Route.RateLimit
	if lim == nil {
		return rateHeaders{}, nil
	}
	res := s.limiter.Allow(ctx, key, ratelimit.Rate{Requests: lim.Requests, Per: lim.Per})
	if res.Limited {
		h := http.Header{}
		res.SetHeaders(h)
		return rateHeaders{}, &problemError{kind: kindRateLimited, header: h,
			detail: fmt.Sprintf("This identity may make %d requests per %s. Retry later.", lim.Requests, lim.Per),
			err:    fmt.Errorf("rate limit %d per %s exceeded by %s", lim.Requests, lim.Per, key)}
	}
	return rateHeaders{RateLimitLimit: &res.Limit, RateLimitRemaining: &res.Remaining, RateLimitReset: &res.Reset}, nil
}
