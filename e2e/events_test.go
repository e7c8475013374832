package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// The catalogue's event names (openapi.yaml, CatalogueEvent's mapping). Each
// test starts its own dev server, so the fixed names never mix tests.
const (
	orderPlaced       = "shop/order.placed"
	feedbackSubmitted = "app/feedback.submitted"
)

// sentEvent is one catalogue event of a request, data written out as sent
// (compact: routeapi removes white space outside strings, nothing else).
type sentEvent struct {
	name string
	data string
}

// eventsBody is the SendEventsRequest of evs, each data spliced in as written.
func eventsBody(evs []sentEvent) string {
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i, e := range evs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":` + jsonString(e.name) + `,"data":` + e.data + `}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

// sendEventsResponse is the 200 and 202 body (gen.SendEventsResponse and
// gen.SendEventsQueuedResponse, decoded independently).
type sendEventsResponse struct {
	Success  string   `json:"success"`
	EventIDs []string `json:"eventIds"`
	IDs      []string `json:"ids"`
	Queued   bool     `json:"queued"`
}

// sendEvents posts body to /api/events (the answer checked against openapi.yaml by do).
func (r *routeAPI) sendEvents(t *testing.T, body string, header http.Header) response {
	t.Helper()
	return r.do(t, http.MethodPost, "/api/events", body, header)
}

// wireEvent is one event as routeapi sent it to the Event API, data.data's
// bytes exactly as on the wire.
type wireEvent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Data struct {
		Data json.RawMessage `json:"data"`
	} `json:"data"`
}

// wire is a reverse proxy in front of the dev server that records every
// Event API request body routeapi sends, so a test can compare bytes on the
// wire (the dev server re-encodes what it stores: member order, number
// spelling).
type wire struct {
	URL    string
	mu     sync.Mutex
	events []wireEvent
	sends  int
}

func newWire(t *testing.T, target string) *wire {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/e/") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(rw, err.Error(), http.StatusBadRequest)
				return
			}
			var evs []wireEvent
			if err := json.Unmarshal(body, &evs); err != nil {
				t.Errorf("the Event API request is not an array of events: %v: %.300s", err, body)
			}
			w.mu.Lock()
			w.sends++
			w.events = append(w.events, evs...)
			w.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// sent returns the events routeapi sent so far and in how many requests.
func (w *wire) sent() ([]wireEvent, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]wireEvent(nil), w.events...), w.sends
}

// adaUser is the user routeapi derives from the ada claims.
var adaUser = map[string]string{"id": "user_42", "email": "ada@example.com", "name": "Ada Lovelace", "image": "https://example.com/ada.png"}

// catalogueBatch is a batch of both catalogue events, several of each, with
// nested objects and arrays, numbers spelled as Inngest does not write them
// (1.0, 1E2, 29.90, 0.5e1) and non-ASCII text, raw and escaped. Every value
// is valid for its schema.
func catalogueBatch() []sentEvent {
	return []sentEvent{
		{orderPlaced, `{"orderId":"ord_e2e1","currency":"EUR","total":1E2,"placedAt":"2026-11-30T21:04:05Z","items":[{"sku":"mug-blue","quantity":2,"unitPrice":29.90},{"sku":"tasse-caf\u00e9","quantity":1,"unitPrice":1.0}],"coupon":"WINTER10"}`},
		{feedbackSubmitted, `{"rating":5,"comment":"Très bien — 日本語 😀 \"quoted\" \u00e9\n","email":"ada@example.com","page":{"path":"/caf\u00e9","title":"Café ☕"},"tags":["idea","bug"]}`},
		{orderPlaced, `{"orderId":"ord_e2e2","currency":"GBP","total":0.5e1,"items":[{"sku":"Ω-ring","quantity":999,"unitPrice":0.0050}]}`},
		{feedbackSubmitted, `{"rating":1,"page":{"path":"/"}}`},
	}
}

