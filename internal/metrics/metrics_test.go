package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/diskspace"
	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/metrics"
	"github.com/routeapi/routeapi/internal/spool"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestMetrics(t *testing.T) {
	oldest := time.Now().Add(-90 * time.Second)
	m := metrics.New(func(context.Context) (spool.Stats, error) {
		return spool.Stats{Depth: 7, Oldest: oldest, Dead: 2, Disk: diskspace.Status{Free: 1000, Min: 4096, Low: true}}, nil
	})
	r := chi.NewRouter()
	r.Use(observed(m))
	r.Post("/api/route", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	for _, path := range []string{"/api/route", "/api/route", "/nope"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, nil))
	}
	m.Sent(3, 2*time.Millisecond, nil)
	m.Sent(1, time.Second, fmt.Errorf("x: %w", inngest.ErrRejected))
	m.Sent(1, time.Second, errors.Join(inngest.ErrUnavailable))
	m.Spooled("circuit-open", 4)
	m.Delivered(5)
	m.DeadLettered(1)
	m.Circuit(delivery.Open)

	out := scrape(t, m)
	for _, want := range []string{
		`routeapi_http_requests_total{method="POST",route="/api/route",status="202"} 2`,
		`routeapi_http_requests_total{method="POST",route="other",status="404"} 1`,
		`routeapi_http_request_duration_seconds_count{method="POST",route="/api/route"} 2`,
		`routeapi_publish_duration_seconds_count{outcome="ok"} 1`,
		`routeapi_publish_duration_seconds_count{outcome="rejected"} 1`,
		`routeapi_publish_duration_seconds_count{outcome="unavailable"} 1`,
		`routeapi_publish_batch_size_sum 5`,
		`routeapi_spooled_events_total{reason="circuit-open"} 4`,
		`routeapi_spool_delivered_events_total 5`,
		`routeapi_dead_lettered_events_total 1`,
		`routeapi_circuit_state 1`,
		`routeapi_spool_depth 7`,
		`routeapi_spool_dead_letters 2`,
		`routeapi_spool_disk_free_bytes 1000`,
		`routeapi_spool_disk_reserve_bytes 4096`,
		`routeapi_spool_writes_refused 1`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	var age float64
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "routeapi_spool_oldest_age_seconds "); ok {
			_, _ = fmt.Sscan(v, &age)
		}
	}
	if age < 89 || age > 600 {
		t.Errorf("oldest age %v, want about 90s", age)
	}
}

// observed hands each answered request to m, as the api server's access log does.
func observed(m *metrics.Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			m.ObserveRequest(r, ww.Status(), time.Millisecond)
		})
	}
}
