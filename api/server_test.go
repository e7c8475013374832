package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/testkit/logbuf"
	"github.com/routeapi/routeapi/internal/testkit/spectest"
	"github.com/routeapi/routeapi/internal/user"
)

const testSecret = "api-test-secret-0123456789abcdef"

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fakeSettings is a SettingsSource with fixed settings or a fixed error.
type fakeSettings struct {
	s   settings.Settings
	err error
}

func (f fakeSettings) Current() (settings.Settings, error) { return f.s, f.err }

// fakePublisher records events and answers with ids, "queued", an error or a panic.
type fakePublisher struct {
	mu     sync.Mutex
	events []events.Event
	// batches counts the PublishAll calls.
	batches int
	err     error
	queued  bool
	panic   bool
}

// PublishAll records the batch and answers for all of it at once, as
// Publish does for one. A publish whose encoding is not its event's
// (encodingIsTheEvents) fails.
func (p *fakePublisher) PublishAll(_ context.Context, evs []events.Encoded) (delivery.Receipt, error) {
	if p.panic {
		panic("publisher exploded")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batches++
	for _, e := range evs {
		p.events = append(p.events, e.Event)
	}
	for i, e := range evs {
		if err := encodingIsTheEvents(e); err != nil {
			return delivery.Receipt{}, fmt.Errorf("event %d: %w", i, err)
		}
	}
	if p.err != nil {
		return delivery.Receipt{}, p.err
	}
	if p.queued {
		return delivery.Receipt{Queued: true}, nil
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = "01TESTINNGESTID" + e.ID[:4]
	}
	return delivery.Receipt{IDs: ids}, nil
}

func (p *fakePublisher) Publish(_ context.Context, e events.Encoded) (delivery.Receipt, error) {
	if p.panic {
		panic("publisher exploded")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e.Event)
	if err := encodingIsTheEvents(e); err != nil {
		return delivery.Receipt{}, err
	}
	if p.err != nil {
		return delivery.Receipt{}, p.err
	}
	if p.queued {
		return delivery.Receipt{Queued: true}, nil
	}
	return delivery.Receipt{IDs: []string{"01TESTINNGESTID" + e.ID[:4]}}, nil
}

// encodingIsTheEvents fails unless e.JSON, the bytes the real publisher
// sends, is the encoding of e.Event, the event the tests look at: a stale
// encoding (an event changed after EncodeEvent, such as a keyed request's
// new id) would reach Inngest unseen otherwise. The fake publisher answers
// such a publish with this error, so the request fails.
func encodingIsTheEvents(e events.Encoded) error {
	want, err := events.Encode(e.Event)
	if err != nil {
		return fmt.Errorf("encode the published event: %w", err)
	}
	if !bytes.Equal(e.JSON, want) {
		return fmt.Errorf("published encoding %.200s is not the event's %.200s", e.JSON, want)
	}
	return nil
}

func goodSettings() settings.Settings {
	return settings.Settings{
		Route:  settings.Route{Enabled: true, Event: "app/route.requested", MaxBodyBytes: 1024},
		Public: map[string]any{"appName": "test"},
	}
}

type harness struct {
	handler http.Handler
	pub     *fakePublisher
	logs    *logbuf.Buffer
}

// fakeDelivery is a DeliveryState with fixed stats or an error.
type fakeDelivery struct {
	stats spool.Stats
	state delivery.State
	err   error
}

func (f fakeDelivery) Stats(context.Context) (spool.Stats, error) { return f.stats, f.err }
func (f fakeDelivery) State() delivery.State                      { return f.state }

type options struct {
	settings fakeSettings
	pub      *fakePublisher
	delivery api.DeliveryState
	origins  []string
	// discardLogs formats log lines (at info level) and drops them, for benchmarks.
	discardLogs bool
	// sessions, users and cookieNames replace the v4 JWT defaults when set.
	sessions    api.SessionResolver
	users       api.UserResolver
	cookieNames []string
	// store replaces settings when set (a real settings.Store, for reloads).
	store api.SettingsSource
	// requests and extra are Deps.Requests and Deps.Extra (metrics).
	requests api.RequestObserver
	extra    func(chi.Router)
	// now replaces the fixed clock (testNow) when set.
	now func() time.Time
	// idem records Idempotency-Keys when set; publisher replaces pub when set.
	idem      idempotency.Store
	publisher api.Publisher
	// shuttingDown is Deps.ShuttingDown.
	shuttingDown func() bool
}

func newHarness(t testing.TB, o options) *harness {
	t.Helper()
	if o.pub == nil {
		o.pub = &fakePublisher{}
	}
	if o.settings.s.Route.Event == "" && o.settings.err == nil {
		o.settings.s = goodSettings()
	}
	resolver := o.sessions
	if resolver == nil {
		r, err := session.NewJWT(session.JWTConfig{Format: session.FormatV4, V4Secret: testSecret, Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatal(err)
		}
		resolver = r
	}
	var users api.UserResolver = user.FromClaims{}
	if o.users != nil {
		users = o.users
	}
	cookieNames := session.CookieNames(false)
	if o.cookieNames != nil {
		cookieNames = o.cookieNames
	}
	var set api.SettingsSource = o.settings
	if o.store != nil {
		set = o.store
	}
	now := o.now
	if now == nil {
		now = func() time.Time { return testNow }
	}
	logs := &logbuf.Buffer{}
	var sink io.Writer = logs
	if o.discardLogs {
		sink = io.Discard
	}
	var publisher api.Publisher = o.pub
	if o.publisher != nil {
		publisher = o.publisher
	}
	h, err := api.NewServer(api.Deps{
		Logger:         slog.New(slog.NewJSONHandler(sink, nil)),
		Settings:       set,
		Sessions:       resolver,
		Users:          users,
		Publisher:      publisher,
		Idempotency:    o.idem,
		Delivery:       o.delivery,
		CookieNames:    cookieNames,
		TrustedOrigins: o.origins,
		Now:            now,
		Requests:       o.requests,
		Extra:          o.extra,
		ShuttingDown:   o.shuttingDown,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{handler: h, pub: o.pub, logs: logs}
}

func mintToken(t testing.TB, secret string, claims map[string]any, ttl time.Duration) string {
	t.Helper()
	tok, err := session.Encode(secret, claims, ttl, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var adaClaims = map[string]any{"sub": "user_42", "email": "ada@example.com", "name": "Ada", "picture": "https://example.com/ada.png"}

func cookieFor(t testing.TB, claims map[string]any) *http.Cookie {
	return &http.Cookie{Name: session.CookieName, Value: mintToken(t, testSecret, claims, time.Hour)}
}

type request struct {
	method  string
	path    string
	body    string
	headers map[string]string
	cookies []*http.Cookie
}

func (r request) build() *http.Request {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	path := r.path
	if path == "" {
		path = "/api/route"
	}
	var body io.Reader = http.NoBody
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(method, path, body)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	for _, c := range r.cookies {
		req.AddCookie(c)
	}
	return req
}

// serve runs req through the full handler and checks the response against openapi.yaml.
func (h *harness) serve(t *testing.T, r request) *httptest.ResponseRecorder {
	t.Helper()
	req := r.build()
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	checkAgainstSpec(t, r.build(), rec)
	return rec
}

// checkAgainstSpec fails the test when the response does not match openapi.yaml.
func checkAgainstSpec(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	if err := spectest.CheckResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		t.Errorf("%v\nbody: %s", err, rec.Body.Bytes())
	}
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) gen.Problem {
	t.Helper()
	var p gen.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode problem: %v: %s", err, rec.Body.Bytes())
	}
	return p
}

// TestStatuses drives one request per documented status through the full
// handler (validator, strict server, error writer).
func TestStatuses(t *testing.T) {
	ada := cookieFor(t, adaClaims)
	tampered := &http.Cookie{Name: session.CookieName, Value: flipLast(ada.Value)}
	expired := &http.Cookie{Name: session.CookieName, Value: mintToken(t, testSecret, adaClaims, -time.Minute)}
	otherSecret := &http.Cookie{Name: session.CookieName, Value: mintToken(t, "another-secret", adaClaims, time.Hour)}
	noSub := cookieFor(t, map[string]any{"email": "ada@example.com"})

	tests := []struct {
		name       string
		opts       options
		req        request
		wantStatus int
		wantType   string
		retryAfter bool
	}{
		{name: "200 string data", req: request{body: `{"data":"data"}`, cookies: []*http.Cookie{ada}}, wantStatus: 200},
		{name: "200 object data", req: request{body: `{"data":{"a":[1,2,{"b":null}]}}`, cookies: []*http.Cookie{ada}}, wantStatus: 200},
		{name: "200 array data", req: request{body: `{"data":[1,2,3]}`, cookies: []*http.Cookie{ada}}, wantStatus: 200},
		{name: "200 false data", req: request{body: `{"data":false}`, cookies: []*http.Cookie{ada}}, wantStatus: 200},
		{name: "200 bearer token", req: request{body: `{"data":1}`, headers: map[string]string{"Authorization": "Bearer " + ada.Value}}, wantStatus: 200},
		{name: "200 json with charset", req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}, headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}}, wantStatus: 200},
		{name: "200 same-origin browser", req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}, headers: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}}, wantStatus: 200},
		{name: "200 trusted origin", opts: options{origins: []string{"https://app.example.com"}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}, headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.com"}}, wantStatus: 200},

		{name: "400 not JSON", req: request{body: `{"data":`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "400 trailing data", req: request{body: `{"data":1} trailing`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "400 two JSON values", req: request{body: `{"data":1}{"data":2}`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "200 trailing white space", req: request{body: "{\"data\":1}\n\t ", cookies: []*http.Cookie{ada}}, wantStatus: 200},
		{name: "400 null data", req: request{body: `{"data":null}`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "400 missing data", req: request{body: `{}`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "400 unknown property", req: request{body: `{"data":1,"extra":2}`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "400 body cannot set the user", req: request{body: `{"data":1,"user":{"id":"admin"}}`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "400 body not an object", req: request{body: `[1]`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "400 empty body", req: request{cookies: []*http.Cookie{ada}, headers: map[string]string{"Content-Type": "application/json"}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "400 idempotency key with space", req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}, headers: map[string]string{"Idempotency-Key": "a b"}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "400 idempotency key too long", req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}, headers: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}}, wantStatus: 400, wantType: "invalid-request"},

		{name: "401 no credential", req: request{body: `{"data":1}`}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "401 other cookies only", req: request{body: `{"data":1}`, cookies: []*http.Cookie{{Name: "theme", Value: "dark"}}}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "401 tampered", req: request{body: `{"data":1}`, cookies: []*http.Cookie{tampered}}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "401 expired", req: request{body: `{"data":1}`, cookies: []*http.Cookie{expired}}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "401 wrong secret", req: request{body: `{"data":1}`, cookies: []*http.Cookie{otherSecret}}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "401 no user id", req: request{body: `{"data":1}`, cookies: []*http.Cookie{noSub}}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "401 garbage bearer", req: request{body: `{"data":1}`, headers: map[string]string{"Authorization": "Bearer not-a-token"}}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "401 basic auth", req: request{body: `{"data":1}`, headers: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "401 before body checks", req: request{body: `{"nope":1}`}, wantStatus: 401, wantType: "unauthenticated"},

		{name: "403 cross-site browser", req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}}, wantStatus: 403, wantType: "cross-origin"},
		{name: "403 foreign origin", req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}, headers: map[string]string{"Origin": "https://evil.example"}}, wantStatus: 403, wantType: "cross-origin"},

		{name: "413 body over the limit", req: request{body: `{"data":"` + strings.Repeat("x", 2000) + `"}`, cookies: []*http.Cookie{ada}}, wantStatus: 413, wantType: "payload-too-large"},

		{name: "415 text/plain", req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}, headers: map[string]string{"Content-Type": "text/plain"}}, wantStatus: 415, wantType: "unsupported-media-type"},
		{name: "415 form", req: request{body: `data=1`, cookies: []*http.Cookie{ada}, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, wantStatus: 415, wantType: "unsupported-media-type"},

		{name: "500 unexpected publisher error", opts: options{pub: &fakePublisher{err: errors.New("database password is hunter2")}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 500, wantType: "internal"},
		{name: "500 panic", opts: options{pub: &fakePublisher{panic: true}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 500, wantType: "internal"},

		{name: "503 settings unavailable", opts: options{settings: fakeSettings{err: settings.ErrUnavailable}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "settings-unavailable", retryAfter: true},
		{name: "503 route disabled", opts: options{settings: fakeSettings{s: settings.Settings{Route: settings.Route{Enabled: false, Event: "x", MaxBodyBytes: 1024}}}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "route-disabled", retryAfter: true},
		{name: "503 inngest timeout", opts: options{pub: &fakePublisher{err: inngest.ErrTimeout}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "publish-failed", retryAfter: true},
		{name: "503 inngest unavailable", opts: options{pub: &fakePublisher{err: inngest.ErrUnavailable}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "publish-failed", retryAfter: true},
		{name: "503 inngest rejected", opts: options{pub: &fakePublisher{err: inngest.ErrRejected}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "publish-failed", retryAfter: true},
		{name: "503 spool full", opts: options{pub: &fakePublisher{err: fmt.Errorf("spool event x: %w", spool.ErrFull)}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "spool-full", retryAfter: true},
		{name: "503 spool failed", opts: options{pub: &fakePublisher{err: fmt.Errorf("spool event x: %w: disk on fire", delivery.ErrNotQueued)}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "publish-failed", retryAfter: true},
		{name: "202 queued", opts: options{pub: &fakePublisher{queued: true}}, req: request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, wantStatus: 202},

		// POST /api/events (sendEvents): every documented status a single request can get.
		{name: "events 200", req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 200},
		{name: "events 200 api token", req: request{path: "/api/events", body: batch(feedbackName, feedback), headers: map[string]string{"Authorization": "Bearer " + ada.Value}}, wantStatus: 200},
		{name: "events 202 queued", opts: options{pub: &fakePublisher{queued: true}}, req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 202},
		{name: "events 400 data", req: request{path: "/api/events", body: batch(feedbackName, `{"rating":0,"page":{"path":"/"}}`), cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "events 400 unknown name", req: request{path: "/api/events", body: batch("shop/order.cancelled", feedback), cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "events 400 not JSON", req: request{path: "/api/events", body: `{"events":[`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "events 400 two JSON values", req: request{path: "/api/events", body: batch(feedbackName, feedback) + `{}`, cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "events 400 acceptance", req: request{path: "/api/events", body: batch(feedbackName, `{"rating":4,"rating":4,"page":{"path":"/"}}`), cookies: []*http.Cookie{ada}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "events 400 malformed key", req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}, headers: map[string]string{"Idempotency-Key": "a key"}}, wantStatus: 400, wantType: "invalid-request"},
		{name: "events 401 no credential", req: request{path: "/api/events", body: batch(feedbackName, feedback)}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "events 401 expired", req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{expired}}, wantStatus: 401, wantType: "unauthenticated"},
		{name: "events 403 cross-site browser", req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}}, wantStatus: 403, wantType: "cross-origin"},
		{name: "events 403 disabled", opts: options{settings: fakeSettings{s: func() settings.Settings { s := goodSettings(); s.Events.Disabled = []string{feedbackName}; return s }()}}, req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 403, wantType: "event-disabled"},
		{name: "events 413 body over the limit", req: request{path: "/api/events", body: batch(feedbackName, feedbackWith(`,"comment":"`+strings.Repeat("x", 1100)+`"`)), cookies: []*http.Cookie{ada}}, wantStatus: 413, wantType: "payload-too-large"},
		{name: "events 413 event over maxEventBytes", opts: options{settings: fakeSettings{s: func() settings.Settings { s := goodSettings(); s.Inngest.MaxEventBytes = 200; return s }()}}, req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 413, wantType: "payload-too-large"},
		{name: "events 415 text/plain", req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}, headers: map[string]string{"Content-Type": "text/plain"}}, wantStatus: 415, wantType: "unsupported-media-type"},
		{name: "events 500 unexpected publisher error", opts: options{pub: &fakePublisher{err: errors.New("database password is hunter2")}}, req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 500, wantType: "internal"},
		{name: "events 500 panic", opts: options{pub: &fakePublisher{panic: true}}, req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 500, wantType: "internal"},
		{name: "events 503 settings unavailable", opts: options{settings: fakeSettings{err: settings.ErrUnavailable}}, req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "settings-unavailable", retryAfter: true},
		{name: "events 503 inngest unavailable", opts: options{pub: &fakePublisher{err: inngest.ErrUnavailable}}, req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "publish-failed", retryAfter: true},
		{name: "events 503 spool full", opts: options{pub: &fakePublisher{err: fmt.Errorf("spool batch: %w", spool.ErrFull)}}, req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "spool-full", retryAfter: true},
		{name: "events 503 not queued", opts: options{pub: &fakePublisher{err: fmt.Errorf("spool batch: %w: disk on fire", delivery.ErrNotQueued)}}, req: request{path: "/api/events", body: batch(feedbackName, feedback), cookies: []*http.Cookie{ada}}, wantStatus: 503, wantType: "publish-failed", retryAfter: true},
		{name: "events 405 GET", req: request{method: "GET", path: "/api/events"}, wantStatus: 405, wantType: "method-not-allowed"},

		{name: "healthz", req: request{method: "GET", path: "/healthz"}, wantStatus: 200},
		{name: "readyz", req: request{method: "GET", path: "/readyz"}, wantStatus: 200},
		{name: "readyz draining, circuit open", opts: options{delivery: fakeDelivery{stats: spool.Stats{Depth: 3, Oldest: testNow.Add(-time.Minute), Dead: 1}, state: delivery.Open}}, req: request{method: "GET", path: "/readyz"}, wantStatus: 200},
		// Unreadable spool: unready only while Inngest is known down too
		// (events could be neither sent nor queued); with the circuit closed
		// requests publish directly, so the instance stays ready (issue 12).
		{name: "readyz spool unreadable, circuit open", opts: options{delivery: fakeDelivery{err: errors.New("spool stats: connection refused"), state: delivery.Open}}, req: request{method: "GET", path: "/readyz"}, wantStatus: 503, wantType: "spool-unavailable", retryAfter: true},
		{name: "readyz spool unreadable, circuit half-open", opts: options{delivery: fakeDelivery{err: errors.New("spool stats: connection refused"), state: delivery.HalfOpen}}, req: request{method: "GET", path: "/readyz"}, wantStatus: 503, wantType: "spool-unavailable", retryAfter: true},
		{name: "readyz spool unreadable, circuit closed", opts: options{delivery: fakeDelivery{err: errors.New("spool stats: connection refused"), state: delivery.Closed}}, req: request{method: "GET", path: "/readyz"}, wantStatus: 200},
		{name: "readyz without settings", opts: options{settings: fakeSettings{err: settings.ErrUnavailable}}, req: request{method: "GET", path: "/readyz"}, wantStatus: 503, wantType: "settings-unavailable", retryAfter: true},
		{name: "404 unknown path", req: request{method: "GET", path: "/api/nope"}, wantStatus: 404, wantType: "not-found"},
		{name: "405 wrong method", req: request{method: "GET", path: "/api/route"}, wantStatus: 405, wantType: "method-not-allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts)
			rec := h.serve(t, tt.req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			id := rec.Header().Get("X-Request-Id")
			if id == "" {
				t.Error("no X-Request-Id header")
			}
			if got := rec.Header().Get("Retry-After"); (got != "") != tt.retryAfter {
				t.Errorf("Retry-After %q, want present=%v", got, tt.retryAfter)
			}
			if tt.wantStatus < 400 {
				return
			}
			p := decodeProblem(t, rec)
			if want := "urn:routeapi:problem:" + tt.wantType; p.Type != want {
				t.Errorf("type %q, want %q", p.Type, want)
			}
			if p.Status != rec.Code {
				t.Errorf("problem status %d, response status %d", p.Status, rec.Code)
			}
			if p.Instance == nil || *p.Instance != "urn:routeapi:request:"+id {
				t.Errorf("instance %v, want the request id %q", p.Instance, id)
			}
			if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if rec.Code >= 400 && len(h.pub.events) > 0 && rec.Code < 500 {
				t.Errorf("a refused request published %d events", len(h.pub.events))
			}
			if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "panic") || strings.Contains(rec.Body.String(), "exploded") {
				t.Errorf("internal details leaked: %s", rec.Body)
			}
		})
	}
}

func flipLast(tok string) string {
	b := []byte(tok)
	i := len(b) - 3
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestPublishedEvent checks the event a 200 publishes: the user comes from
// the session, data is forwarded unchanged, settings and request id are in it.
func TestPublishedEvent(t *testing.T) {
	h := newHarness(t, options{})
	// 9007199254740992 (2^53) and 1.0 are numbers Inngest keeps (as float64), in the spelling sent.
	data := `{"n":9007199254740992,"z":1.0,"s":"é"}`
	rec := h.serve(t, request{body: `{"data":` + data + `}`, cookies: []*http.Cookie{cookieFor(t, adaClaims)},
		headers: map[string]string{"X-Request-Id": "caller-id-1"}})
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp gen.RouteResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if len(h.pub.events) != 1 {
		t.Fatalf("published %d events, want 1", len(h.pub.events))
	}
	ev := h.pub.events[0]
	if resp.Success != "true" || resp.EventId != ev.ID || len(resp.Ids) != 1 || resp.Ids[0] != "01TESTINNGESTID"+ev.ID[:4] {
		t.Errorf("response %+v does not match event %s", resp, ev.ID)
	}
	if ev.Name != "app/route.requested" || ev.Timestamp != testNow.UnixMilli() {
		t.Errorf("event name %q ts %d", ev.Name, ev.Timestamp)
	}
	if string(ev.Data.Data) != data {
		t.Errorf("data %s, want byte-for-byte %s", ev.Data.Data, data)
	}
	wantUser := user.User{ID: "user_42", Email: "ada@example.com", Name: "Ada", Image: "https://example.com/ada.png"}
	if ev.Data.User != wantUser {
		t.Errorf("user %+v, want %+v", ev.Data.User, wantUser)
	}
	if ev.Data.RequestID != "caller-id-1" || rec.Header().Get("X-Request-Id") != "caller-id-1" {
		t.Errorf("request id %q / header %q, want caller-id-1", ev.Data.RequestID, rec.Header().Get("X-Request-Id"))
	}
	if ev.Data.Settings["appName"] != "test" {
		t.Errorf("settings %v", ev.Data.Settings)
	}
}

// TestIdempotencyKey: the same user and key give the same event id; another
// key or another user gives another; no key gives a fresh id each time.
func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t, options{})
	ada := cookieFor(t, adaClaims)
	bob := cookieFor(t, map[string]any{"sub": "user_7"})
	post := func(c *http.Cookie, key string) string {
		t.Helper()
		r := request{body: `{"data":1}`, cookies: []*http.Cookie{c}}
		if key != "" {
			r.headers = map[string]string{"Idempotency-Key": key}
		}
		rec := h.serve(t, r)
		if rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var resp gen.RouteResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		return resp.EventId
	}
	first, retry := post(ada, "order-1"), post(ada, "order-1")
	if first != retry {
		t.Errorf("retry with the same key: %s then %s", first, retry)
	}
	if other := post(ada, "order-2"); other == first {
		t.Error("another key gave the same id")
	}
	if other := post(bob, "order-1"); other == first {
		t.Error("another user with the same key gave the same id")
	}
	if a, b := post(ada, ""), post(ada, ""); a == b {
		t.Error("two requests without a key got the same id")
	}
}

// TestRequestID: a valid caller id is kept, an invalid one replaced.
func TestRequestID(t *testing.T) {
	h := newHarness(t, options{})
	for _, tc := range []struct{ sent, kept bool }{{true, true}, {false, false}} {
		sent := "ok-id-123"
		if !tc.sent {
			sent = "bad id with spaces"
		}
		rec := h.serve(t, request{method: "GET", path: "/healthz", headers: map[string]string{"X-Request-Id": sent}})
		got := rec.Header().Get("X-Request-Id")
		if (got == sent) != tc.kept || got == "" {
			t.Errorf("sent %q, got %q", sent, got)
		}
	}
}

// TestNoSecretsInLogsOrResponses sends good and bad tokens and checks that
// neither a token nor the secret shows up in a log line or a response.
func TestNoSecretsInLogsOrResponses(t *testing.T) {
	h := newHarness(t, options{pub: &fakePublisher{err: inngest.ErrUnavailable}})
	ada := cookieFor(t, adaClaims)
	var bodies strings.Builder
	for _, r := range []request{
		{body: `{"data":1}`, cookies: []*http.Cookie{ada}},
		{body: `{"data":1}`, cookies: []*http.Cookie{{Name: session.CookieName, Value: flipLast(ada.Value)}}},
		{body: `{"data":1}`, headers: map[string]string{"Authorization": "Bearer " + ada.Value}},
	} {
		bodies.WriteString(h.serve(t, r).Body.String())
	}
	for name, text := range map[string]string{"logs": h.logs.String(), "responses": bodies.String()} {
		for _, secret := range []string{testSecret, ada.Value[:40], ada.Value[len(ada.Value)-20:]} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contain a secret or token: %q", name, secret)
			}
		}
	}
	if !strings.Contains(h.logs.String(), `"request_id"`) {
		t.Error("log lines carry no request_id")
	}
}

// TestDocs: the spec and Swagger UI are served from the binary; the
// operationIds are the contract's, letter for letter (gen's embedded spec
// has them renamed to Go names).
func TestDocs(t *testing.T) {
	h := newHarness(t, options{})
	for path, wants := range map[string][]string{
		"/openapi.json": {`"operationId":"postRoute"`, `"operationId":"sendEvents"`},
		"/openapi.yaml": {"operationId: postRoute", "operationId: sendEvents"},
		"/docs/":        {"swagger"},
	} {
		rec := h.serve(t, request{method: "GET", path: path})
		for _, want := range wants {
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
				t.Errorf("GET %s: %d, body does not contain %q", path, rec.Code, want)
			}
		}
	}
}

// TestOpenAPIJSONIsTheContract: /openapi.json is openapi.yaml in JSON, the
// same document: both load with kin-openapi to the same contract.
func TestOpenAPIJSONIsTheContract(t *testing.T) {
	h := newHarness(t, options{})
	load := func(path string) []byte {
		t.Helper()
		rec := h.serve(t, request{method: "GET", path: path})
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("load %s: %v", path, err)
		}
		out, err := doc.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal %s: %v", path, err)
		}
		return out
	}
	if fromJSON, fromYAML := load("/openapi.json"), load("/openapi.yaml"); !bytes.Equal(fromJSON, fromYAML) {
		t.Errorf("/openapi.json is not /openapi.yaml's contract:\njson: %.300s\nyaml: %.300s", fromJSON, fromYAML)
	}
}

