package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/deadaddr"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// gate is a reverse proxy in front of the Inngest dev server that the test
// can take down (its listener closed after the requests in flight finish,
// so routeapi's next connection is refused, as with a stopped server) and
// bring up again on the same address, in front of the same or a new dev
// server. routeapi only ever sees the gate's address, so the dev server
// process can be stopped and a new one started (on another port) while the
// gate is down. It counts Event API requests and events.
type gate struct {
	addr     string
	target   *url.URL
	mu       sync.Mutex
	srv      *http.Server
	requests atomic.Int64
	events   atomic.Int64
}

func newGate(t *testing.T, target string) *gate {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	// The first listener is on port 0, so the gate's address is its own from
	// the start; only a later up re-opens that address (after down), which is
	// what these tests need: routeapi keeps one INNGEST_BASE_URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{addr: ln.Addr().String(), target: u}
	g.serve(ln)
	t.Cleanup(func() { g.down(t) })
	return g
}

func (g *gate) URL() string { return "http://" + g.addr }

// up listens on the gate's address again after down and serves on it.
func (g *gate) up(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	waitFor(t, 10*time.Second, "the gate's port", func() bool {
		ln, err = net.Listen("tcp", g.addr)
		return err == nil
	})
	g.serve(ln)
}

// serve proxies to the current target on ln, counting Event API requests.
func (g *gate) serve(ln net.Listener) {
	g.mu.Lock()
	target := g.target
	g.mu.Unlock()
	proxy := httputil.NewSingleHostReverseProxy(target)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/e/") {
			body, _ := io.ReadAll(r.Body)
			var evs []json.RawMessage
			_ = json.Unmarshal(body, &evs)
			g.requests.Add(1)
			g.events.Add(int64(len(evs)))
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			r.ContentLength = int64(len(body))
		}
		proxy.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	g.mu.Lock()
	g.srv = srv
	g.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// retarget points the gate at another dev server; it applies at the next up.
func (g *gate) retarget(t *testing.T, target string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	g.target = u
	g.mu.Unlock()
}

func (g *gate) down(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	srv := g.srv
	g.srv = nil
	g.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("gate shutdown: %v", err)
	}
}

