package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/routeapi/routeapi/scripts/internal/loadrig"
)

// scenario is one target under one load shape.
type scenario struct {
	target  string // targetNoop, targetRouteAPI or targetOriginal
	conns   int    // closed loop: connections
	payload int    // bytes: the body of POST /api/route, each event's data of POST /api/events
	// events is the number of catalogue events of a POST /api/events body
	// (sendEvents); 0 is POST /api/route.
	events int
}

// path is the endpoint the scenario posts to.
func (sc scenario) path() string {
	if sc.events > 0 {
		return "/api/events"
	}
	return "/api/route"
}

// body is the request body.
func (sc scenario) body() string {
	if sc.events > 0 {
		return eventsBody(sc.events, sc.payload)
	}
	return loadrig.Body(sc.payload)
}

// perRequest is the number of events a 2xx produces.
func (sc scenario) perRequest() int { return max(sc.events, 1) }

// closedScenarios are the closed loop's scenarios: the three
// targets at 64 connections and 1 KiB first, then routeapi by connections,
// payload and endpoint (quick: the smoke's four).
func closedScenarios(quick bool) []scenario {
	const kib = 1 << 10
	s := []scenario{
		{targetNoop, 64, kib, 0}, {targetOriginal, 64, kib, 0}, {targetRouteAPI, 64, kib, 0},
	}
	if !quick {
		s = append(s,
			scenario{targetRouteAPI, 1, kib, 0}, scenario{targetRouteAPI, 256, kib, 0},
			scenario{targetRouteAPI, 64, 64 * kib, 0}, scenario{targetRouteAPI, 64, 256 * kib, 0},
			scenario{targetNoop, 64, 256 * kib, 0},
			scenario{targetRouteAPI, 64, kib, 1})
	}
	return append(s, scenario{targetRouteAPI, 64, kib, 10})
}

// closedResult is one closed-loop scenario's figures.
type closedResult struct {
	scenario
	wrk     wrkSummary
	peakRSS int64         // bytes, the server's process tree (loadrig.TreePeakRSS)
	cpu     time.Duration // the server's CPU time during the run
	wall    time.Duration // the run's wall time, as the harness timed it
	events  eventsCheck
}

// cpuShare is the server's CPU time over the run's wall time (1 = one core).
func (r closedResult) cpuShare() float64 { return float64(r.cpu) / float64(r.wall) }

// cpuPerRequest is the server's CPU time per answered request.
func (r closedResult) cpuPerRequest() time.Duration {
	if r.wrk.Requests == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.wrk.Requests)
}

// closedLoop runs each scenario against a fresh process of its target.
func (b *bench) closedLoop(scenarios []scenario) ([]closedResult, error) {
	var out []closedResult
	for _, sc := range scenarios {
		r, err := b.closedOne(sc)
		if err != nil {
			return nil, fmt.Errorf("closed loop, %s %s, %d connections, %s: %w", sc.target, sc.path(), sc.conns, size(sc.payload), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// closedOne starts the target, checks one request, runs wrk for the
// duration, reads the server's CPU time and peak RSS, waits until it has
// answered every request wrk sent, and checks the events.
func (b *bench) closedOne(sc scenario) (closedResult, error) {
	r := closedResult{scenario: sc}
	t, err := b.starter.start(sc.target)
	if err != nil {
		return r, err
	}
	defer t.stop()
	bodyPath := filepath.Join(b.rig.Dir, "body.json")
	if err := os.WriteFile(bodyPath, []byte(sc.body()), 0o600); err != nil {
		return r, fmt.Errorf("write the body: %w", err)
	}
	script, err := writeWrkScript(b.rig.Dir, bodyPath, b.rig.Cookie)
	if err != nil {
		return r, err
	}
	run := func(d time.Duration) (wrkSummary, error) {
		return wrkRun{wrk: *flagWrk, url: t.base + sc.path(), script: script, conns: sc.conns, duration: d}.run()
	}
	// wrk drops the requests in flight at its end: up to one per connection.
	var m measured
	r.wrk, m, r.events, err = runLoad(b, t, sc, run, *flagDuration, sc.conns)
	r.cpu, r.wall, r.peakRSS = m.cpu, m.wall, m.peakRSS
	return r, err
}

// loadReport is a load generator's report: ok is the 2xx answers it got.
type loadReport interface{ ok() int }

// runLoad is one scenario's load against the fresh target t: the warm-up,
// the first request (prepare), the measured run of run for d (measure) and
// the events check, where inFlight is how many requests the generator may
// leave unanswered at its end. It returns the generator's report of the
// measured run and what was measured around it.
func runLoad[R loadReport](b *bench, t *running, sc scenario, run func(time.Duration) (R, error), d time.Duration, inFlight int) (R, measured, eventsCheck, error) {
	var (
		rep    R
		m      measured
		events eventsCheck
	)
	if err := b.warmUp(t, func(d time.Duration) error { _, err := run(d); return err }); err != nil {
		return rep, m, events, fmt.Errorf("warm-up: %w%s", err, t.output.tail())
	}
	counter, err := b.prepare(t, sc)
	if err != nil {
		return rep, m, events, fmt.Errorf("%w%s", err, t.output.tail())
	}
	m, err = measure(t, func() (int, error) {
		var err error
		rep, err = run(d)
		return rep.ok(), err
	})
	if err != nil {
		return rep, m, events, err
	}
	events, err = b.checkEvents(t, sc, counter, m.clientOK, inFlight)
	return rep, m, events, err
}

// measured is what measure read around one load run.
type measured struct {
	cpu, wall time.Duration
	peakRSS   int64
	clientOK  int // the 2xx answers the load generator received
}

// measure runs load against t and reads the server's CPU time and wall
// time around it, its peak RSS after it, and then waits (10 s at most) until
// the server holds no open connection: every request sent has been answered
// (and counted, by routeapi).
func measure(t *running, load func() (ok int, err error)) (measured, error) {
	var m measured
	cpu0, err := loadrig.TreeCPUTime(t.pid)
	if err != nil {
		return m, err
	}
	start := time.Now()
	if m.clientOK, err = load(); err != nil {
		return m, err
	}
	m.wall = time.Since(start)
	cpu1, err := loadrig.TreeCPUTime(t.pid)
	if err != nil {
		return m, err
	}
	m.cpu = cpu1 - cpu0
	if m.peakRSS, err = loadrig.TreePeakRSS(t.pid); err != nil {
		return m, err
	}
	if err := loadrig.WaitIdle(t.pid, t.port, 10*time.Second); err != nil {
		return m, fmt.Errorf("after the load: %w", err)
	}
	return m, nil
}

// warmUp loads the fresh target t for -warmup with load (nothing of it is
// measured), waits until it has answered every request, and forgets the
// events the stand-in received meanwhile, so that prepare and the check
// after the measured run start from nothing.
func (b *bench) warmUp(t *running, load func(time.Duration) error) error {
	if *flagWarmup <= 0 {
		return nil
	}
	if err := load(*flagWarmup); err != nil {
		return err
	}
	if err := loadrig.WaitIdle(t.pid, t.port, 10*time.Second); err != nil {
		return err
	}
	b.rig.EventAPI.TakeTally()
	return nil
}
