package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// slowInngest is a reverse proxy to the dev server that holds every Event
// API request for delay, so that concurrent requests overlap the first.
func slowInngest(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/e/") {
			time.Sleep(delay)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// keyedAnswers sends n identical requests with one key at once, spread
// over srvs, and returns the answers. send is the operation
// ((*routeAPI).post for POST /api/route, (*routeAPI).sendEvents); each
// request carries the session of v, the key and the fields of extra.
func keyedAnswers(t *testing.T, srvs []*routeAPI, send func(*routeAPI, *testing.T, string, http.Header) response,
	n int, key, body string, v nextauthmint.Vector, extra http.Header) []response {
	t.Helper()
	out := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			h := cookieHeader(v)
			for name, values := range extra {
				h[name] = values
			}
			h.Set("Idempotency-Key", key)
			out[i] = send(srvs[i%len(srvs)], t, body, h)
		})
	}
	wg.Wait()
	return out
}

// oneAnswer checks concurrent answers for one key: every 200 is the same
// answer, byte for byte (the first is returned), the rest are 409 with
// Retry-After; there must be both (fatal otherwise: the caller's checks
// need the answer).
func oneAnswer(t *testing.T, answers []response) response {
	t.Helper()
	var first *response
	ok, busy := 0, 0
	for i, a := range answers {
		switch a.Status {
		case http.StatusOK:
			if first != nil && string(a.Body) != string(first.Body) {
				t.Errorf("two 200 answers differ: %s, %s", first.Body, a.Body)
			}
			if first == nil {
				first = &answers[i]
			}
			ok++
		case http.StatusConflict:
			if a.problemType() != "idempotency-key-in-flight" || a.Header.Get("Retry-After") == "" {
				t.Errorf("409 %s without Retry-After %q", a.Body, a.Header.Get("Retry-After"))
			}
			busy++
		default:
			t.Errorf("status %d: %s", a.Status, a.Body)
		}
	}
	if ok == 0 || busy == 0 {
		t.Fatalf("%d answers 200 and %d 409, want both (the Event API is held for a while)", ok, busy)
	}
	return *first
}

// checkOneEvent is oneAnswer for POST /api/route: the one event id.
func checkOneEvent(t *testing.T, answers []response) string {
	t.Helper()
	var r routeResponse
	oneAnswer(t, answers).decode(t, &r)
	return r.EventID
}

// countIDs counts events per id once a sentinel sent after the others, and
// every id in want, have arrived. The dev server stores events
// asynchronously and not always in the order it received them, so the
// sentinel alone does not prove that what was sent before it is stored;
// together they bound the wait for duplicates and for the expected events.
func countIDs(t *testing.T, srv *routeAPI, inngest *inngestDev, event string, v nextauthmint.Vector, want ...string) map[string]int {
	t.Helper()
	resp := srv.post(t, `{"data":"sentinel"}`, cookieHeader(v))
	if resp.Status != http.StatusOK {
		t.Fatalf("sentinel: %d %s", resp.Status, resp.Body)
	}
	var s routeResponse
	resp.decode(t, &s)
	counts := map[string]int{}
	waitFor(t, 30*time.Second, "the sentinel and the expected events", func() bool {
		counts = map[string]int{}
		for _, e := range inngest.allEvents(t, event) {
			counts[e.ID]++
		}
		for _, id := range want {
			if counts[id] == 0 {
				return false
			}
		}
		return counts[s.EventID] == 1
	})
	delete(counts, s.EventID)
	return counts
}

