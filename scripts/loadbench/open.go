package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// openResult is one open-loop scenario's figures: POST /api/route, 1 KiB,
// at one rate.
type openResult struct {
	target string
	rate   int // requests per second asked
	vegeta vegetaReport
	missed string // rateMissed: "" when the run kept its rate
	events eventsCheck
}

// openLoop runs, at each rate, routeapi and then the no-op beside it, each
// a fresh process.
func (b *bench) openLoop(rates []int) ([]openResult, error) {
	var out []openResult
	for _, rate := range rates {
		for _, target := range []string{targetRouteAPI, targetNoop} {
			r, err := b.openOne(target, rate)
			if err != nil {
				return nil, fmt.Errorf("open loop, %s at %d req/s: %w", target, rate, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// openOne starts the target, checks one request, runs vegeta at rate for
// the open-loop duration, waits until the server has answered every request
// and checks the events.
func (b *bench) openOne(target string, rate int) (openResult, error) {
	sc := scenario{target: target, payload: 1 << 10}
	r := openResult{target: target, rate: rate}
	t, err := b.starter.start(target)
	if err != nil {
		return r, err
	}
	defer t.stop()
	bodyPath := filepath.Join(b.rig.Dir, "body.json")
	if err := os.WriteFile(bodyPath, []byte(sc.body()), 0o600); err != nil {
		return r, fmt.Errorf("write the body: %w", err)
	}
	run := func(d time.Duration) (vegetaReport, error) {
		return vegetaRun{vegeta: *flagVegeta, dir: b.rig.Dir, url: t.base + sc.path(), bodyPath: bodyPath,
			cookie: b.rig.Cookie, rate: rate, duration: d}.run()
	}
	// vegeta waits for every answer: nothing is left in flight.
	r.vegeta, _, r.events, err = runLoad(b, t, sc, run, *flagOpenDuration, 0)
	if err != nil {
		return r, err
	}
	r.missed = rateMissed(r.vegeta, rate, *flagOpenDuration)
	return r, nil
}