// allEvents lists every event named name, paging through /v1/events.
func (d *inngestDev) allEvents(t *testing.T, name string) []receivedEvent {
	t.Helper()
	var out []receivedEvent
	seen := map[string]bool{}
	cursor := ""
	for range 200 {
		u := d.URL + "/v1/events?limit=50&name=" + url.QueryEscape(name)
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		var page struct {
			Data []receivedEvent `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		fresh := 0
		for _, e := range page.Data {
			if !seen[e.InternalID] {
				seen[e.InternalID] = true
				out = append(out, e)
				fresh++
			}
		}
		if len(page.Data) == 0 || fresh == 0 {
			return out
		}
		cursor = page.Data[len(page.Data)-1].InternalID
	}
	t.Fatal("more than 200 pages of events")
	return nil
}

// checkExactlyOnce waits until the dev server lists every id in want, then
// checks that none is listed more than once.
func checkExactlyOnce(t *testing.T, d *inngestDev, name string, want map[string]bool, timeout time.Duration) {
	t.Helper()
	checkExactlyOnceAcross(t, nil, d, name, want, timeout)
}

// checkExactlyOnceAcross is checkExactlyOnce for events that reached two dev
// servers: earlier, what a stopped one had received, and d, the one running now.
func checkExactlyOnceAcross(t *testing.T, earlier []receivedEvent, d *inngestDev, name string, want map[string]bool, timeout time.Duration) {
	t.Helper()
	var rows map[string]int
	deadline := time.Now().Add(timeout)
	for {
		rows = map[string]int{}
		for _, e := range append(append([]receivedEvent(nil), earlier...), d.allEvents(t, name)...) {
			rows[e.ID]++
		}
		missing := 0
		for id := range want {
			if rows[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d of %d acknowledged events never reached Inngest", timeout, missing, len(want))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for id, n := range rows {
		if n > 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
		if !want[id] {
			t.Errorf("event %s delivered but never acknowledged", id)
		}
	}
}

// postRaw sends one request without the spec check (for load loops) and
// returns the status and the body's eventId.
func postRaw(client *http.Client, u, cookie, data string) (int, string, []string, error) {
	req, _ := http.NewRequest(http.MethodPost, u+"/api/route", strings.NewReader(`{"data":`+data+`}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", cookie)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	var body struct {
		EventID string   `json:"eventId"`
		IDs     []string `json:"ids"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.EventID, body.IDs, nil
}

// TestOutageUnderLoad: Inngest goes down during a bounded load and comes
// back. No request gets a 5xx; every request answered 200 or 202 has its
// event in Inngest exactly once by id.
func TestOutageUnderLoad(t *testing.T) {
	inngest := startInngest(t)
	g := newGate(t, inngest.URL)
	event := "e2e/outage." + randomSuffix()
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{
		"INNGEST_BASE_URL": g.URL(), "ROUTEAPI_PUBLISH_TIMEOUT": "2s",
		"ROUTEAPI_RETRY_MIN_BACKOFF": "50ms", "ROUTEAPI_RETRY_MAX_BACKOFF": "500ms",
		"ROUTEAPI_BREAKER_COOLDOWN": "200ms", "ROUTEAPI_SPOOL_POLL": "100ms"})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	var (
		mu       sync.Mutex
		acked    = map[string]bool{}
		statuses = map[int]int{}
		stop     atomic.Bool
		wg       sync.WaitGroup
		sent     atomic.Int64
	)
	client := &http.Client{Timeout: 20 * time.Second}
	const workers, maxRequests = 8, 3000
	for w := range workers {
		wg.Go(func() {
			for i := 0; !stop.Load() && sent.Add(1) <= maxRequests; i++ {
				status, id, _, err := postRaw(client, srv.URL, v.CookieHeader, fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
				mu.Lock()
				if err != nil {
					statuses[-1]++
				} else {
					statuses[status]++
				}
				if status == 200 || status == 202 {
					acked[id] = true
				}
				mu.Unlock()
			}
		})
	}
	phase := func(d time.Duration) {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) && sent.Load() < maxRequests {
			time.Sleep(20 * time.Millisecond)
		}
	}
	phase(time.Second)
	// Inngest goes away: the gate stops forwarding (after the requests in
	// flight), then the dev server process itself is stopped. What it had
	// received is read first: the dev server keeps events in memory only.
	g.down(t)
	var before []receivedEvent
	waitFor(t, 20*time.Second, "the first dev server to list every event forwarded to it", func() bool {
		before = inngest.allEvents(t, event)
		return int64(len(before)) == g.events.Load()
	})
	inngest.proc.stop(t)
	phase(2 * time.Second)
	// While Inngest is down, readiness reports a draining spool.
	var ready struct {
		Circuit string `json:"circuit"`
		Spool   struct {
			Draining bool `json:"draining"`
			Depth    int  `json:"depth"`
		} `json:"spool"`
	}
	srv.do(t, http.MethodGet, "/readyz", "", nil).decode(t, &ready)
	if !ready.Spool.Draining || ready.Spool.Depth == 0 {
		t.Errorf("readyz during the outage: %+v, want a draining spool", ready)
	}
	// A new dev server comes up behind the same address.
	inngest = startInngest(t)
	g.retarget(t, inngest.URL)
	g.up(t)
	phase(time.Second)
	stop.Store(true)
	wg.Wait()

	t.Logf("statuses: %v, acknowledged: %d, Event API requests: %d for %d events", statuses, len(acked), g.requests.Load(), g.events.Load())
	if statuses[202] == 0 || statuses[200] == 0 {
		t.Errorf("statuses %v: want both 200 (Inngest up) and 202 (queued while down)", statuses)
	}
	for s, n := range statuses {
		if s < 200 || s >= 300 {
			t.Errorf("%d requests answered %d", n, s)
		}
	}
	if len(before) == 0 {
		t.Error("the first dev server received no event before it was stopped")
	}
	checkExactlyOnceAcross(t, before, inngest, event, acked, 60*time.Second)
	waitFor(t, 20*time.Second, "an empty spool", func() bool {
		srv.do(t, http.MethodGet, "/readyz", "", nil).decode(t, &ready)
		return ready.Spool.Depth == 0 && ready.Circuit == "closed"
	})
}

// TestKill9WithSpooledEvents: events spooled while Inngest is stopped survive
// kill -9 of routeapi; restarted (and Inngest started again), routeapi
// delivers each exactly once.
func TestKill9WithSpooledEvents(t *testing.T) {
	event := "e2e/kill9." + randomSuffix()
	spoolDir := t.TempDir()
	dead := deadaddr.Reserve(t) // nothing listens here, nor can for the test's duration: connection refused
	env := map[string]string{"INNGEST_BASE_URL": "http://" + dead, "ROUTEAPI_SPOOL_DIR": spoolDir, "ROUTEAPI_PUBLISH_TIMEOUT": "1s"}
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), env)
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	acked := map[string]bool{}
	for i := range 20 {
		resp := srv.post(t, fmt.Sprintf(`{"data":%d}`, i), cookieHeader(v))
		if resp.Status != http.StatusAccepted {
			t.Fatalf("with Inngest down: status %d: %s", resp.Status, resp.Body)
		}
		var body struct {
			EventID string `json:"eventId"`
			Queued  bool   `json:"queued"`
		}
		resp.decode(t, &body)
		if !body.Queued {
			t.Fatalf("202 without queued: %s", resp.Body)
		}
		acked[body.EventID] = true
	}
	if err := srv.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.proc.done

	// The spool outlives the process.
	out := runCLI(t, srv, env, "spool", "stats")
	if !strings.Contains(out, "depth: 20") {
		t.Fatalf("spool stats after kill -9:\n%s", out)
	}

	inngest := startInngest(t)
	env["INNGEST_BASE_URL"] = inngest.URL
	env["NEXTAUTH_SECRET"] = srv.Secret
	startRouteAPI(t, settingsYAML(event, true, 262144), env)
	checkExactlyOnce(t, inngest, event, acked, 60*time.Second)
}

// runCLI runs `routeapi args...` with srv's settings and env and returns its output.
func runCLI(t *testing.T, srv *routeAPI, env map[string]string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t, "ROUTEAPI_BIN"), args...)
	cmd.Env = []string{"NEXTAUTH_SECRET=" + srv.Secret, "INNGEST_DEV=1", "ROUTEAPI_SETTINGS=" + srv.SettingsPath, "ROUTEAPI_LOG_FORMAT=text"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("routeapi %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDeadLettersAndReplay: an Event API that answers 400 sends the event to
// the dead letters (202, logged, counted); `routeapi spool replay` sends it
// again, here to the real dev server.
func TestDeadLettersAndReplay(t *testing.T) {
	var calls atomic.Int64
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"status":400,"error":"event name is reserved"}`)
	}))
	defer refusing.Close()
	event := "e2e/dead." + randomSuffix()
	env := map[string]string{"INNGEST_BASE_URL": refusing.URL, "ROUTEAPI_SPOOL_DIR": filepath.Join(t.TempDir(), "spool")}
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), env)
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	resp := srv.post(t, `{"data":"refused"}`, cookieHeader(v))
	if resp.Status != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	var body routeResponse
	resp.decode(t, &body)
	if calls.Load() != 1 {
		t.Errorf("the Event API got %d requests, want 1 (a 4xx is not retried)", calls.Load())
	}
	// The log line travels through a pipe: wait for it.
	waitFor(t, 10*time.Second, "the dead letter in the log", func() bool {
		return strings.Contains(srv.proc.logs.String(), "dead letters")
	})
	metrics := srv.do(t, http.MethodGet, "/metrics", "", nil)
	for _, want := range []string{"routeapi_dead_lettered_events_total 1", "routeapi_spool_dead_letters 1",
		`routeapi_http_requests_total{method="POST",route="/api/route",status="202"} 1`, "routeapi_circuit_state 0",
		"routeapi_publish_batch_size_count", "routeapi_http_request_duration_seconds_bucket"} {
		if !strings.Contains(string(metrics.Body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	srv.proc.stop(t)

	if out := runCLI(t, srv, env, "spool", "stats"); !strings.Contains(out, "dead_letters: 1") || !strings.Contains(out, "depth: 0") {
		t.Fatalf("spool stats:\n%s", out)
	}
	if out := runCLI(t, srv, env, "spool", "dead"); !strings.Contains(out, body.EventID) || !strings.Contains(out, "reserved") {
		t.Errorf("spool dead:\n%s", out)
	}
	inngest := startInngest(t)
	env["INNGEST_BASE_URL"] = inngest.URL
	out := runCLI(t, srv, env, "spool", "replay")
	if !strings.Contains(out, "replayed: 1") || !strings.Contains(out, "delivered: 1") {
		t.Fatalf("spool replay:\n%s", out)
	}
	checkExactlyOnce(t, inngest, event, map[string]bool{body.EventID: true}, 15*time.Second)
	if out := runCLI(t, srv, env, "spool", "stats"); !strings.Contains(out, "dead_letters: 0") || !strings.Contains(out, "depth: 0") {
		t.Errorf("spool stats after replay:\n%s", out)
	}
}

// TestPostgresSpoolSharedByReplicas: two routeapi processes share one
// PostgreSQL spool. One cannot reach Inngest and spools every event; the
// other, which can, drains them.
func TestPostgresSpoolSharedByReplicas(t *testing.T) {
	pg := pgtest.Start(t)
	inngest := startInngest(t)
	event := "e2e/replicas." + randomSuffix()
	common := map[string]string{"ROUTEAPI_SPOOL": "postgres", "DATABASE_URL": pg.URL, "ROUTEAPI_SPOOL_POLL": "100ms",
		"ROUTEAPI_RETRY_MIN_BACKOFF": "50ms", "ROUTEAPI_RETRY_MAX_BACKOFF": "200ms", "ROUTEAPI_PUBLISH_TIMEOUT": "1s"}
	envA := map[string]string{"INNGEST_BASE_URL": "http://" + deadaddr.Reserve(t)} // connection refused
	for k, v := range common {
		envA[k] = v
	}
	a := startRouteAPI(t, settingsYAML(event, true, 262144), envA)
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: a.Secret, Claims: ada, MaxAge: 3600})[0]

	acked := map[string]bool{}
	for i := range 15 {
		resp := a.post(t, fmt.Sprintf(`{"data":%d}`, i), cookieHeader(v))
		if resp.Status != http.StatusAccepted {
			t.Fatalf("replica A: status %d: %s", resp.Status, resp.Body)
		}
		var body routeResponse
		resp.decode(t, &body)
		acked[body.EventID] = true
	}

	envB := map[string]string{"INNGEST_BASE_URL": inngest.URL, "NEXTAUTH_SECRET": a.Secret}
	for k, v := range common {
		envB[k] = v
	}
	startRouteAPI(t, settingsYAML(event, true, 262144), envB)
	checkExactlyOnce(t, inngest, event, acked, 60*time.Second)
	if out := runCLI(t, a, envA, "spool", "stats"); !strings.Contains(out, "depth: 0") {
		t.Errorf("spool stats (run while both replicas are up):\n%s", out)
	}
}