// checkDelivered checks that the dev server holds, for each event of sent,
// exactly one event with the answered eventIds[i] (ids[i] its Inngest id when
// given), of the right name, with data.data equal to what was sent (as
// stored: same JSON value, numbers as exact decimals, no name or character
// lost), the session's user, the public settings and the request id.
func checkDelivered(t *testing.T, inngest *inngestDev, sent []sentEvent, eventIDs, ids []string, requestID string) {
	t.Helper()
	want := map[string]map[string]bool{}
	for i, e := range sent {
		if want[e.name] == nil {
			want[e.name] = map[string]bool{}
		}
		want[e.name][eventIDs[i]] = true
	}
	byID := map[string]receivedEvent{}
	for name, ids := range want {
		checkExactlyOnce(t, inngest, name, ids, 30*time.Second)
		for _, e := range inngest.allEvents(t, name) {
			byID[e.ID] = e
		}
	}
	for i, e := range sent {
		got, ok := byID[eventIDs[i]]
		if !ok {
			t.Errorf("event %d (%s): no event with id %s in the dev server", i, e.name, eventIDs[i])
			continue
		}
		if got.Name != e.name {
			t.Errorf("event %d: name %q, want %q", i, got.Name, e.name)
		}
		if ids != nil && got.InternalID != ids[i] {
			t.Errorf("event %d: answered Inngest id %s, the dev server's is %s", i, ids[i], got.InternalID)
		}
		var d eventData
		if err := json.Unmarshal(got.Data, &d); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, got.Data)
		}
		if !unchanged(e.data, d.Data) {
			t.Errorf("event %d: sent data %s, the dev server stored %s", i, e.data, d.Data)
		}
		if !equalMaps(d.User, adaUser) {
			t.Errorf("event %d: user %v, want %v", i, d.User, adaUser)
		}
		if d.Settings["appName"] != "e2e" || d.Settings["plan"] != "free" || len(d.Settings) != 2 {
			t.Errorf("event %d: settings %v", i, d.Settings)
		}
		if d.RequestID != requestID {
			t.Errorf("event %d: requestId %q, want %q", i, d.RequestID, requestID)
		}
	}
}

// TestSendEventsArriveInInngest: a batch of catalogue events of both kinds
// from a session minted by next-auth 4.24.15 reaches the real Inngest dev
// server in order, each event's data byte for byte as sent on the wire and
// the same JSON value as stored, with the session's user and the answered
// ids; an invalid batch (one bad event among good ones) gets 400 with the
// bad member's pointer and sends nothing to Inngest.
func TestSendEventsArriveInInngest(t *testing.T) {
	inngest := startInngest(t)
	w := newWire(t, inngest.URL)
	srv := startRouteAPI(t, settingsYAML("e2e/route."+randomSuffix(), true, 262144), map[string]string{"INNGEST_BASE_URL": w.URL})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	// First the invalid batch: rating 6 is above FeedbackSubmittedData's
	// maximum, between two valid orders.
	good := catalogueBatch()
	bad := []sentEvent{good[0], {feedbackSubmitted, `{"rating":6,"page":{"path":"/"}}`}, good[2]}
	h := cookieHeader(v)
	resp := srv.sendEvents(t, eventsBody(bad), h)
	if resp.Status != http.StatusBadRequest {
		t.Fatalf("invalid batch: status %d, want 400: %s", resp.Status, resp.Body)
	}
	var problem struct {
		Errors []struct {
			Pointer string `json:"pointer"`
		} `json:"errors"`
	}
	resp.decode(t, &problem)
	if len(problem.Errors) != 1 || problem.Errors[0].Pointer != "/events/1/data/rating" {
		t.Errorf("invalid batch: errors %+v, want one at /events/1/data/rating", problem.Errors)
	}

	// Then the valid batch.
	h.Set("X-Request-Id", "e2e-send-events")
	resp = srv.sendEvents(t, eventsBody(good), h)
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	var answer sendEventsResponse
	resp.decode(t, &answer)
	if answer.Success != "true" || len(answer.EventIDs) != len(good) || len(answer.IDs) != len(good) || answer.Queued {
		t.Fatalf("answer %s, want success, %d eventIds and %d ids", resp.Body, len(good), len(good))
	}
	seen := map[string]bool{}
	for _, id := range answer.EventIDs {
		if id == "" || seen[id] {
			t.Errorf("eventIds %v: empty or repeated", answer.EventIDs)
		}
		seen[id] = true
	}
	checkDelivered(t, inngest, good, answer.EventIDs, answer.IDs, "e2e-send-events")

	// On the wire: only the valid batch's events, in order, each data.data
	// the bytes sent.
	onWire, _ := w.sent()
	if len(onWire) != len(good) {
		t.Fatalf("routeapi sent %d events to the Event API, want the %d of the valid batch only (the invalid one sends none)", len(onWire), len(good))
	}
	for i, e := range onWire {
		if e.ID != answer.EventIDs[i] || e.Name != good[i].name {
			t.Errorf("event %d on the wire: id %s name %s, want %s %s (the order sent)", i, e.ID, e.Name, answer.EventIDs[i], good[i].name)
		}
		if string(e.Data.Data) != good[i].data {
			t.Errorf("event %d: data on the wire\n%s\nwant byte for byte\n%s", i, e.Data.Data, good[i].data)
		}
	}
}

