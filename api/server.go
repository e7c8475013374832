package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/admission"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/ratelimit"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/user"
)

// SettingsSource gives the settings in force (settings.ErrUnavailable when none).
type SettingsSource interface {
	Current() (settings.Settings, error)
}

// SessionResolver turns a credential into a valid session.
type SessionResolver interface {
	Resolve(ctx context.Context, c session.Credential) (session.Session, error)
}

// UserResolver says who is acting in a session.
type UserResolver interface {
	FromSession(ctx context.Context, s session.Session) (user.User, error)
}

// Publisher publishes an event: Inngest accepted it (the receipt has its
// ids) or it is durably queued (Receipt.Queued). PublishAll does the same
// for a batch, all or none: Inngest accepted every event (the receipt has
// their ids, in order) or those it did not accept are durably queued
// together (Receipt.Queued).
type Publisher interface {
	Publish(ctx context.Context, e events.Encoded) (delivery.Receipt, error)
	PublishAll(ctx context.Context, evs []events.Encoded) (delivery.Receipt, error)
}

// DeliveryState reports the spool and the circuit breaker for /readyz.
type DeliveryState interface {
	Stats(ctx context.Context) (spool.Stats, error)
	State() delivery.State
}

// RequestObserver records each answered request: the status it got and how
// long it took (internal/metrics counts and times it by route, method and
// status). The request's context still holds chi's routing context.
type RequestObserver interface {
	ObserveRequest(r *http.Request, status int, elapsed time.Duration)
}

// Deps are what the server needs. Logger, Settings, Sessions, Users,
// Publisher and CookieNames are required; every other field is optional,
// and its comment says what its zero value means.
type Deps struct {
	Logger    *slog.Logger
	Settings  SettingsSource
	Sessions  SessionResolver
	Users     UserResolver
	Publisher Publisher
	// Delivery reports the delivery state in /readyz; nil reports an empty spool.
	Delivery DeliveryState
	// Requests observes every answered request (metrics); nil for none.
	Requests RequestObserver
	// Extra mounts operational endpoints that are not part of the contract
	// (e.g. /metrics); nil for none.
	Extra func(chi.Router)
	// CookieNames are the session cookie names to read, the expected one first
	// (see session.CookieNames).
	CookieNames []string
	// TrustedOrigins may make cross-origin browser requests
	// (scheme://host[:port]); none: only same-origin browser requests.
	TrustedOrigins []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Limiter applies the settings' route.rateLimit; nil means a new one.
	Limiter *ratelimit.Limiter
	// Idempotency records Idempotency-Keys (see internal/idempotency); nil
	// derives event ids from keys without recording them.
	Idempotency idempotency.Store
	// IdempotencyLease is how long a request in flight holds its key (a
	// request that dies frees it then); 0 means a minute. It must exceed the
	// longest a request takes to publish or spool.
	IdempotencyLease time.Duration
	// Admission is the budget of request body bytes held at once (see
	// admit); nil admits every request.
	Admission *admission.Budget
	// ShuttingDown reports that the process has begun to stop: /readyz then
	// answers 503 shutting-down while the requests in flight finish. nil: never.
	ShuttingDown func() bool
}

// Server implements gen.StrictServerInterface.
type Server struct {
	log         *slog.Logger
	settings    SettingsSource
	sessions    SessionResolver
	users       UserResolver
	publisher   Publisher
	delivery    DeliveryState
	requests    RequestObserver
	extra       func(chi.Router)
	cookieNames []string
	now         func() time.Time
	limiter     *ratelimit.Limiter
	// fence is fenceBody, shrinking data while the contract allows it (shrinkSafe).
	fence func(http.Handler) http.Handler
	// dropBody empties the body of operations that declare none (dropUndeclaredBody).
	dropBody  func(http.Handler) http.Handler
	idem      idempotency.Store
	idemLease time.Duration
	admission *admission.Budget
	readiness *readiness
	// secured are the operations that need a credential (securedOperations).
	secured map[string]bool
}

var _ gen.StrictServerInterface = (*Server)(nil)

