package metrics

import "github.com/prometheus/client_golang/prometheus"

// Budget is what the admission metrics read (internal/admission.Budget).
type Budget interface {
	// Size is the budget in bytes.
	Size() int64
	// InUse is the bytes leased right now.
	InUse() int64
	// Refused counts the requests refused for want of room.
	Refused() int64
}

// Admission registers the in-flight byte budget's metrics, read at each
// scrape: routeapi_inflight_bytes, routeapi_inflight_bytes_limit and
// routeapi_admission_refused_total (requests answered 503 overloaded).
func (m *Metrics) Admission(b Budget) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "routeapi_inflight_bytes", Help: "Request body bytes leased from the in-flight budget (ROUTEAPI_MAX_INFLIGHT_BYTES).",
		}, func() float64 { return float64(b.InUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "routeapi_inflight_bytes_limit", Help: "The in-flight byte budget (ROUTEAPI_MAX_INFLIGHT_BYTES).",
		}, func() float64 { return float64(b.Size()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "routeapi_admission_refused_total", Help: "Requests refused with 503 overloaded: no room in the in-flight budget within ROUTEAPI_ADMISSION_WAIT.",
		}, func() float64 { return float64(b.Refused()) }),
	)
}