// TestIdempotencyKeyAcrossRestart: N concurrent identical requests with one
// key make one event in the dev server, every 2xx with its id and the rest
// 409; the key reused with other data is refused with 422 and makes no
// event; after a restart (same bolt spool) the same holds.
func TestIdempotencyKeyAcrossRestart(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/idemkey." + randomSuffix()
	env := map[string]string{"INNGEST_BASE_URL": slowInngest(t, inngest.URL, 300*time.Millisecond),
		"ROUTEAPI_SPOOL_DIR": filepath.Join(t.TempDir(), "spool"), "ROUTEAPI_PUBLISH_TIMEOUT": "5s"}
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), env)
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]
	const key = "2b7e1516-28ae-4d2a-a6d2-8a1f5e2c9b01"

	id := checkOneEvent(t, keyedAnswers(t, []*routeAPI{srv}, (*routeAPI).post, 8, key, `{"data":{"amount":10}}`, v, nil))
	reused := func(srv *routeAPI) {
		h := cookieHeader(v)
		h.Set("Idempotency-Key", key)
		resp := srv.post(t, `{"data":{"amount":99999}}`, h)
		if resp.Status != http.StatusUnprocessableEntity || resp.problemType() != "idempotency-key-reused" || !strings.Contains(string(resp.Body), key) {
			t.Errorf("reused key: %d %s, want 422 idempotency-key-reused naming the key", resp.Status, resp.Body)
		}
	}
	replayed := func(srv *routeAPI) {
		h := cookieHeader(v)
		h.Set("Idempotency-Key", key)
		resp := srv.post(t, `{"data":{"amount":10}}`, h)
		var r routeResponse
		if resp.Status == http.StatusOK {
			resp.decode(t, &r)
		}
		if resp.Status != http.StatusOK || r.EventID != id {
			t.Errorf("repeat: %d %s, want 200 with event id %s", resp.Status, resp.Body, id)
		}
	}
	reused(srv)
	replayed(srv)

	srv.proc.stop(t)
	env["NEXTAUTH_SECRET"] = srv.Secret
	srv = startRouteAPI(t, settingsYAML(event, true, 262144), env)
	reused(srv)
	replayed(srv)

	if counts := countIDs(t, srv, inngest, event, v, id); len(counts) != 1 || counts[id] != 1 {
		t.Errorf("events in Inngest by id: %v, want one, %s", counts, id)
	}
}

// TestIdempotencyKeyAcrossReplicas: two replicas on one PostgreSQL spool
// share the keys: concurrent requests spread over both make one event; a
// key used on A and reused with other data on B is refused.
func TestIdempotencyKeyAcrossReplicas(t *testing.T) {
	pg := pgtest.Start(t)
	inngest := startInngest(t)
	event := "e2e/idemreplicas." + randomSuffix()
	env := map[string]string{"ROUTEAPI_SPOOL": "postgres", "DATABASE_URL": pg.URL, "ROUTEAPI_PUBLISH_TIMEOUT": "5s",
		"INNGEST_BASE_URL": slowInngest(t, inngest.URL, 300*time.Millisecond)}
	a := startRouteAPI(t, settingsYAML(event, true, 262144), env)
	env["NEXTAUTH_SECRET"] = a.Secret
	b := startRouteAPI(t, settingsYAML(event, true, 262144), env)
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: a.Secret, Claims: ada, MaxAge: 3600})[0]

	id := checkOneEvent(t, keyedAnswers(t, []*routeAPI{a, b}, (*routeAPI).post, 8, "replicas-key-1", `{"data":[1,2]}`, v, nil))

	h := cookieHeader(v)
	h.Set("Idempotency-Key", "replicas-key-2")
	first := a.post(t, `{"data":"on A"}`, h)
	if first.Status != http.StatusOK {
		t.Fatalf("on A: %d %s", first.Status, first.Body)
	}
	var fa routeResponse
	first.decode(t, &fa)
	if resp := b.post(t, `{"data":"on B"}`, h); resp.Status != http.StatusUnprocessableEntity || resp.problemType() != "idempotency-key-reused" {
		t.Errorf("reused on B: %d %s, want 422", resp.Status, resp.Body)
	}
	again := b.post(t, `{"data":"on A"}`, h)
	var fb routeResponse
	if again.Status == http.StatusOK {
		again.decode(t, &fb)
	}
	if again.Status != http.StatusOK || fb.EventID != fa.EventID || strings.Join(fb.IDs, ",") != strings.Join(fa.IDs, ",") {
		t.Errorf("repeat on B: %d %s, want A's answer %s", again.Status, again.Body, first.Body)
	}

	counts := countIDs(t, a, inngest, event, v, id, fa.EventID)
	if len(counts) != 2 || counts[id] != 1 || counts[fa.EventID] != 1 {
		t.Errorf("events in Inngest by id: %v, want %s and %s once each", counts, id, fa.EventID)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory (root only:
// CI runs as root) and unmounts it at the end of the test.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if out, err := exec.Command("mkdir", "-p", dir).CombinedOutput(); err != nil {
		t.Fatalf("mkdir: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a %s tmpfs (the test needs root): %v %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fullDisk is routeapi on a bolt spool on a 4 MiB tmpfs with a 1 MiB
// free-space reserve, publishing through a gate to a real Inngest dev server,
// and a session for ada. The gate starts down: every accepted event stays in
// the spool until the test raises it.
type fullDisk struct {
	inngest *inngestDev
	gate    *gate
	event   string // a fresh event name
	srv     *routeAPI
	ada     nextauthmint.Vector
}

// startFullDisk starts a fullDisk whose event name is eventPrefix plus a
// random suffix. Short timeouts and backoffs let the spool drain within the
// test's waits once the gate is up.
func startFullDisk(t *testing.T, eventPrefix string) fullDisk {
	t.Helper()
	dir := mountTmpfs(t, "4m")
	inngest := startInngest(t)
	g := newGate(t, inngest.URL)
	g.down(t)
	event := eventPrefix + randomSuffix()
	env := map[string]string{"INNGEST_BASE_URL": g.URL(), "ROUTEAPI_SPOOL_DIR": dir, "ROUTEAPI_SPOOL_MIN_FREE_BYTES": "1048576",
		"ROUTEAPI_PUBLISH_TIMEOUT": "1s", "ROUTEAPI_BREAKER_COOLDOWN": "200ms", "ROUTEAPI_SPOOL_POLL": "100ms",
		"ROUTEAPI_RETRY_MIN_BACKOFF": "50ms", "ROUTEAPI_RETRY_MAX_BACKOFF": "500ms"}
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), env)
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]
	return fullDisk{inngest: inngest, gate: g, event: event, srv: srv, ada: v}
}

