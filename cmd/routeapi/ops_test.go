package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/testkit/logbuf"
)

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDrainTurnsUnready: once serve begins to stop, /readyz answers 503
// shutting-down at once, while a request already in flight (held by a
// stand-in Event API) finishes with 200; then serve returns cleanly.
func TestDrainTurnsUnready(t *testing.T) {
	arrived := make(chan struct{}, 16)
	release := make(chan struct{})
	var sent atomic.Int64
	inngest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/e/") {
			http.NotFound(w, r)
			return
		}
		var evs []json.RawMessage
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &evs); err != nil {
			evs = []json.RawMessage{body}
		}
		arrived <- struct{}{}
		<-release
		sent.Add(int64(len(evs)))
		ids := make([]string, len(evs))
		for i := range ids {
			ids[i] = "01JEVENT" + string(rune('A'+i))
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ids": ids, "status": 200})
	}))
	defer inngest.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	dir := t.TempDir()
	settingsPath := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settingsPath, []byte("route:\n  event: test/drain\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const secret = "drain-test-secret"
	logs := &logbuf.Buffer{}
	// The app on a listener of the test's own: nothing can take the port
	// between choosing and serving it.
	cfg, err := config.Load(env(map[string]string{
		"NEXTAUTH_SECRET": secret, "INNGEST_DEV": "1",
		"INNGEST_BASE_URL": inngest.URL, "ROUTEAPI_SETTINGS": settingsPath,
		"ROUTEAPI_SPOOL_DIR": filepath.Join(dir, "spool"), "ROUTEAPI_PUBLISH_TIMEOUT": "20s",
		"ROUTEAPI_SHUTDOWN_DELAY": "1s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(ctx, cfg, newLogger(cfg, logs))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	readyz := func() (int, string) {
		resp, err := probeClient.Get(base + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for code, _ := readyz(); code != 200; code, _ = readyz() {
		if time.Now().After(deadline) {
			t.Fatal("not ready after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	tok, err := session.Encode(secret, map[string]any{"sub": "u1", "email": "u1@example.com"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code int
		err  error
	}
	inFlight := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/route", strings.NewReader(`{"data":"in flight"}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: tok})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inFlight <- answer{err: err}
			return
		}
		resp.Body.Close()
		inFlight <- answer{code: resp.StatusCode}
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the stand-in Event API")
	}

	cancel() // what SIGTERM does
	deadline = time.Now().Add(5 * time.Second)
	for {
		code, body := readyz()
		if code == http.StatusServiceUnavailable && strings.Contains(body, "urn:routeapi:problem:shutting-down") {
			break
		}
		if code == 200 && time.Now().After(deadline) {
			t.Fatalf("/readyz still %d %s 5s into the drain", code, body)
		}
		if code == 0 {
			t.Fatalf("/readyz unreachable during the shutdown delay: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case a := <-inFlight:
		t.Fatalf("the in-flight request ended before it was released: %+v", a)
	default:
	}
	close(release)
	select {
	case a := <-inFlight:
		if a.err != nil || a.code != 200 {
			t.Errorf("in-flight request: %d %v; want 200", a.code, a.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the in-flight request did not finish")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return")
	}
	if sent.Load() != 1 {
		t.Errorf("the stand-in Event API got %d events, want 1", sent.Load())
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", logs.String())
	}
}

// TestVersion: version prints the module version and the VCS revision from
// the build info, "unknown" when the build has none.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"routeapi", "version"}, env(nil), &out, io.Discard); err != nil {
		t.Fatalf("version: %v", err)
	}
	if !strings.HasPrefix(out.String(), "routeapi ") {
		t.Errorf("version printed %q", out.String())
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/routeapi/routeapi", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "8da6d40a9a05"}, {Key: "vcs.time", Value: "2026-11-30T22:08:40Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionLine(bi), "routeapi v1.2.3 8da6d40a9a05-dirty 2026-11-30T22:08:40Z go1.26.8"; got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	if got, want := versionLine(&debug.BuildInfo{GoVersion: "go1.26.8"}), "routeapi (devel) unknown unknown go1.26.8"; got != want {
		t.Errorf("versionLine without VCS = %q, want %q", got, want)
	}
	if err := run(context.Background(), []string{"routeapi", "version", "extra"}, env(nil), &out, io.Discard); err == nil {
		t.Error("version with an argument: want a usage error")
	}
}

// TestSpoolStatsNeedsNoSecrets: spool stats reads only the spool's variables.
func TestSpoolStatsNeedsNoSecrets(t *testing.T) {
	var out, errOut bytes.Buffer
	vars := map[string]string{"ROUTEAPI_SPOOL_DIR": t.TempDir()}
	if err := run(context.Background(), []string{"routeapi", "spool", "stats"}, env(vars), &out, &errOut); err != nil {
		t.Fatalf("spool stats without NEXTAUTH_SECRET or INNGEST_EVENT_KEY: %v", err)
	}
	if !strings.Contains(out.String(), "depth: 0") {
		t.Errorf("spool stats printed %q", out.String())
	}
	vars["ROUTEAPI_SPOOL_MAX_EVENTS"] = "many"
	if err := run(context.Background(), []string{"routeapi", "spool", "stats"}, env(vars), &out, &errOut); err == nil || !strings.Contains(err.Error(), "ROUTEAPI_SPOOL_MAX_EVENTS") {
		t.Errorf("a bad spool variable: %v; want an error naming it", err)
	}
	// replay sends events: it asks for the Inngest variables, never a session secret.
	delete(vars, "ROUTEAPI_SPOOL_MAX_EVENTS")
	err := run(context.Background(), []string{"routeapi", "spool", "replay"}, env(vars), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "INNGEST_EVENT_KEY") || strings.Contains(err.Error(), "NEXTAUTH_SECRET") {
		t.Errorf("spool replay without Inngest settings: %v; want INNGEST_EVENT_KEY only", err)
	}
}

// TestHealthcheck: healthcheck asks the configured address (an unspecified
// host means loopback) and succeeds only on 200.
func TestHealthcheck(t *testing.T) {
	status := atomic.Int64{}
	status.Store(200)
	var asked atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.URL.Path)
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(`{"status":"ready"}`))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	check := func(vars map[string]string, args ...string) error {
		var out bytes.Buffer
		return run(context.Background(), append([]string{"routeapi", "healthcheck"}, args...), env(vars), &out, io.Discard)
	}
	if err := check(map[string]string{"PORT": port}); err != nil || asked.Load() != "/readyz" {
		t.Errorf("healthcheck via PORT: %v (asked %v)", err, asked.Load())
	}
	if err := check(map[string]string{"ROUTEAPI_ADDR": "0.0.0.0:" + port}, "--path", "/healthz"); err != nil || asked.Load() != "/healthz" {
		t.Errorf("healthcheck via ROUTEAPI_ADDR 0.0.0.0, --path /healthz: %v (asked %v)", err, asked.Load())
	}
	status.Store(503)
	if err := check(map[string]string{"PORT": port}); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("healthcheck of a 503: %v; want an error with the status", err)
	}
	closed := freeLoopbackAddr(t)
	if err := check(map[string]string{"ROUTEAPI_ADDR": closed}); err == nil {
		t.Error("healthcheck of a closed port: want an error")
	}
	if err := check(map[string]string{"PORT": port}, "--path", "readyz"); err == nil {
		t.Error("healthcheck --path without a slash: want a usage error")
	}
	for in, want := range map[string]string{":8390": "127.0.0.1:8390", "0.0.0.0:1": "127.0.0.1:1", "[::]:2": "[::1]:2", "10.0.0.5:3": "10.0.0.5:3"} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDevModeListensOnLoopback: ROUTEAPI_DEV=1 with only PORT listens on
// 127.0.0.1 (not on the machine's other addresses) and says so at start-up.
func TestDevModeListensOnLoopback(t *testing.T) {
	dir := t.TempDir()
	settingsPath := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settingsPath, []byte("route:\n  event: test/dev\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &logbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"routeapi"}, env(map[string]string{
			"PORT": "0", "ROUTEAPI_DEV": "1", "INNGEST_DEV": "1", "INNGEST_BASE_URL": "http://127.0.0.1:1",
			"ROUTEAPI_SETTINGS": settingsPath, "ROUTEAPI_SPOOL_DIR": filepath.Join(dir, "spool"),
		}), io.Discard, logs)
	}()
	// PORT=0: the kernel picks the port, which the listening line tells.
	host, port, _ := net.SplitHostPort(listeningAddr(t, logs, done))
	if host != "127.0.0.1" {
		t.Errorf("dev mode with PORT listens on %s, want 127.0.0.1", host)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := probeClient.Get("http://127.0.0.1:" + port + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not listening on 127.0.0.1:%s after 10s: %v\n%s", port, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "listening on loopback only (127.0.0.1:0)") || !strings.Contains(logs.String(), "ROUTEAPI_ADDR") {
		t.Errorf("no start-up line about loopback and ROUTEAPI_ADDR:\n%s", logs.String())
	}
	// Another address of this machine, if it has one, must not answer.
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.To4() == nil {
			continue
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), port), time.Second); err == nil {
			c.Close()
			t.Errorf("dev mode answers on %s:%s", ipn.IP, port)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return")
	}
}
