package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

// readiness is /readyz's body, the parts these tests read.
type readiness struct {
	Status  string `json:"status"`
	Circuit string `json:"circuit"`
	Spool   struct {
		Available *bool `json:"available"`
		Depth     int   `json:"depth"`
	} `json:"spool"`
}

func scrapeMetrics(t *testing.T, r *routeAPI) string {
	t.Helper()
	resp, err := http.Get(r.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestPostgresSpoolDownStaysReady: with ROUTEAPI_SPOOL=postgres and the
// spool's real PostgreSQL stopped while Inngest is up, requests still get
// 200 with their event in Inngest and /readyz stays 200, reporting
// spool.available false (and routeapi_spool_up 0); with the database back,
// available is true again. Replicas share that database: turning unready
// would take them all out of the load balancer at once.
func TestPostgresSpoolDownStaysReady(t *testing.T) {
	pg := pgtest.Start(t)
	inngest := startInngest(t)
	event := "e2e/spooldown." + randomSuffix()
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{
		"INNGEST_BASE_URL": inngest.URL, "ROUTEAPI_SPOOL": "postgres", "DATABASE_URL": pg.URL,
	})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]

	var ready readiness
	srv.do(t, "GET", "/readyz", "", nil).decode(t, &ready)
	if ready.Spool.Available == nil || !*ready.Spool.Available {
		t.Fatalf("spool up: %+v", ready)
	}
	if m := scrapeMetrics(t, srv); !strings.Contains(m, "routeapi_spool_up 1") {
		t.Errorf("spool up: no routeapi_spool_up 1")
	}

	pg.Stop(t)
	resp := srv.do(t, "GET", "/readyz", "", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("/readyz with the spool database down and Inngest up: %d %s; want 200", resp.Status, resp.Body)
	}
	resp.decode(t, &ready)
	if ready.Spool.Available == nil || *ready.Spool.Available || ready.Circuit != "closed" {
		t.Errorf("/readyz with the spool database down: %s; want spool.available false, circuit closed", resp.Body)
	}
	if m := scrapeMetrics(t, srv); !strings.Contains(m, "routeapi_spool_up 0") {
		t.Errorf("spool down: no routeapi_spool_up 0 in /metrics")
	}
	post := srv.post(t, `{"data":"spool down"}`, cookieHeader(v))
	if post.Status != http.StatusOK {
		t.Fatalf("POST with the spool database down and Inngest up: %d %s; want 200", post.Status, post.Body)
	}
	var body routeResponse
	post.decode(t, &body)
	found := false
	for _, ev := range inngest.waitEvents(t, event, 1) {
		found = found || ev.ID == body.EventID
	}
	if !found {
		t.Errorf("event %s not in Inngest", body.EventID)
	}

	pg.Restart(t)
	waitFor(t, 20*time.Second, "the spool to be available again", func() bool {
		var r readiness
		resp := srv.do(t, "GET", "/readyz", "", nil)
		resp.decode(t, &r)
		return resp.Status == 200 && r.Spool.Available != nil && *r.Spool.Available
	})
}

// TestSIGTERMTurnsUnready: the built binary, sent SIGTERM while a request is
// in flight (held by a stand-in Event API), answers /readyz 503
// shutting-down at once and through ROUTEAPI_SHUTDOWN_DELAY, finishes the
// request with 200, and exits 0.
func TestSIGTERMTurnsUnready(t *testing.T) {
	arrived, release := make(chan struct{}, 4), make(chan struct{})
	standIn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ids":["01JSTANDIN0000000000000000"],"status":200}`)
	}))
	defer standIn.Close()
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free()

	event := "e2e/drain." + randomSuffix()
	srv := startRouteAPI(t, settingsYAML(event, true, 262144), map[string]string{
		"INNGEST_BASE_URL": standIn.URL, "ROUTEAPI_SPOOL_DIR": t.TempDir(),
		"ROUTEAPI_PUBLISH_TIMEOUT": "30s", "ROUTEAPI_SHUTDOWN_DELAY": "2s",
	})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]
	status := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/route", strings.NewReader(`{"data":"in flight"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", v.CookieHeader)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the stand-in Event API")
	}
	if err := srv.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "/readyz 503 shutting-down", func() bool {
		resp := srv.do(t, "GET", "/readyz", "", nil)
		return resp.Status == http.StatusServiceUnavailable && resp.problemType() == "shutting-down"
	})
	free()
	select {
	case code := <-status:
		if code != http.StatusOK {
			t.Errorf("the in-flight request got %d, want 200", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the in-flight request did not finish")
	}
	select {
	case <-srv.proc.done:
		if srv.proc.err != nil {
			t.Errorf("routeapi exited with %v", srv.proc.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("routeapi did not exit")
	}
}
