package api_test

import (
	"net/http"
	"testing"

	"github.com/routeapi/routeapi/internal/settings"
)

// TestSendEventsSettingsReadOnce: a batch reads the settings once (the body
// limit, the caller, events.disabled, the event size and the envelope's
// public settings share that read), so events.disabled toggled by a reload
// while a batch is under way cannot refuse part of it or publish it with
// two settings' envelopes. Each request reads them again.
func TestSendEventsSettingsReadOnce(t *testing.T) {
	on := eventsSettings()
	off := eventsSettings()
	off.Events = settings.Events{Disabled: []string{orderName}}
	off.Public = map[string]any{"theme": "after-reload"}
	src := &sequenceSettings{seq: []settings.Settings{on, off, on}}
	h := newHarness(t, options{store: src})
	req := postEvents(t, batch(feedbackName, feedback, orderName, order, feedbackName, feedback))

	if rec := h.serve(t, req); rec.Code != http.StatusOK {
		t.Fatalf("first batch: %d %s", rec.Code, rec.Body)
	}
	if n := src.count(); n != 1 {
		t.Errorf("first batch read the settings %d times, want 1", n)
	}
	for i, ev := range h.pub.events {
		if _, ok := ev.Data.Settings["theme"]; ok {
			t.Errorf("event %d has the reloaded settings %v", i, ev.Data.Settings)
		}
	}
	rec := h.serve(t, req)
	wantProblem(t, rec, rec.Body.Bytes(), 403, "event-disabled")
	if n := src.count(); n != 2 {
		t.Errorf("two batches read the settings %d times, want 2", n)
	}
	if len(h.pub.events) != 3 {
		t.Errorf("%d events published, want the first batch's 3", len(h.pub.events))
	}
}

// TestSendEventsRetryAfterReload: a keyed batch published before a reload
// that switches one of its events off (events.disabled) or makes its events
// too large for inngest.maxEventBytes (a larger public map, a smaller
// limit) is replayed to a retry with the same key, as any retry after a
// reload is: the first answer, not a 403 or 413 saying nothing was
// published. A new batch under those settings is still refused, and so is
// the same batch under a new key.
func TestSendEventsRetryAfterReload(t *testing.T) {
	for name, reload := range map[string]func(*settings.Settings){
		"event disabled":      func(s *settings.Settings) { s.Events = settings.Events{Disabled: []string{orderName}} },
		"event now too large": func(s *settings.Settings) { s.Inngest.MaxEventBytes = 200 },
	} {
		t.Run(name, func(t *testing.T) {
			_, st := boltStore(t)
			pub := &gatePublisher{}
			on, off := eventsSettings(), eventsSettings()
			reload(&off)
			src := &sequenceSettings{seq: []settings.Settings{on, off}}
			h := newHarness(t, options{store: src, idem: st, publisher: pub})
			req := postEvents(t, batch(feedbackName, feedback, orderName, order))
			req.headers = map[string]string{"Idempotency-Key": "before-reload"}
			first := h.serve(t, req)
			if first.Code != http.StatusOK {
				t.Fatalf("first: %d %s", first.Code, first.Body)
			}
			again := h.serve(t, req)
			if again.Code != http.StatusOK || again.Body.String() != first.Body.String() {
				t.Errorf("retry after the reload: %d %s, want the first answer %s", again.Code, again.Body, first.Body)
			}
			if n := pub.count(); n != 2 {
				t.Errorf("%d events published, want the first batch's 2", n)
			}
			req.headers["Idempotency-Key"] = "after-reload"
			if rec := h.serve(t, req); rec.Code != http.StatusForbidden && rec.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("the batch under a new key: %d %s, want refused", rec.Code, rec.Body)
			}
			if n := pub.count(); n != 2 {
				t.Errorf("%d events published, want still 2", n)
			}
		})
	}
}

// TestRouteRetryAfterReload: the route's keyed request published before a
// reload that makes its event too large (inngest.maxEventBytes) is replayed
// to a retry, like a batch's; a new key gets the 413.
func TestRouteRetryAfterReload(t *testing.T) {
	_, st := boltStore(t)
	pub := &gatePublisher{}
	on, off := goodSettings(), goodSettings()
	off.Inngest.MaxEventBytes = 200
	src := &sequenceSettings{seq: []settings.Settings{on, off}}
	h := newHarness(t, options{store: src, idem: st, publisher: pub})
	ada := cookieFor(t, adaClaims)
	first := h.serve(t, keyed(ada, "route-before-reload", `{"data":{"amount":10}}`))
	if first.Code != http.StatusOK {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	if again := h.serve(t, keyed(ada, "route-before-reload", `{"data":{"amount":10}}`)); again.Code != http.StatusOK || again.Body.String() != first.Body.String() {
		t.Errorf("retry after the reload: %d %s, want the first answer %s", again.Code, again.Body, first.Body)
	}
	rec := h.serve(t, keyed(ada, "route-after-reload", `{"data":{"amount":10}}`))
	wantProblem(t, rec, rec.Body.Bytes(), 413, "payload-too-large")
	if n := pub.count(); n != 1 {
		t.Errorf("%d events published, want 1", n)
	}
}
