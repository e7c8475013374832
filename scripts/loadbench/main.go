// Command loadbench is `make bench`'s load test. In one run it measures
// routeapi (publishing to an instant Event API stand-in), a no-op Go
// handler and the original Next.js route (testdata/nextjs-seed, `next
// start`) under the same load, with a session cookie minted by next-auth
// itself, and prints two tables:
//
//   - closed loop (wrk: each connection sends its next request when the
//     last is answered): req/s, p50, p99, peak RSS, server CPU (CPU time /
//     wall time), CPU per request, the ratios to the no-op and to the
//     original route, non-2xx answers and the events check; POST /api/route
//     by connections and payload, POST /api/events (sendEvents) with one and
//     with ten catalogue events of 1 KiB each;
//   - open loop (vegeta: requests arrive at a constant rate whatever the
//     answers): p50, p99 and max of routeapi and of the no-op beside it at
//     each rate, with the achieved rate.
//
// It checks that every 2xx produced exactly one event at the stand-in, and
// fails on any non-2xx answer, socket error or lost or duplicated event.
//
//	go run ./scripts/loadbench -routeapi bin/routeapi -wrk wrk -vegeta bin/vegeta -seed testdata/nextjs-seed
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/routeapi/routeapi/scripts/internal/loadrig"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "noop" {
		noop()
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

var (
	flagRouteAPI     = flag.String("routeapi", "bin/routeapi", "the routeapi binary")
	flagWrk          = flag.String("wrk", "wrk", "the wrk binary (Debian's wrk), for the closed loop")
	flagVegeta       = flag.String("vegeta", "bin/vegeta", "the vegeta binary (github.com/tsenart/vegeta/v12), for the open loop")
	flagSeed         = flag.String("seed", "testdata/nextjs-seed", "the original Next.js route's app, installed and built (next build)")
	flagDuration     = flag.Duration("duration", 5*time.Second, "how long each closed-loop scenario runs (whole seconds)")
	flagOpenDuration = flag.Duration("open-duration", 8*time.Second, "how long each open-loop scenario runs")
	flagRates        = flag.String("rates", "1000,2000,4000", "the open loop's arrival rates, requests per second, comma-separated")
	flagWarmup       = flag.Duration("warmup", 2*time.Second, "load each fresh target takes before it is measured (not counted: the original route's lazy route loading and JIT, connection pools, caches); 0 for none")
	flagQuick        = flag.Bool("quick", false, "a smoke test: the closed loop of the no-op, POST /api/route (1 KiB), POST /api/events (10 × 1 KiB) and the original route at 64 connections, and the open loop at the first rate only")
)

func run() error {
	flag.Parse()
	rates, err := parseRates(*flagRates)
	if err != nil {
		return err
	}
	if err := checkTools(); err != nil {
		return err
	}
	rig, err := loadrig.Start(loadrig.Options{
		Name: "loadbench", IDPrefix: "01BENCH", Bin: *flagRouteAPI, LogLevel: "warn",
		Settings: "inngest:\n  maxEventBytes: 3145728\nroute:\n  event: bench/route.requested\n  maxBodyBytes: 300000\npublic:\n  appName: bench\n",
	})
	if err != nil {
		return err
	}
	defer rig.Close()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program: %w", err)
	}
	seed, err := filepath.Abs(*flagSeed)
	if err != nil {
		return fmt.Errorf("the original app's directory: %w", err)
	}
	b := &bench{rig: rig, starter: &starter{rig: rig, self: self, seed: seed}}
	closed, err := b.closedLoop(closedScenarios(*flagQuick))
	if err != nil {
		return err
	}
	if *flagQuick {
		rates = rates[:1]
	}
	open, err := b.openLoop(rates)
	if err != nil {
		return err
	}
	return report(os.Stdout, header(), closed, open)
}

// checkTools fails, naming what to install, unless wrk, vegeta, routeapi
// and the built original app are there.
func checkTools() error {
	var missing []error
	if _, err := exec.LookPath(*flagWrk); err != nil {
		missing = append(missing, fmt.Errorf("wrk (%s): %w: apt-get install wrk (.ci/run does it)", *flagWrk, err))
	}
	for _, f := range []struct{ name, path string }{{"vegeta", *flagVegeta}, {"routeapi", *flagRouteAPI}} {
		if _, err := os.Stat(f.path); err != nil {
			missing = append(missing, fmt.Errorf("%s: %w (make bench builds it)", f.name, err))
		}
	}
	if err := checkSeed(*flagSeed); err != nil {
		missing = append(missing, err)
	}
	return errors.Join(missing...)
}

// parseRates reads "1000,2000,4000".
func parseRates(s string) ([]int, error) {
	var rates []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-rates %q: %q is not a positive number of requests per second", s, f)
		}
		rates = append(rates, n)
	}
	return rates, nil
}

// bench is one run's rig and targets.
type bench struct {
	rig     *loadrig.Rig
	starter *starter
}
