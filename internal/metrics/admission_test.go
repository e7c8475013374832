package metrics_test

import (
	"context"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/admission"
	"github.com/routeapi/routeapi/internal/metrics"
)

// TestAdmissionMetrics: the budget's size, use and refusals at scrape time.
func TestAdmissionMetrics(t *testing.T) {
	b, err := admission.New(1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(nil)
	m.Admission(b)
	l, _ := b.Acquire(context.Background(), 600)
	defer l.Release()
	_, _ = b.Acquire(context.Background(), 500) // refused
	out := scrape(t, m)
	for _, want := range []string{
		"routeapi_inflight_bytes 600\n",
		"routeapi_inflight_bytes_limit 1000\n",
		"routeapi_admission_refused_total 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the scrape", strings.TrimSpace(want))
		}
	}
}
