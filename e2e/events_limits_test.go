package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// TestSendEventsLargestBatch: the largest batch a body of route.maxBodyBytes
// can carry under the dev server's 3 MiB event limit (100 feedback events of
// about 27 KB each: comments and titles of escaped emoji at their
// maxLength, 2.7 MB in all) goes to the real dev server as one Event API
// request and is accepted whole (200, an Inngest id per event), each event
// stored once with its data unchanged; the same batch one byte over
// route.maxBodyBytes is 413 and sends nothing.
func TestSendEventsLargestBatch(t *testing.T) {
	inngest := startInngest(t)
	w := newWire(t, inngest.URL)
	const emoji = `\ud83d\ude00` // one code point, 12 bytes as sent
	var batch []sentEvent
	for i := range 100 {
		batch = append(batch, sentEvent{feedbackSubmitted, fmt.Sprintf(`{"rating":%d,"comment":"%s","page":{"path":"/large/%d","title":"%s"}}`,
			1+i%5, strings.Repeat(emoji, 2000), i, strings.Repeat(emoji, 200))})
	}
	body := eventsBody(batch)
	srv := startRouteAPI(t, settingsYAML("e2e/route."+randomSuffix(), true, len(body)), map[string]string{"INNGEST_BASE_URL": w.URL})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	h := cookieHeader(v)
	h.Set("X-Request-Id", "e2e-largest-batch")
	if resp := srv.sendEvents(t, body+" ", h); resp.Status != http.StatusRequestEntityTooLarge || resp.problemType() != "payload-too-large" {
		t.Errorf("one byte over route.maxBodyBytes: %d %.300s, want 413", resp.Status, resp.Body)
	}
	if _, sends := w.sent(); sends != 0 {
		t.Fatalf("the 413 sent %d Event API requests", sends)
	}
	resp := srv.sendEvents(t, body, h)
	if resp.Status != http.StatusOK {
		t.Fatalf("%d-byte batch: status %d: %.500s", len(body), resp.Status, resp.Body)
	}
	var got sendEventsResponse
	resp.decode(t, &got)
	if len(got.EventIDs) != 100 || len(got.IDs) != 100 {
		t.Fatalf("answer with %d eventIds and %d ids, want 100 each", len(got.EventIDs), len(got.IDs))
	}
	if onWire, sends := w.sent(); len(onWire) != 100 || sends != 1 {
		t.Errorf("routeapi sent %d events in %d Event API requests, want 100 in one", len(onWire), sends)
	}
	checkDelivered(t, inngest, batch, got.EventIDs, got.IDs, "e2e-largest-batch")
}

// TestSendEventsAdmissionBudget: with ROUTEAPI_MAX_INFLIGHT_BYTES at its
// least (3 MiB), a 2.7 MB batch in flight (its Event API request held for
// a while) holds its bytes until Inngest answers: a second such batch
// arriving meanwhile is 503 overloaded with Retry-After, its body unread
// and nothing sent; once the first has answered, the second is accepted.
func TestSendEventsAdmissionBudget(t *testing.T) {
	inngest := startInngest(t)
	w := newWire(t, slowInngest(t, inngest.URL, 2*time.Second))
	const emoji = `\ud83d\ude00`
	big := func(tag string) []sentEvent {
		var b []sentEvent
		for i := range 100 {
			b = append(b, sentEvent{feedbackSubmitted, fmt.Sprintf(`{"rating":%d,"comment":"%s","page":{"path":"/%s/%d","title":"%s"}}`,
				1+i%5, strings.Repeat(emoji, 2000), tag, i, strings.Repeat(emoji, 200))})
		}
		return b
	}
	first, second := big("one"), big("two")
	srv := startRouteAPI(t, settingsYAML("e2e/route."+randomSuffix(), true, len(eventsBody(first))),
		map[string]string{"INNGEST_BASE_URL": w.URL, "ROUTEAPI_MAX_INFLIGHT_BYTES": "3145728", "ROUTEAPI_ADMISSION_WAIT": "0s", "ROUTEAPI_PUBLISH_TIMEOUT": "10s"})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	done := make(chan response, 1)
	go func() { done <- srv.sendEvents(t, eventsBody(first), cookieHeader(v)) }()
	waitFor(t, 30*time.Second, "the first batch to reach the Event API", func() bool {
		_, sends := w.sent()
		return sends == 1
	})
	resp := srv.sendEvents(t, eventsBody(second), cookieHeader(v))
	if resp.Status != http.StatusServiceUnavailable || resp.problemType() != "overloaded" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a second batch while the first holds the budget: %d %.300s, want 503 overloaded with Retry-After", resp.Status, resp.Body)
	}
	if r := <-done; r.Status != http.StatusOK {
		t.Fatalf("first batch: %d %.300s", r.Status, r.Body)
	}
	if r := srv.sendEvents(t, eventsBody(second), cookieHeader(v)); r.Status != http.StatusOK {
		t.Errorf("second batch after the first answered: %d %.300s", r.Status, r.Body)
	}
	if onWire, sends := w.sent(); len(onWire) != 200 || sends != 2 {
		t.Errorf("routeapi sent %d events in %d requests, want 200 in 2", len(onWire), sends)
	}
}