// NewServer returns the whole HTTP surface of routeapi as one handler.
func NewServer(d Deps) (http.Handler, error) {
	if d.Logger == nil || d.Settings == nil || d.Sessions == nil || d.Users == nil || d.Publisher == nil || len(d.CookieNames) == 0 {
		return nil, errors.New("new server: Logger, Settings, Sessions, Users, Publisher and CookieNames are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Server{
		log:         d.Logger,
		settings:    d.Settings,
		sessions:    d.Sessions,
		users:       d.Users,
		publisher:   d.Publisher,
		delivery:    d.Delivery,
		requests:    d.Requests,
		extra:       d.Extra,
		cookieNames: d.CookieNames,
		now:         d.Now,
		limiter:     d.Limiter,
		idem:        d.Idempotency,
		idemLease:   d.IdempotencyLease,
		admission:   d.Admission,
		readiness:   &readiness{shuttingDown: d.ShuttingDown},
	}
	if s.idemLease <= 0 {
		s.idemLease = defaultIdempotencyLease
	}
	if s.limiter == nil {
		s.limiter = ratelimit.New(d.Now)
	}
	spec, err := gen.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("new server: load embedded spec: %w", err)
	}
	crossOrigin := http.NewCrossOriginProtection()
	for _, o := range d.TrustedOrigins {
		if err := crossOrigin.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("new server: trusted origin: %w", err)
		}
	}
	crossOrigin.SetDenyHandler(problemHandler(kindCrossOrigin, "Cross-origin requests are not allowed from this origin."))
	s.fence = fenceBody(shrinkSafe(spec))
	s.secured = securedOperations(spec)
	s.dropBody = dropUndeclaredBody(spec)
	return s.routes(headValidation(validator(spec, d.CookieNames)), crossOrigin.Handler)
}

// routes is the whole HTTP surface in one place.
func (s *Server) routes(validate, crossOrigin func(http.Handler) http.Handler) (http.Handler, error) {
	r := chi.NewRouter()
	r.Use(noSniff, requestID(s.log), accessLog(s.requests), recoverer, limitHeaders(MaxHeaderBytes), crossOrigin, headAsGet)
	r.NotFound(problemHandler(kindNotFound, "There is nothing at this path."))
	r.MethodNotAllowed(methodNotAllowed)

	if err := mountDocs(r); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if s.extra != nil {
		s.extra(r)
	}

	strict := gen.NewStrictHandlerWithOptions(s, []gen.StrictMiddlewareFunc{s.withCredential}, gen.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, &problemError{kind: kindInvalid, detail: detailNotJSON, err: err})
		},
		ResponseErrorHandlerFunc: writeProblem,
	})
	gen.HandlerWithOptions(strict, gen.ChiServerOptions{
		BaseRouter: r,
		// Per operation, first to last: admission (a lease on the in-flight
		// byte budget, before the body is read), content coding and charset, body
		// limit, the body check of POST /api/route and /api/events (and the
		// route's data shrunk for the validator and the strict server,
		// fenceBody), the validator,
		// then the single-JSON-value check the validator does not make (for
		// bodies the fence did not check).
		Middlewares: s.bodyMiddlewares(validate),
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, &problemError{kind: kindInvalid, detail: "A header is malformed: " + err.Error(), err: err})
		},
	})
	return r, nil
}

// bodyMiddlewares are the middlewares of every operation, in the order they
// run: for an operation without a request body in the contract, the body is
// emptied first (dropUndeclaredBody).
func (s *Server) bodyMiddlewares(validate func(http.Handler) http.Handler) []gen.MiddlewareFunc {
	mws := []gen.MiddlewareFunc{admit(s.admission, s.maxBodyBytes), contentCoding, limitBody(s.maxBodyBytes), s.fence, validate, oneJSONValue}
	if s.dropBody != nil {
		mws = append([]gen.MiddlewareFunc{s.dropBody}, mws...)
	}
	return mws
}

// maxBodyBytes is the body limit in force for r (the default while no settings are loaded).
func (s *Server) maxBodyBytes(r *http.Request) int64 {
	if cur, err := s.settingsFor(r.Context()); err == nil {
		return cur.Route.MaxBodyBytes
	}
	return settings.DefaultMaxBodyBytes
}
