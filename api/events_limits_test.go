package api_test

import (
	"strings"
	"testing"
)

// TestSendEventsBodyLimitBoundary: route.maxBodyBytes bounds a batch's
// whole body: a body of exactly the limit is read and published; one byte
// more is refused with 413 before it is parsed (the extra byte makes it
// invalid JSON, which would be a 400 had it been parsed), and nothing is
// published.
func TestSendEventsBodyLimitBoundary(t *testing.T) {
	set := eventsSettings()
	set.Route.MaxBodyBytes = 4096
	h := newHarness(t, options{settings: fakeSettings{s: set}})
	var pairs []string
	for range 20 {
		pairs = append(pairs, feedbackName, feedback)
	}
	body := batch(pairs...)
	if len(body) > 4096 {
		t.Fatalf("batch of %d bytes does not fit the limit", len(body))
	}
	exact := body + strings.Repeat(" ", 4096-len(body))
	if rec := h.serve(t, postEvents(t, exact)); rec.Code != 200 {
		t.Fatalf("body of exactly route.maxBodyBytes: %d %s", rec.Code, rec.Body)
	}
	if n := len(h.pub.events); n != 20 {
		t.Fatalf("%d events published, want 20", n)
	}
	rec := h.serve(t, postEvents(t, exact+"x"))
	wantProblem(t, rec, rec.Body.Bytes(), 413, "payload-too-large")
	if n := len(h.pub.events); n != 20 {
		t.Errorf("%d events published after the 413, want still 20", n)
	}
}
