package api_test

import (
	"encoding/hex"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/events"
	"github.com/routeapi/routeapi/internal/idempotency"
)

// TestSendEventsKeyPerIdentity: an API token whose id is the session
// user's id ("user_42") and that user send the same batch under the same
// Idempotency-Key: two keys (the principal's kind keeps them apart), two
// publishes with different event ids, and every event's data.user is the
// identity that sent it, never the other's replayed answer.
func TestSendEventsKeyPerIdentity(t *testing.T) {
	_, st := boltStore(t)
	pub := &gatePublisher{}
	set := eventsSettings()
	tok, hash := apitoken.New()
	var e apitoken.Entry
	e.ID, e.Name = "user_42", "Billing"
	if _, err := hex.Decode(e.Hash[:], []byte(hash)); err != nil {
		t.Fatal(err)
	}
	set.APITokens = append(set.APITokens, e)
	h := newHarness(t, options{settings: fakeSettings{s: set}, idem: st, publisher: pub})
	const key = "shared-key"
	body := batch(orderName, order, feedbackName, feedback)

	asUser := postEvents(t, body)
	asUser.headers = map[string]string{"Idempotency-Key": key}
	asToken := request{path: "/api/events", body: body, headers: map[string]string{"Idempotency-Key": key, "Authorization": "Bearer " + tok}}

	u := h.serve(t, asUser)
	k := h.serve(t, asToken)
	if u.Code != 200 || k.Code != 200 {
		t.Fatalf("user %d %s; token %d %s", u.Code, u.Body, k.Code, k.Body)
	}
	ur, kr := decodeSend(t, u), decodeSend(t, k)
	for i := range 2 {
		if ur.EventIDs[i] == kr.EventIDs[i] || slices.Contains(ur.EventIDs, kr.EventIDs[i]) {
			t.Errorf("event %d: the token's id %s is one of the user's %v", i, kr.EventIDs[i], ur.EventIDs)
		}
		if want := events.BatchEventID(events.KindAPIToken, "user_42", key, testNow.Add(idempotency.Window), i); kr.EventIDs[i] != want {
			t.Errorf("token's event %d: id %s, want %s", i, kr.EventIDs[i], want)
		}
	}
	if n := pub.count(); n != 4 {
		t.Fatalf("%d events published, want each identity's 2", n)
	}
	for i, ev := range pub.events {
		wantName := "Ada"
		if i >= 2 {
			wantName = "Billing"
		}
		if ev.Data.User.ID != "user_42" || ev.Data.User.Name != wantName {
			t.Errorf("event %d: user %+v, want user_42 %s", i, ev.Data.User, wantName)
		}
	}
}

// TestSendEventsKeyConcurrent: the same batch under the same key sent by
// many requests at once publishes once; every other request gets 409 or
// the first's answer, with the same event ids.
func TestSendEventsKeyConcurrent(t *testing.T) {
	_, st := boltStore(t)
	pub := &gatePublisher{}
	h := newHarness(t, options{settings: fakeSettings{s: eventsSettings()}, idem: st, publisher: pub})
	req := postEvents(t, batch(orderName, order, feedbackName, feedback))
	req.headers = map[string]string{"Idempotency-Key": "concurrent"}
	const n = 16
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h.handler.ServeHTTP(rec, req.build())
			recs[i] = rec
		})
	}
	wg.Wait()
	var ok []string
	for _, rec := range recs {
		switch rec.Code {
		case 200:
			ok = append(ok, rec.Body.String())
		case 409:
			wantProblem(t, rec, rec.Body.Bytes(), 409, "idempotency-key-in-flight")
		default:
			t.Fatalf("answer %d %s", rec.Code, rec.Body)
		}
	}
	if len(ok) == 0 {
		t.Fatal("no request published")
	}
	for _, b := range ok[1:] {
		if b != ok[0] {
			t.Errorf("answers differ: %s, %s", b, ok[0])
		}
	}
	if c := pub.count(); c != 2 {
		t.Errorf("%d events published, want one batch's 2", c)
	}
	if again := h.serve(t, req); again.Code != 200 || again.Body.String() != ok[0] {
		t.Errorf("after: %d %s, want %s", again.Code, again.Body, ok[0])
	}
}
