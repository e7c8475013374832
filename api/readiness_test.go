package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/spool"
)

func decodeReadiness(t *testing.T, body []byte) gen.Readiness {
	t.Helper()
	var r gen.Readiness
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("decode /readyz: %v: %s", err, body)
	}
	return r
}

// switchableDelivery is a DeliveryState whose spool and circuit the test sets.
type switchableDelivery struct {
	mu    sync.Mutex
	stats spool.Stats
	err   error
	state delivery.State
}

func (d *switchableDelivery) set(st spool.Stats, err error, state delivery.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats, d.err, d.state = st, err, state
}

func (d *switchableDelivery) Stats(context.Context) (spool.Stats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats, d.err
}

func (d *switchableDelivery) State() delivery.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// TestReadyzSpoolDown: an unreadable spool keeps the instance ready while
// the circuit is closed, says available: false and keeps the last figures
// read; once the circuit opens it is unready (spool-unavailable); when the
// spool answers again it is available with fresh figures.
func TestReadyzSpoolDown(t *testing.T) {
	d := &switchableDelivery{}
	d.set(spool.Stats{Depth: 4, Dead: 2}, nil, delivery.Closed)
	h := newHarness(t, options{delivery: d})
	get := request{method: "GET", path: "/readyz"}

	rec := h.serve(t, get)
	r := decodeReadiness(t, rec.Body.Bytes())
	if rec.Code != 200 || r.Spool.Available == nil || !*r.Spool.Available || r.Spool.Depth != 4 {
		t.Fatalf("spool up: %d %s", rec.Code, rec.Body)
	}

	d.set(spool.Stats{}, errors.New("spool stats: dial tcp 127.0.0.1:5432: connection refused"), delivery.Closed)
	rec = h.serve(t, get)
	r = decodeReadiness(t, rec.Body.Bytes())
	if rec.Code != 200 || r.Spool.Available == nil || *r.Spool.Available || r.Spool.Depth != 4 || r.Spool.DeadLetters != 2 {
		t.Fatalf("spool down, circuit closed: %d %s; want 200, available false, the last figures (depth 4, 2 dead)", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "5432") {
		t.Errorf("the spool's error leaked into /readyz: %s", rec.Body)
	}

	for _, st := range []delivery.State{delivery.Open, delivery.HalfOpen} {
		d.set(spool.Stats{}, errors.New("spool stats: connection refused"), st)
		rec = h.serve(t, get)
		if p := decodeProblem(t, rec); rec.Code != 503 || p.Type != "urn:routeapi:problem:spool-unavailable" {
			t.Errorf("spool down, circuit %s: %d %s; want 503 spool-unavailable", st, rec.Code, rec.Body)
		}
	}

	if n := strings.Count(h.logs.String(), "the spool cannot be read"); n != 1 {
		t.Errorf("logged the spool outage %d times over several probes, want once:\n%s", n, h.logs.String())
	}

	d.set(spool.Stats{Depth: 1}, nil, delivery.Open)
	rec = h.serve(t, get)
	r = decodeReadiness(t, rec.Body.Bytes())
	if rec.Code != 200 || !*r.Spool.Available || r.Spool.Depth != 1 || r.Circuit != gen.Open {
		t.Errorf("spool back, circuit open: %d %s; want 200 (events are queued)", rec.Code, rec.Body)
	}
	if !strings.Contains(h.logs.String(), "the spool can be read again") {
		t.Errorf("the recovery is not logged:\n%s", h.logs.String())
	}
}

// TestReadyzShuttingDown: from the moment the process starts to stop,
// /readyz answers 503 shutting-down; the route itself still answers.
func TestReadyzShuttingDown(t *testing.T) {
	var stopping atomic.Bool
	h := newHarness(t, options{shuttingDown: stopping.Load})
	if rec := h.serve(t, request{method: "GET", path: "/readyz"}); rec.Code != 200 {
		t.Fatalf("before: %d %s", rec.Code, rec.Body)
	}
	stopping.Store(true)
	rec := h.serve(t, request{method: "GET", path: "/readyz"})
	p := decodeProblem(t, rec)
	if rec.Code != 503 || p.Type != "urn:routeapi:problem:shutting-down" || rec.Header().Get("Retry-After") == "" {
		t.Errorf("shutting down: %d %s; want 503 shutting-down with Retry-After", rec.Code, rec.Body)
	}
	if rec := h.serve(t, request{body: `{"data":1}`, cookies: []*http.Cookie{cookieFor(t, adaClaims)}}); rec.Code != 200 {
		t.Errorf("the route while draining: %d %s; want 200 (requests in flight and late ones finish)", rec.Code, rec.Body)
	}
	if rec := h.serve(t, request{method: "GET", path: "/healthz"}); rec.Code != 200 {
		t.Errorf("/healthz while draining: %d", rec.Code)
	}
}

// writableSettings is a settings file path in a fresh directory and a func that
// writes content to it.
func writableSettings(t *testing.T) (path string, write func(content string)) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "settings.yaml")
	return path, func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadyzSettingsState: a broken edit keeps the instance ready on the
