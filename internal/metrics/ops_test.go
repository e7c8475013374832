package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/metrics"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/spool"
)

// TestSpoolUp: an unreadable spool shows as routeapi_spool_up 0 and the
// scrape itself still succeeds (the other metrics stay visible).
func TestSpoolUp(t *testing.T) {
	var down atomic.Bool
	m := metrics.New(func(context.Context) (spool.Stats, error) {
		if down.Load() {
			return spool.Stats{}, errors.New("connection refused")
		}
		return spool.Stats{Depth: 3}, nil
	})
	if out := scrape(t, m); !strings.Contains(out, "routeapi_spool_up 1") || !strings.Contains(out, "routeapi_spool_depth 3") {
		t.Errorf("spool up:\n%s", grep(out, "routeapi_spool"))
	}
	down.Store(true)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	out := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(out, "routeapi_spool_up 0") || strings.Contains(out, "routeapi_spool_depth ") {
		t.Errorf("spool down: %d\n%s", rec.Code, grep(out, "routeapi_spool"))
	}
	if !strings.Contains(out, "routeapi_circuit_state") {
		t.Error("spool down: the other metrics are gone")
	}
}

// TestSettingsMetrics: failed reloads are counted, the time of the last good
// load is exported, and a failing last load is flagged.
func TestSettingsMetrics(t *testing.T) {
	loaded := time.Date(2026, 11, 30, 21, 4, 5, 0, time.UTC)
	var st atomic.Pointer[settings.State]
	st.Store(&settings.State{LoadedAt: loaded})
	m := metrics.New(nil)
	m.WatchSettings(func() settings.State { return *st.Load() })
	out := scrape(t, m)
	for _, want := range []string{"routeapi_settings_reload_failures_total 0", "routeapi_settings_last_success_timestamp_seconds 1.796072645e+09", "routeapi_settings_last_reload_failed 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("good settings: no %q in\n%s", want, grep(out, "routeapi_settings"))
		}
	}
	st.Store(&settings.State{LoadedAt: loaded, LastError: "line 3: route.enabeld: unknown key", LastErrorAt: loaded.Add(time.Minute), Failures: 2})
	out = scrape(t, m)
	for _, want := range []string{"routeapi_settings_reload_failures_total 2", "routeapi_settings_last_success_timestamp_seconds 1.796072645e+09", "routeapi_settings_last_reload_failed 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("broken edit: no %q in\n%s", want, grep(out, "routeapi_settings"))
		}
	}
	st.Store(&settings.State{})
	if out := scrape(t, m); strings.Contains(out, "routeapi_settings_last_success_timestamp_seconds ") {
		t.Errorf("never loaded: a last-success time is exported:\n%s", grep(out, "routeapi_settings"))
	}
}

func grep(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
