package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/diskspace"
	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/user"
)

// problemTypePrefix prefixes every problem type; the kinds are listed in
// openapi.yaml's Problem schema.
const problemTypePrefix = "urn:routeapi:problem:"

// kind is one kind of problem: its status, title and Retry-After.
type kind struct {
	slug       string
	title      string
	status     int
	retryAfter int // seconds; 0 for none
}

// The problem vocabulary. Every error response comes from one of these.
var (
	kindInvalid         = kind{"invalid-request", "Invalid request", http.StatusBadRequest, 0}
	kindUnauthenticated = kind{"unauthenticated", "Unauthenticated", http.StatusUnauthorized, 0}
	kindCrossOrigin     = kind{"cross-origin", "Cross-origin request refused", http.StatusForbidden, 0}
	// kindEventDisabled: the settings switch off an event name of the batch (events.disabled).
	kindEventDisabled    = kind{"event-disabled", "Event disabled", http.StatusForbidden, 0}
	kindNotFound         = kind{"not-found", "Not found", http.StatusNotFound, 0}
	kindMethodNotAllowed = kind{"method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed, 0}
	// kindRequestTimeout: the body did not arrive within the read timeout (RFC 9110 §15.5.9; retryable).
	kindRequestTimeout   = kind{"request-timeout", "Request timeout", http.StatusRequestTimeout, 0}
	kindTooLarge         = kind{"payload-too-large", "Payload too large", http.StatusRequestEntityTooLarge, 0}
	kindHeaderTooLarge   = kind{"request-header-fields-too-large", "Request header fields too large", http.StatusRequestHeaderFieldsTooLarge, 0}
	kindUnsupportedMedia = kind{"unsupported-media-type", "Unsupported media type", http.StatusUnsupportedMediaType, 0}
	kindInternal         = kind{"internal", "Internal server error", http.StatusInternalServerError, 0}
	kindNoSettings       = kind{"settings-unavailable", "Settings unavailable", http.StatusServiceUnavailable, 5}
	kindRouteDisabled    = kind{"route-disabled", "Route disabled", http.StatusServiceUnavailable, 30}
	kindPublishFailed    = kind{"publish-failed", "Event not published", http.StatusServiceUnavailable, 5}
	// kindRateLimited takes its Retry-After and RateLimit-* headers from the limiter.
	kindRateLimited      = kind{"rate-limited", "Too many requests", http.StatusTooManyRequests, 0}
	kindSessionStoreOut  = kind{"session-store-unavailable", "Session store unavailable", http.StatusServiceUnavailable, 5}
	kindSpoolFull        = kind{"spool-full", "Event queue full", http.StatusServiceUnavailable, 5}
	kindSpoolUnavailable = kind{"spool-unavailable", "Event queue unavailable", http.StatusServiceUnavailable, 5}
	// kindOverloaded: the in-flight byte budget had no room (internal/admission); nothing was read.
	kindOverloaded = kind{"overloaded", "Overloaded", http.StatusServiceUnavailable, 1}
)

// Details said in more than one place.
const (
	// detailNoCredential answers a request without a credential: the
	// validator's security check and session.ErrNoCredential.
	detailNoCredential = "No session was sent. Send the session cookie, or an Authorization: Bearer session token or API token."
	// detailBodyUnreadable answers a body that could not be read to its end.
	detailBodyUnreadable = "The request body could not be read."
	// detailNotJSON answers a body that is not JSON.
	detailNotJSON = "The request body is not valid JSON."
	// detailInternal is all a caller learns of an internal error.
	detailInternal = "An unexpected error occurred."
)

// problemError is an error that knows the problem it answers with. detail
// and fields are shown to the caller; err is only logged.
type problemError struct {
	kind   kind
	detail string
	fields []gen.FieldError
	err    error
	// header holds extra response headers (the rate limit's).
	header http.Header
	// probe marks an answer of the readiness probe: logged at INFO whatever
	// its status, because probes repeat every few seconds and the condition
	// itself is logged once where it arises (the settings store's load
	// error, readiness's spool-outage and low-disk lines).
	probe bool
}

func (e *problemError) Error() string {
	if e.err != nil {
		return e.kind.slug + ": " + e.err.Error()
	}
	return e.kind.slug + ": " + e.detail
}

func (e *problemError) Unwrap() error { return e.err }

// errRouteDisabled is returned while settings switch the route off.
var errRouteDisabled = errors.New("route disabled by settings (route.enabled: false)")

// toProblem maps any error to its problem: the one place where errors become
// HTTP statuses. Unknown errors are internal errors with a generic text.
func toProblem(err error) *problemError {
	var pe *problemError
	if errors.As(err, &pe) {
		return pe
	}
	p := func(k kind, detail string) *problemError { return &problemError{kind: k, detail: detail, err: err} }
	switch {
	case errors.Is(err, session.ErrNoCredential):
		return p(kindUnauthenticated, detailNoCredential)
	case errors.Is(err, session.ErrExpired):
		return p(kindUnauthenticated, "The session has expired. Sign in again.")
	case errors.Is(err, session.ErrAmbiguous):
		return p(kindUnauthenticated, "The request carries session cookies that name different sessions (the same cookie twice with different values, or cookies next-auth reads differently by router); who is signed in is ambiguous. Sign out and in again.")
	case errors.Is(err, session.ErrMalformed), errors.Is(err, session.ErrInvalid), errors.Is(err, user.ErrNoID):
		return p(kindUnauthenticated, "The session is invalid. Sign in again.")
	case errors.Is(err, apitoken.ErrUnknown):
		return p(kindUnauthenticated, "The API token is not valid: it is wrong or has been revoked.")
	case errors.Is(err, session.ErrUnavailable):
		return p(kindSessionStoreOut, "The session database cannot be reached. Retry later.")
	case errors.Is(err, settings.ErrUnavailable):
		return p(kindNoSettings, "The app settings are not available. Retry later.")
	case errors.Is(err, errRouteDisabled):
		return p(kindRouteDisabled, "This route is switched off. Retry later.")
	case errors.Is(err, diskspace.ErrLow):
		return p(kindSpoolFull, "The server's disk is nearly full: no new event or Idempotency-Key can be stored until queued events are delivered. Retry later; with the same Idempotency-Key a retry is deduplicated.")
	case errors.Is(err, errIdempotencyStore):
		return p(kindSpoolUnavailable, "The Idempotency-Key store cannot be read or written. Retry later with the same Idempotency-Key.")
	case errors.Is(err, spool.ErrFull):
		return p(kindSpoolFull, "Inngest is unavailable and the queue of events waiting for it is full. Retry later; with the same Idempotency-Key a retry is deduplicated.")
	case errors.Is(err, delivery.ErrNotQueued):
		return p(kindPublishFailed, "Inngest is unavailable and the event could not be queued. Retry later.")
	case errors.Is(err, inngest.ErrTimeout), errors.Is(err, inngest.ErrRejected), errors.Is(err, inngest.ErrUnavailable):
		return p(kindPublishFailed, publishFailedDetail(inngest.Classify(err)))
	}
	return p(kindInternal, detailInternal)
}

// publishFailedDetail is the detail of the publish-failed problem for a
// send that ended in one of Inngest's errors, by its outcome: which of them
// wins when an error wraps several is inngest.Classify's rule. (An error
// that is none of Inngest's is not classified here: it is internal.)
func publishFailedDetail(o inngest.Outcome) string {
	switch o {
	case inngest.Rejected:
		return "Inngest refused the event. Retry later."
	case inngest.Timeout:
		return "Inngest did not accept the event in time. Retry later; with the same Idempotency-Key a retry is deduplicated."
	}
	return "Inngest is unavailable. Retry later."
}

// logLevel is the level a problem is logged at: ERROR only for what an
// operator must act on (a bug, a broken settings file, an unreachable
// session database, Inngest down with the spool full or unwritable). What is
// the caller's business (every 4xx) or an operator's deliberate choice (the
// route switched off, the process stopping) is INFO, as is every answer of
// the readiness probe (problemError.probe): it is expected, and the
// access log and metrics count it. A 503 overloaded is WARN.
func logLevel(p *problemError) slog.Level {
	k := p.kind
	switch {
	case p.probe:
		return slog.LevelInfo
	case k == kindOverloaded:
		// Shedding load is the server working as designed; one error line
		// per refused request would flood the log exactly when it is busiest.
		return slog.LevelWarn
	case k.status < 500, k == kindRouteDisabled, k == kindShuttingDown:
		return slog.LevelInfo
	}
	return slog.LevelError
}

// writeProblem answers with err's problem and logs it (at logLevel) with
// the internal error.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := toProblem(err)
	log := loggerFrom(r.Context())
	attrs := []any{"status", p.kind.status, "problem", p.kind.slug}
	if p.err != nil {
		attrs = append(attrs, "err", p.err.Error())
	}
	if level := logLevel(p); level >= slog.LevelError {
		log.Error("request failed", attrs...)
	} else {
		log.Log(r.Context(), level, "request refused", attrs...)
	}

	body := gen.Problem{
		Type:   problemTypePrefix + p.kind.slug,
		Title:  p.kind.title,
		Status: p.kind.status,
	}
	if p.detail != "" {
		body.Detail = &p.detail
	}
	if id := requestIDFrom(r.Context()); id != "" {
		instance := "urn:routeapi:request:" + id
		body.Instance = &instance
	}
	if len(p.fields) > 0 {
		body.Errors = &p.fields
	}
	buf, mErr := json.Marshal(body)
	if mErr != nil { // cannot happen for this struct; keep the answer well-formed anyway
		log.Error("encode problem", "err", mErr)
		buf = []byte(`{"type":"` + problemTypePrefix + `internal","title":"Internal server error","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	// The length lets a client take the whole answer while the server still
	// reads the rest of an unread body (refuseUnread).
	h.Set("Content-Length", strconv.Itoa(len(buf)+1))
	for k, v := range p.header {
		h[k] = v
	}
	if p.kind.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.kind.retryAfter))
	}
	if p.kind.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="routeapi"`)
	}
	w.WriteHeader(p.kind.status)
	_, _ = w.Write(append(buf, '\n'))
}

// problemHandler answers every request with one kind of problem.
func problemHandler(k kind, detail string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, &problemError{kind: k, detail: detail})
	}
}
