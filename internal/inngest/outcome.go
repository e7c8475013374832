package inngest

import (
	"context"
	"errors"
	"net/http"
)

// This file holds every rule about how an Event API request ends and what
// routeapi does about it: the Client's errors (statusError, transportError),
// their classification (Classify) and what each outcome means (Retryable,
// Answered, String). internal/delivery acts on an Outcome (retry, breaker,
// dead letters), internal/metrics labels requests with its String, and
// api/problem.go maps the errors below to problems by their Outcome.

// Errors a send can end in. Each means Inngest has not (yet) accepted the
// events.
var (
	// ErrUnavailable: Inngest is unreachable or answered 5xx, 408, 425 or 429.
	ErrUnavailable = errors.New("inngest unavailable")
	// ErrTimeout: Inngest did not answer in time. It may still accept the
	// events later; a redelivery with the same ids is deduplicated.
	ErrTimeout = errors.New("inngest did not answer in time")
	// ErrRejected: Inngest refused the events (a 3xx or 4xx but 408, 425 and 429).
	ErrRejected = errors.New("inngest rejected the event")
)

// statusError is the error an Event API answer's status means: nil for a
// 2xx; ErrUnavailable for a 5xx and for the 4xx answers that mean "not now"
// rather than "never" (408 request timeout, 425 too early, 429 rate
// limited), which are retried like a 5xx; ErrRejected for any other 3xx or
// 4xx (Inngest will never take these events as they are).
func statusError(status int) error {
	switch {
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return ErrUnavailable
	case status >= 300:
		return ErrRejected
	}
	return nil
}

// transportError is the error a request that got no (whole) answer ends
// in: ErrTimeout when ctx (the request's deadline or the caller's context)
// ended, ErrUnavailable otherwise (connection refused, reset, DNS, ...).
func transportError(ctx context.Context) error {
	if ctx.Err() != nil {
		return ErrTimeout
	}
	return ErrUnavailable
}

// Outcome is how one Event API request (or a send that gave up waiting for
// one) ended, as routeapi acts on it.
type Outcome int

// The outcomes, from Classify.
const (
	// OK: Inngest accepted the events (2xx).
	OK Outcome = iota
	// Rejected: Inngest refused them (ErrRejected). They are not retried:
	// an event refused alone goes to the dead letters.
	Rejected
	// Unavailable: Inngest is unreachable, failing or asks to come back
	// later (ErrUnavailable, and any error that is none of Inngest's):
	// retried later; it trips the circuit breaker.
	Unavailable
	// Timeout: no answer in time (ErrTimeout): retried later (Inngest
	// deduplicates a redelivery by id); it trips the circuit breaker.
	Timeout
)

// Classify returns err's outcome: OK for nil, Rejected, Timeout or
// Unavailable for an error wrapping ErrRejected, ErrTimeout or anything
// else (ErrUnavailable, or an error that is none of Inngest's), checked in
// that order. It is the one place an error becomes an outcome.
func Classify(err error) Outcome {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, ErrRejected):
		return Rejected
	case errors.Is(err, ErrTimeout):
		return Timeout
	}
	return Unavailable
}

// String is the outcome's label: "ok", "rejected", "unavailable" or
// "timeout". It is the outcome label of routeapi_publish_duration_seconds
// and, for a retryable outcome, the reason of routeapi_spooled_events_total.
func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Rejected:
		return "rejected"
	case Timeout:
		return "timeout"
	}
	return "unavailable"
}

// Retryable reports whether the events should be sent again later
// (spooled, retried with backoff): Unavailable and Timeout.
func (o Outcome) Retryable() bool { return o == Unavailable || o == Timeout }

// Answered reports whether Inngest answered with a decision on the events
// (OK or Rejected). The circuit breaker counts it as a success: a 4xx means
// Inngest is up and has judged the events, not that it is down.
func (o Outcome) Answered() bool { return o == OK || o == Rejected }
