package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// TestSendEventsKeyAcrossReplicas: two replicas sharing a PostgreSQL
// idempotency store and spool get the same batch under one
// Idempotency-Key from eight requests at once: one publish (every 200 the
// same answer, the rest 409), and the dev server holds each event once,
// with the session's user.
func TestSendEventsKeyAcrossReplicas(t *testing.T) {
	pg := pgtest.Start(t)
	inngest := startInngest(t)
	w := newWire(t, slowInngest(t, inngest.URL, 300*time.Millisecond))
	env := map[string]string{"ROUTEAPI_SPOOL": "postgres", "DATABASE_URL": pg.URL, "ROUTEAPI_PUBLISH_TIMEOUT": "5s", "INNGEST_BASE_URL": w.URL}
	settings := settingsYAML("e2e/route."+randomSuffix(), true, 262144)
	a := startRouteAPI(t, settings, env)
	env["NEXTAUTH_SECRET"] = a.Secret
	b := startRouteAPI(t, settings, env)
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: a.Secret, Claims: ada, MaxAge: 3600})[0]

	batch := catalogueBatch()
	var got sendEventsResponse
	oneAnswer(t, keyedAnswers(t, []*routeAPI{a, b}, (*routeAPI).sendEvents, 8, "replicas-batch-"+randomSuffix(), eventsBody(batch), v,
		http.Header{"X-Request-Id": {"e2e-batch-replicas"}})).decode(t, &got)
	if len(got.EventIDs) != len(batch) || len(got.IDs) != len(batch) {
		t.Fatalf("answer %+v, want %d ids of each kind", got, len(batch))
	}
	checkDelivered(t, inngest, batch, got.EventIDs, got.IDs, "e2e-batch-replicas")
	onWire, sends := w.sent()
	if len(onWire) != len(batch) || sends != 1 {
		t.Errorf("routeapi sent %d events in %d Event API requests, want the batch's %d in one", len(onWire), sends, len(batch))
	}
}

// TestSendEventsQueuedAcrossRestart: a batch answered 202 (Inngest down)
// whose replica stops before delivering it is delivered by the next process
// on the same spool, every event once with its answered id: a bolt spool
// (the same directory) and a PostgreSQL spool (both replicas stopped, a
// new one started).
func TestSendEventsQueuedAcrossRestart(t *testing.T) {
	for _, store := range []string{"bolt", "postgres"} {
		t.Run(store, func(t *testing.T) {
			inngest := startInngest(t)
			g := newGate(t, inngest.URL)
			env := map[string]string{"INNGEST_BASE_URL": g.URL(), "ROUTEAPI_PUBLISH_TIMEOUT": "1s",
				"ROUTEAPI_RETRY_MIN_BACKOFF": "50ms", "ROUTEAPI_RETRY_MAX_BACKOFF": "500ms",
				"ROUTEAPI_BREAKER_COOLDOWN": "200ms", "ROUTEAPI_SPOOL_POLL": "100ms"}
			if store == "bolt" {
				env["ROUTEAPI_SPOOL_DIR"] = filepath.Join(t.TempDir(), "spool")
			} else {
				env["ROUTEAPI_SPOOL"], env["DATABASE_URL"] = "postgres", pgtest.Start(t).URL
			}
			settings := settingsYAML("e2e/route."+randomSuffix(), true, 262144)
			srv := startRouteAPI(t, settings, env)
			v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

			g.down(t)
			inngest.proc.stop(t)
			batch := catalogueBatch()
			h := cookieHeader(v)
			h.Set("X-Request-Id", "e2e-queued-restart")
			h.Set("Idempotency-Key", "queued-restart")
			resp := srv.sendEvents(t, eventsBody(batch), h)
			if resp.Status != http.StatusAccepted {
				t.Fatalf("with Inngest down: status %d, want 202: %s", resp.Status, resp.Body)
			}
			var answer sendEventsResponse
			resp.decode(t, &answer)
			if !answer.Queued || len(answer.EventIDs) != len(batch) {
				t.Fatalf("with Inngest down: %s", resp.Body)
			}
			srv.proc.stop(t)

			restarted := startInngest(t)
			g.retarget(t, restarted.URL)
			g.up(t)
			env["NEXTAUTH_SECRET"] = srv.Secret
			srv = startRouteAPI(t, settings, env)
			// The replay after the restart is the recorded 202, same ids.
			again := srv.sendEvents(t, eventsBody(batch), h)
			if again.Status != http.StatusAccepted || strings.TrimSpace(string(again.Body)) != strings.TrimSpace(string(resp.Body)) {
				t.Errorf("replay after the restart: %d %s, want %s", again.Status, again.Body, resp.Body)
			}
			checkDelivered(t, restarted, batch, answer.EventIDs, nil, "e2e-queued-restart")
		})
	}
}
