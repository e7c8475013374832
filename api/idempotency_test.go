package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/testkit/fakeclock"
	"github.com/routeapi/routeapi/internal/testkit/fakedisk"
)

// boltStore is a real idempotency store in a bbolt file of its own.
func boltStore(t testing.TB, opts ...spool.BoltOption) (*spool.Bolt, *idempotency.Bolt) {
	t.Helper()
	sp, err := spool.OpenBolt(t.TempDir(), 0, time.Second, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	st, err := idempotency.NewBolt(sp.DB(), sp.Reserve())
	if err != nil {
		t.Fatal(err)
	}
	return sp, st
}

// gatePublisher counts publishes and, while gate is set, holds each until
// the gate is closed. A publish whose encoding is not its event's
// (encodingIsTheEvents) fails.
type gatePublisher struct {
	mu      sync.Mutex
	events  []events.Event
	gate    chan struct{}
	entered chan struct{}
	err     error
	queued  bool
}

func (p *gatePublisher) Publish(ctx context.Context, e events.Encoded) (delivery.Receipt, error) {
	return p.PublishAll(ctx, []events.Encoded{e})
}

// PublishAll records evs, waits at the gate (one pass for the batch), and
// answers err, queued, or an Inngest id per event.
func (p *gatePublisher) PublishAll(_ context.Context, evs []events.Encoded) (delivery.Receipt, error) {
	p.mu.Lock()
	for _, e := range evs {
		p.events = append(p.events, e.Event)
	}
	gate, err, queued := p.gate, p.err, p.queued
	p.mu.Unlock()
	if gate != nil {
		p.entered <- struct{}{}
		<-gate
	}
	for i, e := range evs {
		if encErr := encodingIsTheEvents(e); encErr != nil {
			return delivery.Receipt{}, fmt.Errorf("event %d: %w", i, encErr)
		}
	}
	switch {
	case err != nil:
		return delivery.Receipt{}, err
	case queued:
		return delivery.Receipt{Queued: true}, nil
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = "01INNGEST" + e.ID[:6]
	}
	return delivery.Receipt{IDs: ids}, nil
}

func (p *gatePublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

func (p *gatePublisher) set(f func(p *gatePublisher)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func keyed(c *http.Cookie, key, body string) request {
	return request{body: body, cookies: []*http.Cookie{c}, headers: map[string]string{"Idempotency-Key": key}}
}

func eventID(t *testing.T, body []byte) string {
	t.Helper()
	var r struct {
		EventID string   `json:"eventId"`
		IDs     []string `json:"ids"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.EventID == "" {
		t.Fatalf("no eventId in %s: %v", body, err)
	}
	return r.EventID
}

func wantProblem(t *testing.T, rec *httptest.ResponseRecorder, body []byte, status int, slug string) gen.Problem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, body)
	}
	var p gen.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "urn:routeapi:problem:"+slug {
		t.Fatalf("problem %s, want %s", p.Type, slug)
	}
	return p
}

// TestIdempotencyReplayAndReuse: the first case. The same key with
// the same data answers the first answer and publishes nothing again; with
// other data it is refused with 422 naming the key; white space is not a
// change, member order is.
func TestIdempotencyReplayAndReuse(t *testing.T) {
	_, st := boltStore(t)
	pub := &gatePublisher{}
	h := newHarness(t, options{idem: st, publisher: pub})
	ada := cookieFor(t, adaClaims)
	const key = "5d0e6a2c-0f55-4b1e-9a5c-3c7f2f1f0d11"

	first := h.serve(t, keyed(ada, key, `{"data":{"amount":10,"to":"x"}}`))
	if first.Code != 200 {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	for _, body := range []string{`{"data":{"amount":10,"to":"x"}}`, "{\"data\" : { \"amount\":10 ,\n \"to\":\"x\" } }"} {
		again := h.serve(t, keyed(ada, key, body))
		if again.Code != 200 || again.Body.String() != first.Body.String() {
			t.Fatalf("repeat %s: %d %s, want the first answer %s", body, again.Code, again.Body, first.Body)
		}
	}
	for _, body := range []string{`{"data":{"amount":99999,"to":"x"}}`, `{"data":{"to":"x","amount":10}}`, `{"data":{"amount":10.0,"to":"x"}}`} {
		rec := h.serve(t, keyed(ada, key, body))
		p := wantProblem(t, rec, rec.Body.Bytes(), 422, "idempotency-key-reused")
		if p.Detail == nil || !strings.Contains(*p.Detail, `"`+key+`"`) {
			t.Errorf("422 detail %v does not name the key", p.Detail)
		}
		if rec.Header().Get("Retry-After") != "" {
			t.Error("422 has a Retry-After: retrying cannot help")
		}
	}
	if n := pub.count(); n != 1 {
		t.Fatalf("%d events published, want 1", n)
	}
	// Another user's key of the same name is another key.
	bob := cookieFor(t, map[string]any{"sub": "user_7"})
	if rec := h.serve(t, keyed(bob, key, `{"data":{"amount":99999}}`)); rec.Code != 200 || eventID(t, rec.Body.Bytes()) == eventID(t, first.Body.Bytes()) {
		t.Fatalf("another user with the same key: %d %s", rec.Code, rec.Body)
	}
}

// TestIdempotencyInFlight: a repeat while the first request is publishing
// gets 409 with Retry-After and publishes nothing; once the first answers,
// repeats get its answer.
func TestIdempotencyInFlight(t *testing.T) {
	_, st := boltStore(t)
	pub := &gatePublisher{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	h := newHarness(t, options{idem: st, publisher: pub})
	ada := cookieFor(t, adaClaims)
	req := keyed(ada, "k-in-flight", `{"data":1}`)

	firstDone := make(chan *http.Response, 1)
	var firstBody []byte
	go func() {
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req.build())
		firstBody = rec.Body.Bytes()
		firstDone <- rec.Result()
	}()
	<-pub.entered
	rec := h.serve(t, req)
	wantProblem(t, rec, rec.Body.Bytes(), 409, "idempotency-key-in-flight")
	if rec.Header().Get("Retry-After") != "1" {
		t.Errorf("409 Retry-After %q, want 1", rec.Header().Get("Retry-After"))
	}
	// Other data is refused outright, even while the first is in flight.
	rec = h.serve(t, keyed(ada, "k-in-flight", `{"data":2}`))
	wantProblem(t, rec, rec.Body.Bytes(), 422, "idempotency-key-reused")

	close(pub.gate)
	res := <-firstDone
	if res.StatusCode != 200 {
		t.Fatalf("first: %d %s", res.StatusCode, firstBody)
	}
	pub.set(func(p *gatePublisher) { p.gate = nil })
	again := h.serve(t, req)
	if again.Code != 200 || again.Body.String() != string(firstBody) {
		t.Fatalf("after the first answered: %d %s, want %s", again.Code, again.Body, firstBody)
	}
	if n := pub.count(); n != 1 {
		t.Fatalf("%d events published, want 1", n)
	}
}

// TestIdempotencyQueuedAndFailed: a 202 is replayed as 202; a failed publish
// (503) frees the key for a retry with the same data, not for other data.
func TestIdempotencyQueuedAndFailed(t *testing.T) {
	_, st := boltStore(t)
	pub := &gatePublisher{queued: true}
	h := newHarness(t, options{idem: st, publisher: pub})
	ada := cookieFor(t, adaClaims)

	q := h.serve(t, keyed(ada, "k-queued", `{"data":"q"}`))
	if q.Code != 202 {
		t.Fatalf("queued: %d %s", q.Code, q.Body)
	}
	pub.set(func(p *gatePublisher) { p.queued = false })
	if again := h.serve(t, keyed(ada, "k-queued", `{"data":"q"}`)); again.Code != 202 || again.Body.String() != q.Body.String() {
		t.Fatalf("replay of a 202: %d %s, want %s", again.Code, again.Body, q.Body)
	}

	pub.set(func(p *gatePublisher) { p.err = delivery.ErrNotQueued })
	rec := h.serve(t, keyed(ada, "k-fail", `{"data":"f"}`))
	wantProblem(t, rec, rec.Body.Bytes(), 503, "publish-failed")
	pub.set(func(p *gatePublisher) { p.err = nil })
	rec = h.serve(t, keyed(ada, "k-fail", `{"data":"other"}`))
	wantProblem(t, rec, rec.Body.Bytes(), 422, "idempotency-key-reused")
	if ok := h.serve(t, keyed(ada, "k-fail", `{"data":"f"}`)); ok.Code != 200 {
		t.Fatalf("retry after a 503: %d %s", ok.Code, ok.Body)
	}
	if n := pub.count(); n != 3 {
		t.Fatalf("%d publishes, want 3 (queued, failed, retried)", n)
	}
}

// TestIdempotencyPrincipals: the second case. An API token
// svc-billing and a user whose sub is "apitoken:svc-billing" use the same
// key: two events with two ids, neither refused.
func TestIdempotencyPrincipals(t *testing.T) {
	tok, hash := apitoken.New()
	store, _ := settingsFile(t, "apiTokens:\n  - {id: svc-billing, name: Billing, sha256: "+hash+"}\n")
	_, st := boltStore(t)
	pub := &gatePublisher{}
	h := newHarness(t, options{store: store, idem: st, publisher: pub})
	impostor := cookieFor(t, map[string]any{"sub": "apitoken:svc-billing"})
	sameID := cookieFor(t, map[string]any{"sub": "svc-billing"})

	svc := h.serve(t, request{body: `{"data":1}`, headers: map[string]string{"Authorization": "Bearer " + tok, "Idempotency-Key": "k1"}})
	if svc.Code != 200 {
		t.Fatalf("token: %d %s", svc.Code, svc.Body)
	}
	ids := map[string]bool{eventID(t, svc.Body.Bytes()): true}
	for _, c := range []*http.Cookie{impostor, sameID} {
		rec := h.serve(t, keyed(c, "k1", `{"data":2}`))
		if rec.Code != 200 {
			t.Fatalf("user: %d %s, want 200 (their own key)", rec.Code, rec.Body)
		}
		ids[eventID(t, rec.Body.Bytes())] = true
	}
	if len(ids) != 3 || pub.count() != 3 {
		t.Fatalf("%d distinct event ids, %d events; want 3 and 3", len(ids), pub.count())
	}
}

// TestIdempotencyDiskLow: below the disk reserve a new key is refused with
// 503 and Retry-After (nothing published), a recorded key still replays,
// and /readyz reports the state.
func TestIdempotencyDiskLow(t *testing.T) {
	disk := fakedisk.New(1 << 30)
	sp, st := boltStore(t, spool.WithMinFree(1<<20), spool.WithFreeSpace(disk.Free))
	pub := &gatePublisher{}
	h := newHarness(t, options{idem: st, publisher: pub, delivery: diskDelivery{sp: sp}})
	ada := cookieFor(t, adaClaims)
	first := h.serve(t, keyed(ada, "k-before", `{"data":1}`))
	if first.Code != 200 {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	if rec := h.serve(t, request{method: http.MethodGet, path: "/readyz"}); rec.Code != 200 {
		t.Fatalf("readyz with room: %d %s", rec.Code, rec.Body)
	}
	disk.Set(1 << 20)
	rec := h.serve(t, keyed(ada, "k-after", `{"data":1}`))
	wantProblem(t, rec, rec.Body.Bytes(), 503, "spool-full")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if again := h.serve(t, keyed(ada, "k-before", `{"data":1}`)); again.Code != 200 || again.Body.String() != first.Body.String() {
		t.Fatalf("replay below the reserve: %d %s", again.Code, again.Body)
	}
	if n := pub.count(); n != 1 {
		t.Fatalf("%d events published, want 1", n)
	}
	// Inngest answers (the circuit is closed): still ready, since events
	// without a key are published directly; the body says the disk is low.
	rec = h.serve(t, request{method: http.MethodGet, path: "/readyz"})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"diskLow":true`) {
		t.Fatalf("readyz at the reserve, circuit closed: %d %s, want 200 with diskLow true", rec.Code, rec.Body)
	}
	// Inngest down as well: events can be neither sent nor queued.
	open := newHarness(t, options{idem: st, publisher: pub, delivery: diskDelivery{sp: sp, state: delivery.Open}})
	rec = open.serve(t, request{method: http.MethodGet, path: "/readyz"})
	wantProblem(t, rec, rec.Body.Bytes(), 503, "spool-full")
}

// diskDelivery reports a real bolt spool's stats for /readyz, and a circuit state.
type diskDelivery struct {
	sp    *spool.Bolt
	state delivery.State
}

func (d diskDelivery) Stats(ctx context.Context) (spool.Stats, error) { return d.sp.Stats(ctx) }
func (d diskDelivery) State() delivery.State                          { return d.state }

// brokenStore is an idempotency store whose database is gone.
type brokenStore struct{ idempotency.Store }

func (brokenStore) Begin(context.Context, idempotency.Digest, idempotency.Fingerprint, time.Time, time.Duration) (idempotency.Result, error) {
	return idempotency.Result{}, errors.New("dial tcp 10.0.0.5:5432: connection refused (password=hunter2)")
}

func (brokenStore) Recorded(context.Context, idempotency.Digest, idempotency.Fingerprint, time.Time) (idempotency.Answer, bool, error) {
	return idempotency.Answer{}, false, errors.New("dial tcp 10.0.0.5:5432: connection refused (password=hunter2)")
}

// A store that cannot be read answers 503 spool-unavailable with
// Retry-After, publishes nothing and leaks nothing; requests without a key
// do not need the store.
func TestIdempotencyStoreUnavailable(t *testing.T) {
	pub := &gatePublisher{}
	h := newHarness(t, options{idem: brokenStore{}, publisher: pub})
	ada := cookieFor(t, adaClaims)
	rec := h.serve(t, keyed(ada, "k", `{"data":1}`))
	wantProblem(t, rec, rec.Body.Bytes(), 503, "spool-unavailable")
	if rec.Header().Get("Retry-After") == "" || strings.Contains(rec.Body.String(), "hunter2") {
		t.Errorf("503 %s (Retry-After %q): want Retry-After and no internals", rec.Body, rec.Header().Get("Retry-After"))
	}
	if ok := h.serve(t, request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}); ok.Code != 200 {
		t.Errorf("without a key: %d %s", ok.Code, ok.Body)
	}
	if n := pub.count(); n != 1 {
		t.Errorf("%d events published, want 1 (the request without a key)", n)
	}
}

// TestIdempotencyKeyAfterItsWindow: a key's event id belongs to its window.
// Inside it every request with the key gets the first id; used again after
// it, the key is new and so is the id: Inngest's own 24 hours for the old id
// start when it receives that event (later than the key's first request when
// the event waited in the spool), so a new event under the old id could be
// dropped as a duplicate while the caller got a 2xx.
func TestIdempotencyKeyAfterItsWindow(t *testing.T) {
	_, st := boltStore(t)
	pub := &gatePublisher{queued: true} // the first event waits in the spool (202)
	clock := fakeclock.New(testNow)
	h := newHarness(t, options{idem: st, publisher: pub, now: clock.Now})
	ada := &http.Cookie{Name: session.CookieName, Value: mintToken(t, testSecret, adaClaims, 72*time.Hour)}
	const key = "0b6f0f1e-0d7b-4b5e-a7a1-3b4f3f0c9e21"

	first := h.serve(t, keyed(ada, key, `{"data":{"amount":10}}`))
	if first.Code != 202 {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	id1 := eventID(t, first.Body.Bytes())
	// Inside the window: the same id, nothing published again.
	clock.Advance(idempotency.Window - time.Second)
	if again := h.serve(t, keyed(ada, key, `{"data":{"amount":10}}`)); again.Code != 202 || eventID(t, again.Body.Bytes()) != id1 {
		t.Fatalf("inside the window: %d %s, want 202 with %s", again.Code, again.Body, id1)
	}
	// After it, with other data: a new operation, a new id.
	clock.Advance(2 * time.Second)
	pub.set(func(p *gatePublisher) { p.queued = false })
	later := h.serve(t, keyed(ada, key, `{"data":{"amount":99999}}`))
	if later.Code != 200 {
		t.Fatalf("after the window: %d %s", later.Code, later.Body)
	}
	if id2 := eventID(t, later.Body.Bytes()); id2 == id1 {
		t.Errorf("after the window the key's event id is still %s: Inngest may drop the new event as a duplicate", id1)
	}
	if n := pub.count(); n != 2 {
		t.Errorf("%d events published, want 2", n)
	}
}
