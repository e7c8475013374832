// Package metrics holds routeapi's Prometheus metrics and serves them.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/inngest"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/spool"
)

// Metrics are routeapi's metrics, in their own registry.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	publish      *prometheus.HistogramVec
	batchSize    prometheus.Histogram
	spooled      *prometheus.CounterVec
	delivered    prometheus.Counter
	deadLettered prometheus.Counter
	circuit      prometheus.Gauge
}

// The delivery package reports to Metrics: the Publisher and the
// Deliverer (delivery.Metrics) and the Sender (delivery.Observer).
var (
	_ delivery.Metrics  = (*Metrics)(nil)
	_ delivery.Observer = (*Metrics)(nil)
)

// New registers the metrics. stats (may be nil) is read at each scrape for
// the spool gauges.
func New(stats func(context.Context) (spool.Stats, error)) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routeapi_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "routeapi_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		publish: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "routeapi_publish_duration_seconds", Help: "Event API request latency by outcome (ok, rejected, unavailable, timeout).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"outcome"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "routeapi_publish_batch_size", Help: "Events per Event API request.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 100},
		}),
		spooled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routeapi_spooled_events_total", Help: "Events written to the spool, by reason (unavailable, timeout, circuit-open, shutting-down).",
		}, []string{"reason"}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "routeapi_spool_delivered_events_total", Help: "Spooled events Inngest accepted.",
		}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "routeapi_dead_lettered_events_total", Help: "Events Inngest refused (4xx), moved to the dead letters.",
		}),
		circuit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "routeapi_circuit_state", Help: "The Inngest circuit breaker: 0 closed, 1 open, 2 half-open.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.publish, m.batchSize, m.spooled, m.delivered, m.deadLettered, m.circuit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if stats != nil {
		m.reg.MustRegister(&spoolCollector{stats: stats})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Sent records one Event API request, labelled by its outcome
// (inngest.Classify: ok, rejected, unavailable, timeout).
func (m *Metrics) Sent(n int, d time.Duration, err error) {
	m.publish.WithLabelValues(inngest.Classify(err).String()).Observe(d.Seconds())
	m.batchSize.Observe(float64(n))
}

// Spooled counts events written to the spool.
func (m *Metrics) Spooled(reason string, n int) { m.spooled.WithLabelValues(reason).Add(float64(n)) }

// Delivered counts spooled events delivered.
func (m *Metrics) Delivered(n int) { m.delivered.Add(float64(n)) }

// DeadLettered counts events moved to the dead letters.
func (m *Metrics) DeadLettered(n int) { m.deadLettered.Add(float64(n)) }

// Circuit records the breaker's state.
func (m *Metrics) Circuit(s delivery.State) { m.circuit.Set(float64(s)) }

// spoolCollector reads the spool's stats at scrape time.
type spoolCollector struct {
	stats func(context.Context) (spool.Stats, error)
}

var (
	depthDesc  = prometheus.NewDesc("routeapi_spool_depth", "Events waiting in the spool.", nil, nil)
	oldestDesc = prometheus.NewDesc("routeapi_spool_oldest_age_seconds", "Age of the oldest event waiting in the spool (0 when empty).", nil, nil)
	deadDesc   = prometheus.NewDesc("routeapi_spool_dead_letters", "Dead letters in the spool.", nil, nil)
	freeDesc   = prometheus.NewDesc("routeapi_spool_disk_free_bytes",
		"Disk space the bolt spool can still use: free on its file system plus free pages in its file (0 for PostgreSQL).", nil, nil)
	reserveDesc = prometheus.NewDesc("routeapi_spool_disk_reserve_bytes",
		"The bolt spool's free-space reserve (ROUTEAPI_SPOOL_MIN_FREE_BYTES; 0: off or PostgreSQL).", nil, nil)
	refusedDesc = prometheus.NewDesc("routeapi_spool_writes_refused",
		"1 while free disk space is at or below the reserve: new events and Idempotency-Keys are refused with 503.", nil, nil)
	spoolUpDesc = prometheus.NewDesc("routeapi_spool_up",
		"1 when the spool answered at this scrape, 0 when it cannot be read (e.g. its PostgreSQL database is down; the other spool gauges are then absent).", nil, nil)
)

func (c *spoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
	ch <- deadDesc
	ch <- freeDesc
	ch <- reserveDesc
	ch <- refusedDesc
	ch <- spoolUpDesc
}

func (c *spoolCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		// The spool (e.g. its PostgreSQL database) cannot be read: say so and
		// leave the other gauges out rather than fail the whole scrape.
		ch <- prometheus.MustNewConstMetric(spoolUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(spoolUpDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(st.Depth))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, st.OldestAge(time.Now()).Seconds())
	ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, float64(st.Dead))
	ch <- prometheus.MustNewConstMetric(freeDesc, prometheus.GaugeValue, float64(st.Disk.Free))
	ch <- prometheus.MustNewConstMetric(reserveDesc, prometheus.GaugeValue, float64(st.Disk.Min))
	refused := 0.0
	if st.Disk.Low {
		refused = 1
	}
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.GaugeValue, refused)
}

// WatchSettings exports the settings store's state, read at each scrape:
// failed reloads, when the settings in force were loaded, and whether the
// last load failed.
func (m *Metrics) WatchSettings(state func() settings.State) {
	m.reg.MustRegister(&settingsCollector{state: state})
}

var (
	settingsFailuresDesc = prometheus.NewDesc("routeapi_settings_reload_failures_total",
		"Failed loads of the settings file since start (a broken version counts once).", nil, nil)
	settingsLoadedDesc = prometheus.NewDesc("routeapi_settings_last_success_timestamp_seconds",
		"Unix time at which the settings in force were loaded (absent while none has loaded).", nil, nil)
	settingsFailingDesc = prometheus.NewDesc("routeapi_settings_last_reload_failed",
		"1 while the last load of the settings file failed (the last good settings stay in force), else 0.", nil, nil)
)

// settingsCollector reads the settings store's state at scrape time.
type settingsCollector struct {
	state func() settings.State
}

func (c *settingsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- settingsFailuresDesc
	ch <- settingsLoadedDesc
	ch <- settingsFailingDesc
}

func (c *settingsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.state()
	ch <- prometheus.MustNewConstMetric(settingsFailuresDesc, prometheus.CounterValue, float64(st.Failures))
	if !st.LoadedAt.IsZero() {
		ch <- prometheus.MustNewConstMetric(settingsLoadedDesc, prometheus.GaugeValue, float64(st.LoadedAt.UnixNano())/1e9)
	}
	failing := 0.0
	if st.LastError != "" {
		failing = 1
	}
	ch <- prometheus.MustNewConstMetric(settingsFailingDesc, prometheus.GaugeValue, failing)
}
