package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/apitoken"
	"github.com/routeapi/routeapi/internal/testkit/authdbtest"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// TestSendEventsIdentities: the same batch under the same Idempotency-Key
// from a chunked next-auth v4 cookie (3 chunks, next-auth 4.24.15), an
// Auth.js v5 cookie (@auth/core), a database session (PostgreSQL, Prisma
// schema) and an API token: each identity's key is its own (four
// publishes, no identity gets another's answer), and every event the dev
// server holds has data.user exactly the identity that sent it, once.
func TestSendEventsIdentities(t *testing.T) {
	inngest := startInngest(t)
	pg := pgtest.Start(t)
	db := authdbtest.Setup(t, pg.URL, authdbtest.Prisma)
	dbUser := db.AddUser(t, "Grace Hopper", "grace@example.com", "https://example.com/grace.png")
	dbToken := db.AddSession(t, dbUser, time.Now().Add(30*24*time.Hour))

	tok, hash := apitoken.New()
	settings := settingsYAML("e2e/route."+randomSuffix(), true, 262144) + "apiTokens:\n  - {id: svc-billing, name: Billing, sha256: " + hash + "}\n"
	v5Secret := "e2e-v5-secret-" + randomSuffix()
	v4 := startRouteAPI(t, settings, map[string]string{"INNGEST_BASE_URL": inngest.URL})
	v5srv := startRouteAPI(t, settings, map[string]string{"INNGEST_BASE_URL": inngest.URL, "AUTH_SECRET": v5Secret})
	database := startRouteAPI(t, settings, map[string]string{"INNGEST_BASE_URL": inngest.URL,
		"ROUTEAPI_SESSION_STORE": "database", "DATABASE_URL": pg.URL, "ROUTEAPI_DB_SCHEMA": "prisma", "NEXTAUTH_SECRET": ""})

	chunked := nextauthmint.Mint(t, nextauthmint.Case{Name: "chunked", Secret: v4.Secret, Claims: ada, MaxAge: 3600, PadBytes: 8000})[0]
	if len(chunked.Cookies) < 2 {
		t.Fatalf("the v4 token is in %d cookie, want chunks", len(chunked.Cookies))
	}
	v5 := nextauthmint.Mint(t, nextauthmint.Case{Name: "v5", Kind: nextauthmint.KindV5, Secrets: []string{v5Secret},
		Claims: map[string]any{"sub": "user_v5", "email": "v5@example.com", "name": "Vee Five"}, MaxAge: 3600})[0]
	if v5.DecodeError != "" {
		t.Fatalf("@auth/core could not decode its own token: %s", v5.DecodeError)
	}

	cases := []struct {
		name   string
		server *routeAPI
		header http.Header
		want   map[string]string
	}{
		{"chunked v4 cookie", v4, http.Header{"Cookie": {chunked.CookieHeader}}, adaUser},
		{"Auth.js v5 cookie", v5srv, http.Header{"Cookie": {v5.CookieHeader}},
			map[string]string{"id": "user_v5", "email": "v5@example.com", "name": "Vee Five"}},
		{"database session", database, http.Header{"Cookie": {"authjs.session-token=" + dbToken}},
			map[string]string{"id": dbUser, "email": "grace@example.com", "name": "Grace Hopper", "image": "https://example.com/grace.png"}},
		{"API token", v5srv, http.Header{"Authorization": {"Bearer " + tok}}, map[string]string{"id": "svc-billing", "name": "Billing"}},
	}
	batch := []sentEvent{{feedbackSubmitted, `{"rating":3,"page":{"path":"/ids"}}`}, {orderPlaced, `{"orderId":"ord_ids","currency":"EUR","total":3,"items":[{"sku":"pen","quantity":1,"unitPrice":3}]}`}}
	whose := map[string]int{} // event id → case
	answers := make([]string, len(cases))
	for i, tc := range cases {
		tc.header.Set("Idempotency-Key", "one-key-for-all")
		resp := tc.server.sendEvents(t, eventsBody(batch), tc.header)
		if resp.Status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", tc.name, resp.Status, resp.Body)
		}
		answers[i] = string(resp.Body)
		var got sendEventsResponse
		resp.decode(t, &got)
		for _, id := range got.EventIDs {
			if j, ok := whose[id]; ok {
				t.Errorf("%s got the event id %s of %s", tc.name, id, cases[j].name)
			}
			whose[id] = i
		}
	}
	// A repeat gets its own identity's answer back.
	for i, tc := range cases {
		if resp := tc.server.sendEvents(t, eventsBody(batch), tc.header); resp.Status != http.StatusOK || string(resp.Body) != answers[i] {
			t.Errorf("%s repeated: %d %s, want %s", tc.name, resp.Status, resp.Body, answers[i])
		}
	}

	seen := map[string]int{}
	waitFor(t, 30*time.Second, "every identity's events", func() bool {
		seen = map[string]int{}
		for _, name := range []string{feedbackSubmitted, orderPlaced} {
			for _, ev := range inngest.allEvents(t, name) {
				i, ok := whose[ev.ID]
				if !ok {
					continue
				}
				seen[ev.ID]++
				var d eventData
				if err := json.Unmarshal(ev.Data, &d); err != nil {
					t.Fatal(err)
				}
				if !equalMaps(d.User, cases[i].want) {
					t.Errorf("%s: event %s (%s) has user %v, want %v", cases[i].name, ev.ID, name, d.User, cases[i].want)
				}
			}
		}
		return len(seen) == len(whose)
	})
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s (%s) is in the dev server %d times, want once", id, cases[whose[id]].name, n)
		}
	}
}
