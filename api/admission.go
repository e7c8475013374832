package api

import (
	"fmt"
	"net/http"

	"github.com/routeapi/routeapi/internal/admission"
)

// admit leases the bytes a request's body will take from the in-flight
// budget before anything reads the body (internal/admission). The weight is
// the declared Content-Length, or the body limit when the length is not
// declared (chunked) or the body has a content coding (what it decodes to
// is bounded by the limit, not by its length on the wire); a declared
// length over the limit takes nothing, since limitBody refuses it with 413
// without reading. A request that finds no room within the budget's wait
// is refused with 503 overloaded and Retry-After, its body unread
// (refuseUnread lets the answer reach the client). The lease travels in the
// context: the batcher holds it while it still has the event after the
// handler has answered (a publish that timed out and was spooled), and it
// goes back to the budget when both are done.
// With no budget (nil) every request is admitted.
func admit(budget *admission.Budget, limitOf func(*http.Request) int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if budget == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			weight := r.ContentLength
			limit := limitOf(r)
			switch {
			case weight == 0 || weight > limit:
				next.ServeHTTP(w, r)
				return
			case weight < 0 || contentCodingOf(r) != "":
				weight = limit
			}
			lease, err := budget.Acquire(r.Context(), weight)
			if err != nil {
				// ErrOverloaded, or the request's context ended while it
				// waited (the server is shutting down): 503 either way.
				refuseUnread(w, r, &problemError{kind: kindOverloaded, err: err,
					detail: fmt.Sprintf("The server is holding as many request bytes as it may (%d); this request was not read. Retry later.", budget.Size())})
				return
			}
			defer lease.Release()
			next.ServeHTTP(w, r.WithContext(admission.NewContext(r.Context(), lease)))
		})
	}
}