// TestFullDiskSpoolDrains: the bolt spool on a small tmpfs with Inngest
// down fills up to its free-space reserve, then new events get 503 (with
// Retry-After) and /readyz and /metrics show it. When Inngest is back every
// acknowledged event is delivered, exactly once, and the spool takes
// events (202) again.
func TestFullDiskSpoolDrains(t *testing.T) {
	fd := startFullDisk(t, "e2e/fulldisk.")
	inngest, g, event, srv, v := fd.inngest, fd.gate, fd.event, fd.srv, fd.ada
	pad := strings.Repeat("x", 16<<10)

	acked := map[string]bool{}
	refused := false
	for i := range 1000 { // 4 MiB holds a couple of hundred 16 KiB events at most
		resp := srv.post(t, fmt.Sprintf(`{"data":{"n":%d,"pad":%q}}`, i, pad), cookieHeader(v))
		if resp.Status == http.StatusServiceUnavailable {
			if resp.problemType() != "spool-full" || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("503 %s, Retry-After %q: want spool-full with Retry-After", resp.Body, resp.Header.Get("Retry-After"))
			}
			refused = true
			break
		}
		if resp.Status != http.StatusAccepted {
			t.Fatalf("request %d with Inngest down: %d %s", i, resp.Status, resp.Body)
		}
		var r routeResponse
		resp.decode(t, &r)
		acked[r.EventID] = true
	}
	if !refused || len(acked) < 10 {
		t.Fatalf("%d events acknowledged, refused %v: want some, then a 503", len(acked), refused)
	}
	t.Logf("%d events acknowledged before the reserve was reached", len(acked))
	if resp := srv.do(t, http.MethodGet, "/readyz", "", nil); resp.Status != http.StatusServiceUnavailable || resp.problemType() != "spool-full" {
		t.Errorf("/readyz at the reserve: %d %s, want 503 spool-full", resp.Status, resp.Body)
	}
	if m := srv.do(t, http.MethodGet, "/metrics", "", nil); !strings.Contains(string(m.Body), "routeapi_spool_writes_refused 1") {
		t.Errorf("/metrics does not show the refused writes")
	}

	g.up(t) // Inngest is back
	checkExactlyOnce(t, inngest, event, acked, 90*time.Second)
	waitFor(t, 30*time.Second, "/readyz to answer 200 again", func() bool {
		return srv.do(t, http.MethodGet, "/readyz", "", nil).Status == http.StatusOK
	})
	if m := srv.do(t, http.MethodGet, "/metrics", "", nil); !strings.Contains(string(m.Body), "routeapi_spool_writes_refused 0") {
		t.Errorf("/metrics still shows refused writes")
	}

	// The spool takes events again: Inngest down once more, 202.
	g.down(t)
	resp := srv.post(t, fmt.Sprintf(`{"data":{"after":true,"pad":%q}}`, pad), cookieHeader(v))
	if resp.Status != http.StatusAccepted {
		t.Fatalf("after draining, with Inngest down: %d %s, want 202", resp.Status, resp.Body)
	}
	var r routeResponse
	resp.decode(t, &r)
	acked[r.EventID] = true
	g.up(t)
	checkExactlyOnce(t, inngest, event, acked, 60*time.Second)
}
