package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// sendEventsResponse is POST /api/events' 200 body (gen.SendEventsResponse, decoded independently).
type sendEventsResponse struct {
	Success  string   `json:"success"`
	EventIDs []string `json:"eventIds"`
	IDs      []string `json:"ids"`
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