// TestSendEventsIdempotent: a batch retried with the same Idempotency-Key
// gets the same eventIds (and Inngest ids) and Inngest holds each event
// once; the key reused with another batch gets 422 and sends nothing.
func TestSendEventsIdempotent(t *testing.T) {
	inngest := startInngest(t)
	w := newWire(t, inngest.URL)
	srv := startRouteAPI(t, settingsYAML("e2e/route."+randomSuffix(), true, 262144), map[string]string{"INNGEST_BASE_URL": w.URL})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	batch := catalogueBatch()
	send := func(evs []sentEvent, key string) response {
		h := cookieHeader(v)
		h.Set("X-Request-Id", "e2e-idem-batch")
		h.Set("Idempotency-Key", key)
		return srv.sendEvents(t, eventsBody(evs), h)
	}
	var first, retry sendEventsResponse
	r1 := send(batch, "batch-7")
	if r1.Status != http.StatusOK {
		t.Fatalf("first: status %d: %s", r1.Status, r1.Body)
	}
	r1.decode(t, &first)
	r2 := send(batch, "batch-7")
	if r2.Status != http.StatusOK {
		t.Fatalf("retry: status %d: %s", r2.Status, r2.Body)
	}
	r2.decode(t, &retry)
	if strings.Join(first.EventIDs, ",") != strings.Join(retry.EventIDs, ",") || strings.Join(first.IDs, ",") != strings.Join(retry.IDs, ",") {
		t.Errorf("same key, same batch: %s then %s, want the first answer again", r1.Body, r2.Body)
	}
	if len(first.EventIDs) != len(batch) {
		t.Fatalf("eventIds %v, want %d", first.EventIDs, len(batch))
	}
	if r := send(batch[:1], "batch-7"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("same key, other batch: status %d, want 422: %s", r.Status, r.Body)
	}
	checkDelivered(t, inngest, batch, first.EventIDs, first.IDs, "e2e-idem-batch")
	// Every answer above was given before this point, so the wire holds all
	// routeapi ever sent for them: the batch once.
	onWire, _ := w.sent()
	count := map[string]int{}
	for _, e := range onWire {
		count[e.ID]++
	}
	for i, id := range first.EventIDs {
		if count[id] != 1 {
			t.Errorf("event %d (%s) sent to Inngest %d times, want once", i, id, count[id])
		}
	}
	if len(onWire) != len(batch) {
		t.Errorf("routeapi sent %d events to the Event API, want %d", len(onWire), len(batch))
	}
}

// TestSendEventsInngestDown: with the dev server stopped (and the gate in
// front of it closed: connection refused) a batch is answered 202 queued
// with its eventIds; once a new dev server runs behind the gate, every event
// of the batch is delivered to it once, with its id, data and user (the dev
// server v1.0.0 keeps events in memory, so the new one holds only what
// routeapi delivered after the restart).
func TestSendEventsInngestDown(t *testing.T) {
	inngest := startInngest(t)
	g := newGate(t, inngest.URL)
	srv := startRouteAPI(t, settingsYAML("e2e/route."+randomSuffix(), true, 262144), map[string]string{
		"INNGEST_BASE_URL": g.URL(), "ROUTEAPI_PUBLISH_TIMEOUT": "1s",
		"ROUTEAPI_RETRY_MIN_BACKOFF": "50ms", "ROUTEAPI_RETRY_MAX_BACKOFF": "500ms",
		"ROUTEAPI_BREAKER_COOLDOWN": "200ms", "ROUTEAPI_SPOOL_POLL": "100ms"})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	g.down(t)
	inngest.proc.stop(t)
	batch := catalogueBatch()
	h := cookieHeader(v)
	h.Set("X-Request-Id", "e2e-queued-batch")
	resp := srv.sendEvents(t, eventsBody(batch), h)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("with Inngest down: status %d, want 202: %s", resp.Status, resp.Body)
	}
	var answer sendEventsResponse
	resp.decode(t, &answer)
	if !answer.Queued || len(answer.IDs) != 0 || len(answer.EventIDs) != len(batch) {
		t.Fatalf("with Inngest down: %s, want queued with %d eventIds", resp.Body, len(batch))
	}

	restarted := startInngest(t)
	g.retarget(t, restarted.URL)
	g.up(t)
	checkDelivered(t, restarted, batch, answer.EventIDs, nil, "e2e-queued-batch")
}