// TestBatching: concurrent requests share Event API requests, and each
// caller gets the Inngest id of its own event.
func TestBatching(t *testing.T) {
	inngest := startInngest(t)
	g := newGate(t, inngest.URL)
	event := "e2e/batch." + randomSuffix()
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{
		"INNGEST_BASE_URL": g.URL(), "ROUTEAPI_BATCH_LINGER": "20ms"})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	const n = 64
	type answer struct {
		status int
		id     string
		ids    []string
		err    error
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	client := &http.Client{Timeout: 20 * time.Second}
	for i := range n {
		wg.Go(func() {
			<-start
			s, id, ids, err := postRaw(client, srv.URL, v.CookieHeader, fmt.Sprint(i))
			answers[i] = answer{s, id, ids, err}
		})
	}
	close(start)
	wg.Wait()
	want := map[string]bool{}
	for i, a := range answers {
		if a.err != nil || a.status != http.StatusOK || len(a.ids) != 1 {
			t.Fatalf("request %d: %d %v %v", i, a.status, a.ids, a.err)
		}
		want[a.id] = true
	}
	if reqs := g.requests.Load(); reqs >= n {
		t.Errorf("%d concurrent requests made %d Event API requests, want fewer", n, reqs)
	} else {
		t.Logf("%d concurrent requests made %d Event API requests", n, reqs)
	}
	checkExactlyOnce(t, inngest, event, want, 15*time.Second)
	internal := map[string]string{}
	for _, e := range inngest.allEvents(t, event) {
		internal[e.ID] = e.InternalID
	}
	for i, a := range answers {
		if internal[a.id] != a.ids[0] {
			t.Errorf("request %d: answered id %s, Inngest's id for its event %s is %s", i, a.ids[0], a.id, internal[a.id])
		}
	}
}

