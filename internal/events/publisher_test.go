package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/events"
)

// eventKey is distinctive so that a leak into any error string is found.
const eventKey = "evtkey-7f3a9c41-DO-NOT-LEAK"

// received is one request the fake Inngest Event API got.
type received struct {
	method, path string
	header       http.Header
	body         []byte
}

// fakeInngest plays the Inngest Event API (POST /e/{key}) on 127.0.0.1.
type fakeInngest struct {
	url     string
	arrived chan struct{} // one value per request, before it is answered
	mu      sync.Mutex
	reqs    []received
}

// newFakeInngest starts a fake whose answers come from answer. Requests
// blocked in answer are released by the context of the request or at cleanup.
func newFakeInngest(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, release <-chan struct{})) *fakeInngest {
	t.Helper()
	f := &fakeInngest{arrived: make(chan struct{}, 100)}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, received{r.Method, r.URL.Path, r.Header.Clone(), body})
		f.mu.Unlock()
		select {
		case f.arrived <- struct{}{}:
		default:
		}
		answer(w, r, release)
	}))
	f.url = srv.URL
	t.Cleanup(srv.Close)                 // runs second: waits for handlers
	t.Cleanup(func() { close(release) }) // runs first: unblocks hung handlers
	return f
}

func (f *fakeInngest) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.reqs...)
}

