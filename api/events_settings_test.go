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
