package loadrig

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// OneShot is an HTTP client that closes each connection after its request
// (Connection: close), so that a probe or a scrape leaves no connection
// open for WaitIdle to wait for.
var OneShot = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// requestsMetric is routeapi's counter of answered requests, by route
// pattern, method and status (internal/metrics): incremented once the
// handler has returned, so once the server holds no open connection
// (WaitIdle) it counts every request the server answered, including those a
// load generator stopped waiting for.
const requestsMetric = "routeapi_http_requests_total"

// Answered is what routeapi says it answered on one route and method: the
// number of requests by status code.
type Answered map[int]int

// OK is the number of 2xx answers.
func (a Answered) OK() int {
	n := 0
	for code, c := range a {
		if code >= 200 && code < 300 {
			n += c
		}
	}
	return n
}

// Sub is a minus b, code by code (the answers between two scrapes).
func (a Answered) Sub(b Answered) Answered {
	d := Answered{}
	for code, c := range a {
		if c -= b[code]; c != 0 {
			d[code] = c
		}
	}
	return d
}

// ScrapeAnswered reads routeapi's /metrics at base (one GET, 5 s at most)
// and returns routeapi_http_requests_total of route (a chi pattern, e.g.
// "/api/route") and method by status.
func ScrapeAnswered(base, route, method string) (Answered, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s/metrics: %w", base, err)
	}
	resp, err := OneShot.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s/metrics: %w", base, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s/metrics: status %d", base, resp.StatusCode)
	}
	return parseAnswered(resp.Body, route, method)
}

// parseAnswered reads the Prometheus text format (expfmt).
func parseAnswered(r io.Reader, route, method string) (Answered, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse the metrics: %w", err)
	}
	out := Answered{}
	fam, ok := families[requestsMetric]
	if !ok {
		return out, nil // nothing answered yet
	}
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["route"] != route || labels["method"] != method {
			continue
		}
		code, err := strconv.Atoi(labels["status"])
		if err != nil {
			return nil, fmt.Errorf("%s: status %q: %w", requestsMetric, labels["status"], err)
		}
		out[code] += int(m.GetCounter().GetValue())
	}
	return out, nil
}