// reply answers with status and body.
func reply(status int, body string) func(http.ResponseWriter, *http.Request, <-chan struct{}) {
	return func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// hang never answers until the client gives up or the test ends.
func hang(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
	select {
	case <-r.Context().Done():
	case <-release:
	}
}

const okBody = `{"ids":["01JD2Q7T9XK4M8V6ZB3N5R1C2F"],"status":200}`

func newPublisher(t *testing.T, cfg events.PublisherConfig) *events.Publisher {
	t.Helper()
	if cfg.EventKey == "" && !cfg.Dev {
		cfg.EventKey = eventKey
	}
	p, err := events.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testEvent(t *testing.T) events.Event {
	t.Helper()
	e, err := events.Build(testSettings, testUser, events.Request{
		Data:           json.RawMessage(`{"orderId":"ord_123","n":12345678901234567890}`),
		IdempotencyKey: "key-1",
		RequestID:      "req-1",
	}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// checkErr checks that err wraps want and does not leak the event key.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("Publish error %v, want %v", err, want)
	}
	if strings.Contains(err.Error(), eventKey) {
		t.Fatalf("error leaks the event key: %v", err)
	}
}

func TestPublishSuccess(t *testing.T) {
	f := newFakeInngest(t, reply(200, okBody))
	p := newPublisher(t, events.PublisherConfig{BaseURL: f.url + "/", Timeout: 5 * time.Second, Env: "branch-1"})
	e := testEvent(t)

	ids, err := p.Publish(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != "01JD2Q7T9XK4M8V6ZB3N5R1C2F" {
		t.Fatalf("ids = %q", ids)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("Inngest got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/e/"+eventKey {
		t.Errorf("Inngest got %s %s, want POST /e/<key>", r.method, r.path)
	}
	if got := r.header.Get("X-Inngest-Env"); got != "branch-1" {
		t.Errorf("X-Inngest-Env = %q, want branch-1", got)
	}
	want, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.body) != "["+string(want)+"]" {
		t.Errorf("Inngest got body\n%s\nwant a JSON array of the event\n[%s]", r.body, want)
	}
	var sent []map[string]any
	if err := json.Unmarshal(r.body, &sent); err != nil || len(sent) != 1 || sent[0]["id"] != e.ID {
		t.Errorf("Inngest got %s: want one event with id %s (%v)", r.body, e.ID, err)
	}
	if !strings.Contains(string(r.body), `"n":12345678901234567890`) {
		t.Errorf("big integer not sent unchanged: %s", r.body)
	}
}

func TestPublishDevWithoutKey(t *testing.T) {
	f := newFakeInngest(t, reply(200, okBody))
	p := newPublisher(t, events.PublisherConfig{Dev: true, BaseURL: f.url, Timeout: 5 * time.Second})
	if _, err := p.Publish(context.Background(), testEvent(t)); err != nil {
		t.Fatal(err)
	}
	if reqs := f.requests(); len(reqs) != 1 || reqs[0].path != "/e/NO_EVENT_KEY_SET" {
		t.Fatalf("dev publish without a key went to %+v, want /e/NO_EVENT_KEY_SET", reqs)
	}
	if h := f.requests()[0].header.Get("X-Inngest-Env"); h != "" {
		t.Errorf("X-Inngest-Env = %q without Env, want none", h)
	}
}

func TestNewPublisherErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  events.PublisherConfig
	}{
		{"no timeout", events.PublisherConfig{EventKey: eventKey, BaseURL: "http://127.0.0.1:1"}},
		{"negative timeout", events.PublisherConfig{EventKey: eventKey, BaseURL: "http://127.0.0.1:1", Timeout: -time.Second}},
		{"no base URL", events.PublisherConfig{EventKey: eventKey, Timeout: time.Second}},
		{"no key outside dev", events.PublisherConfig{BaseURL: "http://127.0.0.1:1", Timeout: time.Second}},
	} {
		if _, err := events.NewPublisher(tc.cfg); err == nil {
			t.Errorf("%s: NewPublisher succeeded, want an error", tc.name)
		} else if strings.Contains(err.Error(), eventKey) {
			t.Errorf("%s: error leaks the key: %v", tc.name, err)
		}
	}
}

// Inngest's answers that mean "not accepted", and are final: exactly one request.
func TestPublishRejected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"400", 400, `{"error":"event name is invalid","status":400}`},
		{"401 echoing the key", 401, `{"error":"event key ` + eventKey + ` not found","status":401}`},
		{"403", 403, `{"error":"event type blocked","status":403}`},
		{"404", 404, `not found`},
		{"200 without ids", 200, `{"ids":[],"status":200}`},
		{"200 with an empty id", 200, `{"ids":[""],"status":200}`},
		{"200 with two ids for one event", 200, `{"ids":["a","b"],"status":200}`},
		{"200 with a body that is not JSON", 200, `<html>ok</html>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeInngest(t, reply(tc.status, tc.body))
			p := newPublisher(t, events.PublisherConfig{BaseURL: f.url, Timeout: 5 * time.Second})
			ids, err := p.Publish(context.Background(), testEvent(t))
			if ids != nil {
				t.Errorf("ids = %q on failure, want nil", ids)
			}
			checkErr(t, err, events.ErrRejected)
			if n := len(f.requests()); n != 1 {
				t.Errorf("Inngest got %d requests, want exactly 1 (no retry)", n)
			}
		})
	}
}

// 5xx is retried by inngestgo (5 attempts, about 3.1 to 3.6 s of backoff in
// all); with a timeout above that, the publish ends in ErrUnavailable.
func TestPublish5xxUnavailable(t *testing.T) {
	t.Parallel()
	f := newFakeInngest(t, reply(500, `{"error":"boom","status":500}`))
	p := newPublisher(t, events.PublisherConfig{BaseURL: f.url, Timeout: 6 * time.Second})
	_, err := p.Publish(context.Background(), testEvent(t))
	checkErr(t, err, events.ErrUnavailable)
	if n := len(f.requests()); n < 2 {
		t.Errorf("Inngest got %d requests, want retries", n)
	}
}

// With a short timeout, the caller is not held for inngestgo's retries.
func TestPublish5xxTimeout(t *testing.T) {
	f := newFakeInngest(t, reply(503, ``))
	p := newPublisher(t, events.PublisherConfig{BaseURL: f.url, Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := p.Publish(context.Background(), testEvent(t))
	checkErr(t, err, events.ErrTimeout)
	if d := time.Since(start); d > 300*time.Millisecond+2*time.Second {
		t.Errorf("Publish returned after %v, want about the 300ms timeout", d)
	}
}

func TestPublishHungServerTimesOut(t *testing.T) {
	f := newFakeInngest(t, hang)
	p := newPublisher(t, events.PublisherConfig{BaseURL: f.url, Timeout: 300 * time.Millisecond})
	start := time.Now()
	ids, err := p.Publish(context.Background(), testEvent(t))
	checkErr(t, err, events.ErrTimeout)
	if ids != nil {
		t.Errorf("ids = %q on timeout", ids)
	}
	if d := time.Since(start); d > 300*time.Millisecond+2*time.Second {
		t.Errorf("Publish returned after %v, want about the 300ms timeout", d)
	}
	if len(f.requests()) == 0 {
		t.Error("the request never reached Inngest")
	}
}

func TestPublishContextCanceled(t *testing.T) {
	f := newFakeInngest(t, hang)
	p := newPublisher(t, events.PublisherConfig{BaseURL: f.url, Timeout: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-f.arrived
		cancel()
	}()
	start := time.Now()
	_, err := p.Publish(ctx, testEvent(t))
	checkErr(t, err, events.ErrTimeout)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Publish returned %v after the cancel, want promptly", d)
	}
}

func TestPublishMaxInFlight(t *testing.T) {
	// Requests wait until the test opens the gate, then succeed.
	gate := make(chan struct{})
	f := newFakeInngest(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		select {
		case <-gate:
		case <-release:
			return
		case <-r.Context().Done():
			return
		}
		reply(200, okBody)(w, r, nil)
	})
	p := newPublisher(t, events.PublisherConfig{BaseURL: f.url, Timeout: 10 * time.Second, MaxInFlight: 1})

	first := make(chan error, 1)
	go func() {
		_, err := p.Publish(context.Background(), testEvent(t))
		first <- err
	}()
	select {
	case <-f.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the first publish never reached Inngest")
	}

	_, err := p.Publish(context.Background(), testEvent(t))
	checkErr(t, err, events.ErrBusy)
	if n := len(f.requests()); n != 1 {
		t.Errorf("Inngest got %d requests while busy, want 1", n)
	}

	close(gate)
	if err := <-first; err != nil {
		t.Fatalf("first publish: %v", err)
	}
	// The slot frees once the first publish is done; then publishing works again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := p.Publish(context.Background(), testEvent(t))
		if err == nil {
			break
		}
		if !errors.Is(err, events.ErrBusy) || time.Now().After(deadline) {
			t.Fatalf("publish after the first one finished: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A transport error carries the URL, and so the key; it must not reach the caller.
func TestPublishErrorsNeverContainTheKey(t *testing.T) {
	t.Parallel()
	// A closed server's address refuses connections.
	srv := httptest.NewServer(http.NotFoundHandler())
	refused := srv.URL
	srv.Close()

	p := newPublisher(t, events.PublisherConfig{BaseURL: refused, Timeout: 6 * time.Second})
	_, err := p.Publish(context.Background(), testEvent(t))
	checkErr(t, err, events.ErrUnavailable)
	if !strings.Contains(err.Error(), "[event-key]") {
		t.Errorf("error %q: want the transport error with the key redacted", err)
	}
}
