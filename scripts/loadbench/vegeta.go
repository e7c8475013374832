package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// vegetaRequestTimeout bounds each request of an open-loop run; it also
// bounds the workers (rate × timeout: more cannot be in flight while the
// server answers within the timeout, so the bound never closes the loop).
const vegetaRequestTimeout = 10 * time.Second

// vegetaReport is the part of `vegeta report -type=json` (vegeta's
// lib.Metrics, v12.13.0) loadbench reads. Durations are in nanoseconds.
type vegetaReport struct {
	Latencies struct {
		P50 time.Duration `json:"50th"`
		P99 time.Duration `json:"99th"`
		Max time.Duration `json:"max"`
	} `json:"latencies"`
	Duration    time.Duration  `json:"duration"`     // from the first request sent to the last
	Requests    int            `json:"requests"`     // requests sent, each answered or failed (vegeta waits for every one)
	Rate        float64        `json:"rate"`         // requests sent per second: the achieved arrival rate
	StatusCodes map[string]int `json:"status_codes"` // by status; "0" is a request that got no answer (see Errors)
	Errors      []string       `json:"errors"`       // the distinct errors
}

// parseVegeta reads `vegeta report -type=json`.
func parseVegeta(out []byte) (vegetaReport, error) {
	var r vegetaReport
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("vegeta's report: %w", err)
	}
	if r.Requests == 0 {
		return r, errors.New("vegeta's report: no requests")
	}
	return r, nil
}

// ok is the number of 2xx answers.
func (r vegetaReport) ok() int {
	n := 0
	for code, c := range r.StatusCodes {
		if s, err := strconv.Atoi(code); err == nil && s >= 200 && s < 300 {
			n += c
		}
	}
	return n
}

// notOK is the requests without a 2xx answer (other statuses, and no
// answer at all: status 0).
func (r vegetaReport) notOK() int { return r.Requests - r.ok() }

// vegetaRun is one open-loop run: requests sent at a constant rate whatever
// the answers, each on a connection of its own until one is free again.
type vegetaRun struct {
	vegeta   string // the vegeta binary
	dir      string // where the targets and results files go
	url      string
	bodyPath string
	cookie   string
	rate     int // requests per second
	duration time.Duration
}

// targets is the target file (vegeta's http format): the request line, the
// headers, and @ the body file.
func (v vegetaRun) targets() string {
	return "POST " + v.url + "\nContent-Type: application/json\nCookie: " + v.cookie + "\n@" + v.bodyPath + "\n"
}

// run runs `vegeta attack` (bounded: -duration, and a request timeout) and
// `vegeta report -type=json` on its results. The attack is a true open
// loop: vegeta starts a worker for each tick that finds the others busy, up
// to rate × the request timeout (no cap while the server answers in time),
// keeps connections alive and opens as many as it needs; response bodies are
// not kept (-max-body 0).
func (v vegetaRun) run() (vegetaReport, error) {
	targets, results := filepath.Join(v.dir, "targets.http"), filepath.Join(v.dir, "results.bin")
	if err := os.WriteFile(targets, []byte(v.targets()), 0o600); err != nil {
		return vegetaReport{}, fmt.Errorf("write vegeta's targets: %w", err)
	}
	defer func() { _ = os.Remove(results) }()
	ctx, cancel := context.WithTimeout(context.Background(), v.duration+vegetaRequestTimeout+30*time.Second)
	defer cancel()
	maxWorkers := strconv.Itoa(v.rate * int(vegetaRequestTimeout/time.Second))
	attack := exec.CommandContext(ctx, v.vegeta, "attack", //nolint:gosec // G204: the load generator, from the command line
		"-targets", targets, "-output", results,
		"-rate", strconv.Itoa(v.rate)+"/1s", "-duration", v.duration.String(),
		"-timeout", vegetaRequestTimeout.String(), "-max-workers", maxWorkers,
		"-keepalive=true", "-http2=false", "-max-body", "0", "-redirects", "-1")
	if out, err := attack.CombinedOutput(); err != nil {
		return vegetaReport{}, fmt.Errorf("vegeta attack: %w\n%s", err, out)
	}
	report := exec.CommandContext(ctx, v.vegeta, "report", "-type=json", results) //nolint:gosec // G204: as above
	out, err := report.Output()
	if err != nil {
		return vegetaReport{}, fmt.Errorf("vegeta report: %w", err)
	}
	return parseVegeta(out)
}

// rateMissed says, when r's achieved rate or request count fell short of
// the asked rate over the duration by more than 5%, by how much; "" when
// the run kept its rate (an open loop that cannot keep its rate measures
// the load generator, not the server).
func rateMissed(r vegetaReport, rate int, duration time.Duration) string {
	want := float64(rate) * duration.Seconds()
	var miss []string
	if r.Rate < 0.95*float64(rate) {
		miss = append(miss, fmt.Sprintf("sent %.0f/s of %d/s", r.Rate, rate))
	}
	if float64(r.Requests) < 0.95*want {
		miss = append(miss, fmt.Sprintf("%d of %.0f requests", r.Requests, want))
	}
	return strings.Join(miss, ", ")
}
