package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// blackHole is an Event API that records each request's event ids and never
// answers (until the test ends): a publish in flight when its process dies.
type blackHole struct {
	URL  string
	mu   sync.Mutex
	ids  [][]string
	seen chan struct{}
}

func newBlackHole(t *testing.T) *blackHole {
	t.Helper()
	b := &blackHole{seen: make(chan struct{}, 1)}
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var evs []wireEvent
		if err := json.Unmarshal(body, &evs); err == nil {
			ids := make([]string, len(evs))
			for i, e := range evs {
				ids[i] = e.ID
			}
			b.mu.Lock()
			b.ids = append(b.ids, ids)
			b.mu.Unlock()
			select {
			case b.seen <- struct{}{}:
			default:
			}
		}
		<-stop
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	b.URL = srv.URL
	return b
}

// TestSendEventsTakeoverKeepsIDs: a replica dies (SIGKILL) while its keyed
// batch is in flight to Inngest; while the key's lease runs the other
// replica (same PostgreSQL idempotency store) answers the batch 409; once
// the lease ends, it publishes the batch under the ids the dead one used, so
// Inngest can deduplicate whatever of the first request reached it.
func TestSendEventsTakeoverKeepsIDs(t *testing.T) {
	pg := pgtest.Start(t)
	inngest := startInngest(t)
	hole := newBlackHole(t)
	settings := settingsYAML("e2e/route."+randomSuffix(), true, 262144)
	env := map[string]string{"ROUTEAPI_SPOOL": "postgres", "DATABASE_URL": pg.URL, "ROUTEAPI_PUBLISH_TIMEOUT": "2s", "INNGEST_BASE_URL": hole.URL}
	a := startRouteAPI(t, settings, env)
	env["NEXTAUTH_SECRET"], env["INNGEST_BASE_URL"] = a.Secret, inngest.URL
	b := startRouteAPI(t, settings, env)
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: a.Secret, Claims: ada, MaxAge: 3600})[0]

	batch := catalogueBatch()
	body := eventsBody(batch)
	h := cookieHeader(v)
	h.Set("Idempotency-Key", "takeover-"+randomSuffix())
	h.Set("X-Request-Id", "e2e-takeover")
	sent := make(chan struct{})
	go func() {
		// A dies before it answers: the request ends with a broken
		// connection, an error this test expects and ignores.
		defer close(sent)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, a.URL+"/api/events", strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header = h.Clone()
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}()
	select {
	case <-hole.seen:
	case <-time.After(30 * time.Second):
		t.Fatal("A never sent the batch to the Event API")
	}
	a.proc.kill()
	<-sent

	if resp := b.sendEvents(t, body, h); resp.Status != http.StatusConflict || resp.problemType() != "idempotency-key-in-flight" {
		t.Fatalf("while the dead replica's lease runs: %d %s, want 409", resp.Status, resp.Body)
	}
	var got sendEventsResponse
	waitFor(t, 60*time.Second, "the key's lease to end", func() bool {
		resp := b.sendEvents(t, body, h)
		if resp.Status == http.StatusConflict {
			return false
		}
		if resp.Status != http.StatusOK {
			t.Fatalf("after the lease: %d %s, want 200", resp.Status, resp.Body)
		}
		resp.decode(t, &got)
		return true
	})
	hole.mu.Lock()
	first := hole.ids[0]
	hole.mu.Unlock()
	if !slices.Equal(got.EventIDs, first) {
		t.Errorf("the takeover published under %v, the dead replica under %v", got.EventIDs, first)
	}
	checkDelivered(t, inngest, batch, got.EventIDs, got.IDs, "e2e-takeover")
}