// last good settings and shows the error (key and line) and its time; a
// fixed file clears it.
func TestReadyzSettingsState(t *testing.T) {
	path, write := writableSettings(t)
	now := time.Date(2026, 11, 30, 21, 4, 5, 0, time.UTC)
	store := settings.NewStore(path, nil).WithClock(func() time.Time { return now })
	write("route:\n  event: shop/one\n")
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, options{store: store})
	get := request{method: "GET", path: "/readyz"}

	r := decodeReadiness(t, h.serve(t, get).Body.Bytes())
	if r.Settings == nil || !r.Settings.LoadedAt.Equal(now) || r.Settings.LastError != nil || r.Settings.ReloadFailures != 0 {
		t.Fatalf("after a good load: %+v", r.Settings)
	}

	loaded := now
	now = now.Add(time.Minute)
	write("route:\n  event: shop/one\n  enabeld: false\n")
	if err := store.Reload(); err == nil {
		t.Fatal("a misspelled key loaded")
	}
	rec := h.serve(t, get)
	r = decodeReadiness(t, rec.Body.Bytes())
	if rec.Code != 200 || r.Settings == nil || r.Settings.LastError == nil {
		t.Fatalf("after a broken edit: %d %s; want 200 with the error", rec.Code, rec.Body)
	}
	msg := *r.Settings.LastError
	for _, want := range []string{path, "line 3", "route.enabeld", "did you mean enabled"} {
		if !strings.Contains(msg, want) {
			t.Errorf("lastError %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "struct {") || strings.Contains(msg, "*bool") {
		t.Errorf("lastError %q prints Go types", msg)
	}
	if !r.Settings.LoadedAt.Equal(loaded) || r.Settings.LastErrorAt == nil || !r.Settings.LastErrorAt.Equal(now) || r.Settings.ReloadFailures != 1 {
		t.Errorf("after a broken edit: %+v; want loadedAt %s, lastErrorAt %s, 1 failure", r.Settings, loaded, now)
	}

	now = now.Add(time.Minute)
	write("route:\n  event: shop/two\n")
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
	r = decodeReadiness(t, h.serve(t, get).Body.Bytes())
	if r.Settings.LastError != nil || r.Settings.LastErrorAt != nil || !r.Settings.LoadedAt.Equal(now) || r.Settings.ReloadFailures != 1 {
		t.Errorf("after the fix: %+v", r.Settings)
	}
}

// TestReadyzNoSettingsSaysWhy: before any settings file has loaded (a
// misspelled key, a file the process cannot read), /readyz answers 503
// settings-unavailable with the reason in its detail; a good file makes it
// ready.
func TestReadyzNoSettingsSaysWhy(t *testing.T) {
	path, write := writableSettings(t)
	store := settings.NewStore(path, nil)
	get := request{method: "GET", path: "/readyz"}
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"a misspelled key", "route:\n  event: shop/one\n  enabeld: true\n", []string{path, "line 3", "route.enabeld", "did you mean enabled"}},
		{"no file", "", []string{path, "no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.content != "" {
				write(tc.content)
			} else {
				_ = os.Remove(path)
			}
			if err := store.Reload(); err == nil {
				t.Fatal("the settings loaded")
			}
			h := newHarness(t, options{store: store})
			rec := h.serve(t, get)
			p := decodeProblem(t, rec)
			if rec.Code != 503 || p.Type != "urn:routeapi:problem:settings-unavailable" || p.Detail == nil {
				t.Fatalf("no settings: %d %s; want 503 settings-unavailable with a detail", rec.Code, rec.Body)
			}
			for _, w := range tc.want {
				if !strings.Contains(*p.Detail, w) {
					t.Errorf("detail %q does not say %q", *p.Detail, w)
				}
			}
			// Probes repeat every few seconds: their 503 is logged at INFO,
			// never as an ERROR line per probe.
			if logs := h.logs.String(); strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, `"problem":"settings-unavailable"`) {
				t.Errorf("probe logged at ERROR, or not at all:\n%s", logs)
			}
		})
	}
	write("route:\n  event: shop/one\n")
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
	if rec := newHarness(t, options{store: store}).serve(t, get); rec.Code != 200 {
		t.Errorf("after a good file: %d %s", rec.Code, rec.Body)
	}
}

// TestProblemLogLevels: refusals that are the caller's business (4xx) or an
// operator's choice (route switched off, shutting down) are logged below
// ERROR; ERROR is kept for what an operator must act on.
func TestProblemLogLevels(t *testing.T) {
	ada := cookieFor(t, adaClaims)
	var stopping atomic.Bool
	stopping.Store(true)
	for _, tc := range []struct {
		name      string
		opts      options
		req       request
		wantLevel string
	}{
		{"401 no session", options{}, request{body: `{"data":1}`}, "INFO"},
		{"400 bad body", options{}, request{body: `{"nodata":1}`, cookies: []*http.Cookie{ada}}, "INFO"},
		{"503 route disabled", options{settings: fakeSettings{s: settings.Settings{Route: settings.Route{Enabled: false, Event: "x", MaxBodyBytes: 1024}}}},
			request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, "INFO"},
		{"503 shutting down", options{shuttingDown: stopping.Load}, request{method: "GET", path: "/readyz"}, "INFO"},
		{"503 settings unavailable", options{settings: fakeSettings{err: settings.ErrUnavailable}}, request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, "ERROR"},
		{"500 internal", options{pub: &fakePublisher{err: errors.New("boom")}}, request{body: `{"data":1}`, cookies: []*http.Cookie{ada}}, "ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts)
			rec := h.serve(t, tc.req)
			if rec.Code < 400 {
				t.Fatalf("status %d", rec.Code)
			}
			var found bool
			for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
				var rec struct{ Level, Msg, Problem string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if rec.Problem == "" {
					continue
				}
				found = true
				if rec.Level != tc.wantLevel {
					t.Errorf("problem %s logged at %s, want %s", rec.Problem, rec.Level, tc.wantLevel)
				}
			}
			if !found {
				t.Errorf("no problem logged: %s", h.logs.String())
			}
		})
	}
}