// TestEventsBatchArrivesInInngest: a batch of catalogue events sent with a
// cookie minted by next-auth 4.24.15 reaches the real Inngest dev server,
// each event with its name, its id (in the order sent), Inngest's id in the
// answer, the session's user and its data unchanged; a retry with the
// batch's Idempotency-Key gets the same answer and sends nothing again.
func TestEventsBatchArrivesInInngest(t *testing.T) {
	inngest := startInngest(t)
	server := startRouteAPI(t, settingsYAML("e2e/route."+randomSuffix(), true, 262144), map[string]string{"INNGEST_BASE_URL": inngest.URL})
	vec := nextauthmint.Mint(t, nextauthmint.Case{Name: "plain", Secret: server.Secret, Claims: ada, MaxAge: 3600})[0]

	order := `{"orderId":"ord_e2e1","currency":"EUR","total":59.8,"placedAt":"2026-11-30T21:04:05Z","items":[{"sku":"mug-blue","quantity":2,"unitPrice":29.9}]}`
	feedback := `{"rating":5,"comment":"Schnell \u00e9t\u00e9 <ok>","email":"ada@example.com","page":{"path":"/thanks"},"tags":["praise","idea"]}`
	feedback2 := `{"rating":1,"page":{"path":"/checkout","title":"Checkout"}}`
	sent := []struct{ name, data string }{{"shop/order.placed", order}, {"app/feedback.submitted", feedback}, {"app/feedback.submitted", feedback2}}
	body := `{"events":[`
	for i, e := range sent {
		if i > 0 {
			body += ","
		}
		body += `{"name":"` + e.name + `","data":` + e.data + `}`
	}
	body += `]}`
	header := cookieHeader(vec)
	header.Set("Idempotency-Key", "e2e-batch-"+randomSuffix())
	resp := server.do(t, http.MethodPost, "/api/events", body, header)
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	var got sendEventsResponse
	resp.decode(t, &got)
	if got.Success != "true" || len(got.EventIDs) != 3 || len(got.IDs) != 3 {
		t.Fatalf("answer %s", resp.Body)
	}

	received := append(inngest.waitEvents(t, "shop/order.placed", 1), inngest.waitEvents(t, "app/feedback.submitted", 2)...)
	for i, e := range sent {
		var ev *receivedEvent
		for j := range received {
			if received[j].ID == got.EventIDs[i] {
				ev = &received[j]
			}
		}
		if ev == nil {
			t.Fatalf("event %d (%s): no event with id %s among %d received", i, e.name, got.EventIDs[i], len(received))
		}
		if ev.Name != e.name || ev.InternalID != got.IDs[i] {
			t.Errorf("event %d: name %s internal id %s, want %s and the answer's %s", i, ev.Name, ev.InternalID, e.name, got.IDs[i])
		}
		var d eventData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, d.Data, e.data) {
			t.Errorf("event %d: data %s, want %s", i, d.Data, e.data)
		}
		if d.User["id"] != "user_42" || d.User["email"] != "ada@example.com" || d.Settings["appName"] != "e2e" {
			t.Errorf("event %d: user %v settings %v", i, d.User, d.Settings)
		}
	}

	again := server.do(t, http.MethodPost, "/api/events", body, header)
	if again.Status != http.StatusOK || string(again.Body) != string(resp.Body) {
		t.Fatalf("retry with the key: %d %s, want %s", again.Status, again.Body, resp.Body)
	}
	if n := len(inngest.events(t, "app/feedback.submitted")); n != 2 {
		t.Errorf("Inngest holds %d feedback events after the retry, want 2", n)
	}
}