// TestGracefulShutdown: SIGTERM during a load lets the requests in flight
// finish; routeapi exits cleanly, and every request it answered 200 or 202
// has its event in Inngest once (202s after a restart on the same spool).
func TestGracefulShutdown(t *testing.T) {
	inngest := startInngest(t)
	event := "e2e/shutdown." + randomSuffix()
	env := map[string]string{"INNGEST_BASE_URL": inngest.URL, "ROUTEAPI_SPOOL_DIR": t.TempDir()}
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), env)
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		bad   []string
		wg    sync.WaitGroup
		n     atomic.Int64
	)
	client := &http.Client{Timeout: 20 * time.Second}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; i < 500; i++ {
				status, id, _, err := postRaw(client, srv.URL, v.CookieHeader, fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
				if err != nil {
					return // the listener is closed: never answered, nothing promised
				}
				n.Add(1)
				mu.Lock()
				if status == 200 || status == 202 {
					acked[id] = true
				} else {
					bad = append(bad, fmt.Sprint(status))
				}
				mu.Unlock()
			}
		})
	}
	waitFor(t, 20*time.Second, "some answered requests", func() bool { return n.Load() >= 100 })
	if err := srv.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.proc.done:
	case <-time.After(20 * time.Second):
		t.Fatal("routeapi did not stop within 20s of SIGTERM")
	}
	wg.Wait()
	if srv.proc.err != nil {
		t.Errorf("routeapi exited with %v on SIGTERM", srv.proc.err)
	}
	if len(bad) > 0 {
		t.Errorf("answers other than 200/202 during shutdown: %v", bad)
	}
	env["NEXTAUTH_SECRET"] = srv.Secret
	startRouteAPI(t, settingsYAML(event, true, 262144), env) // delivers whatever stayed in the spool
	checkExactlyOnce(t, inngest, event, acked, 60*time.Second)
}