// TestContentLengthOverLimit: a declared length over the limit is refused
// before the body is read.
func TestContentLengthOverLimit(t *testing.T) {
	h := newHarness(t, options{})
	req := request{body: `{"data":1}`, cookies: []*http.Cookie{cookieFor(t, adaClaims)}}.build()
	req.ContentLength = 1 << 20
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
}

// TestFieldErrors: schema violations come back as field errors with JSON pointers.
func TestFieldErrors(t *testing.T) {
	h := newHarness(t, options{})
	ada := cookieFor(t, adaClaims)
	for body, want := range map[string][]string{
		`{"data":null}`:             {"/data"},
		`{}`:                        {"/data"},
		`{"data":1,"extra":2}`:      {"/extra"},
		`{"data":1,"a/b~c":2}`:      {"/a~1b~0c"},
		`{"user":{"id":"x"},"n":1}`: {"/data", "/n", "/user"},
		// Large values (the validator sees them shrunk): the same verdicts.
		`{"data":"` + strings.Repeat("x", 900) + `","extra":{"deep":[1,2]}}`: {"/extra"},
		`{"data":null,"pad":"` + strings.Repeat("y", 900) + `"}`:             {"/data", "/pad"},
	} {
		rec := h.serve(t, request{body: body, cookies: []*http.Cookie{ada}})
		p := decodeProblem(t, rec)
		if p.Errors == nil {
			t.Errorf("%s: no field errors", body)
			continue
		}
		var got []string
		for _, e := range *p.Errors {
			got = append(got, e.Pointer)
			if e.Detail == "" {
				t.Errorf("%s: field error %s without detail", body, e.Pointer)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: pointers %v, want %v", body, got, want)
		}
	}
}
