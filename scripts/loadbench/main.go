// Command loadbench is `make bench`'s load test. In one run it measures
// routeapi (publishing to an instant Event API stand-in) and a no-op Go
// handler under the same load from hey, with a session cookie minted by
// next-auth itself, and prints req/s, p50, p99, peak RSS, CPU per request
// and the ratio to the no-op. It checks that every event of every 2xx
// arrived exactly once at the stand-in. POST /api/route is measured by payload and
// connections; POST /api/events (sendEvents) with one and with ten
// catalogue events of 1 KiB each.
//
//	go run ./scripts/loadbench -routeapi bin/routeapi -hey bin/hey
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
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

// noop serves the no-op handler (read the body, answer a fixed 200) on a
// loopback port the kernel picks, which it tells in a "listening" JSON
// record on stderr, as routeapi does (loadrig.StartServer reads it).
func noop() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success":"true","ids":["01JD2Q7T9XK4M8V6ZB3N5R1C2F"],"eventId":"3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c"}`)
	})
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "noop:", err)
		os.Exit(1)
	}
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info("listening", "addr", ln.Addr().String())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "noop:", err)
		os.Exit(1)
	}
}

type scenario struct {
	target  string // "routeapi" or "no-op"
	conns   int
	payload int // bytes: the body of POST /api/route, each event's data of POST /api/events
	// events is the number of catalogue events of a POST /api/events body
	// (sendEvents); 0 is POST /api/route.
	events int
}

type result struct {
	scenario
	requests    int
	ok2xx       int
	other       string
	rps         float64
	p50, p99    time.Duration
	peakRSS     int64 // bytes
	cpuPerReq   time.Duration
	events      int
	dups        int
	eventsCheck string
}

var (
	flagRouteAPI = flag.String("routeapi", "bin/routeapi", "the routeapi binary")
	flagHey      = flag.String("hey", "bin/hey", "the hey binary (github.com/rakyll/hey)")
	flagDuration = flag.Duration("duration", 5*time.Second, "how long each scenario runs")
	flagQuick    = flag.Bool("quick", false, "only the 64-connection scenarios of the no-op, POST /api/route (1 KiB) and POST /api/events (10 × 1 KiB) (a smoke test)")
)

func run() error {
	flag.Parse()
	rig, err := loadrig.Start(loadrig.Options{
		Name: "loadbench", IDPrefix: "01BENCH", Bin: *flagRouteAPI, LogLevel: "warn",
		Settings: "inngest:\n  maxEventBytes: 3145728\nroute:\n  event: bench/route.requested\n  maxBodyBytes: 300000\npublic:\n  appName: bench\n",
	})
	if err != nil {
		return err
	}
	defer rig.Close()

	scenarios := []scenario{{"no-op", 64, 1 << 10, 0}, {"routeapi", 64, 1 << 10, 0}}
	if !*flagQuick {
		scenarios = append(scenarios,
			scenario{"routeapi", 1, 1 << 10, 0}, scenario{"routeapi", 256, 1 << 10, 0},
			scenario{"routeapi", 64, 64 << 10, 0}, scenario{"routeapi", 64, 256 << 10, 0},
			scenario{"no-op", 64, 256 << 10, 0},
			scenario{"routeapi", 64, 1 << 10, 1})
	}
	scenarios = append(scenarios, scenario{"routeapi", 64, 1 << 10, 10})
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var results []result
	for i, sc := range scenarios {
		var cmd *exec.Cmd
		if sc.target == "no-op" {
			cmd = exec.CommandContext(context.Background(), self, "noop") //nolint:gosec // G204: this program itself
		} else {
			cmd = rig.Command(i)
		}
		cmd.Stderr = os.Stderr
		srv, err := loadrig.StartServer(cmd)
		if err != nil {
			return fmt.Errorf("start %s: %w", sc.target, err)
		}
		r, err := measure(sc, srv.Addr, rig, cmd.Process.Pid)
		srv.Stop()
		if err != nil {
			return fmt.Errorf("%s, %d connections, %d B: %w", sc.target, sc.conns, sc.payload, err)
		}
		results = append(results, r)
	}
	return report(results)
}

func measure(sc scenario, addr string, rig *loadrig.Rig, pid int) (result, error) {
	api := rig.EventAPI
	r := result{scenario: sc}
	base := "http://" + addr
	if err := loadrig.WaitReady(base); err != nil {
		return r, err
	}
	body, path := filepath.Join(rig.Dir, "body.json"), "/api/route"
	text := loadrig.Body(sc.payload)
	if sc.events > 0 {
		path, text = "/api/events", eventsBody(sc.events, sc.payload)
	}
	if err := os.WriteFile(body, []byte(text), 0o600); err != nil {
		return r, err
	}
	api.Take()
	cpu0, err := loadrig.CPUTime(pid)
	if err != nil {
		return r, err
	}
	out, err := exec.CommandContext(context.Background(), *flagHey, //nolint:gosec // G204: the load generator, from the command line
		"-z", flagDuration.String(), "-c", strconv.Itoa(sc.conns), "-m", "POST",
		"-T", "application/json", "-H", "Cookie: "+rig.Cookie, "-D", body, base+path).CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("hey: %w\n%s", err, out)
	}
	cpu1, err := loadrig.CPUTime(pid)
	if err != nil {
		return r, err
	}
	if err := parseHey(string(out), &r); err != nil {
		return r, fmt.Errorf("%w\n%s", err, out)
	}
	if r.requests > 0 {
		r.cpuPerReq = (cpu1 - cpu0) / time.Duration(r.requests)
	}
	r.peakRSS, err = loadrig.PeakRSS(pid)
	if err != nil {
		return r, err
	}
	if sc.target == "routeapi" {
		// Every 2xx must have produced exactly one event per event sent
		// (202s arrive once the spool drains).
		want := r.ok2xx * max(sc.events, 1)
		api.WaitFor(want, 10*time.Second)
		r.events, r.dups = api.Take()
		switch {
		case r.events == want && r.dups == 0:
			r.eventsCheck = "ok"
		default:
			r.eventsCheck = fmt.Sprintf("MISMATCH: %d events (%d duplicated) for %d 2xx of %d events", r.events, r.dups, r.ok2xx, max(sc.events, 1))
		}
	} else {
		r.eventsCheck = "n/a"
	}
	return r, nil
}

var (
	reRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reLat    = regexp.MustCompile(`(?m)^\s+(50|99)%+ in ([0-9.]+) secs`)
	reStatus = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\s+(\d+) responses`)
)

func parseHey(out string, r *result) error {
	m := reRPS.FindStringSubmatch(out)
	if m == nil {
		return errors.New("no Requests/sec in hey's output")
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range reLat.FindAllStringSubmatch(out, -1) {
		secs, _ := strconv.ParseFloat(m[2], 64)
		d := time.Duration(secs * float64(time.Second))
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	var other []string
	for _, m := range reStatus.FindAllStringSubmatch(out, -1) {
		code, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		r.requests += n
		if code >= 200 && code < 300 {
			r.ok2xx += n
		} else {
			other = append(other, fmt.Sprintf("%d×%d", n, code))
		}
	}
	if strings.Contains(out, "Error distribution") {
		other = append(other, "transport errors (see hey output)")
	}
	r.other = strings.Join(other, " ")
	if r.requests == 0 {
		return errors.New("hey reported no responses")
	}
	return nil
}

func report(results []result) error {
	noop := map[int]float64{}
	for _, r := range results {
		if r.target == "no-op" {
			noop[r.payload] = r.rps
		}
	}
	fmt.Printf("\nload: hey, %s per scenario, GOMAXPROCS %d, %d CPUs, %s\n\n", *flagDuration, runtime.GOMAXPROCS(0), runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| target | endpoint | conns | payload | req/s | p50 | p99 | peak RSS | CPU/req | vs no-op | non-2xx | events |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	failed := false
	for _, r := range results {
		ratio := "-"
		if n, ok := noop[r.payload]; ok && r.target == "routeapi" && r.conns == 64 && r.scenario.events == 0 {
			ratio = fmt.Sprintf("%.0f%%", 100*r.rps/n)
		}
		other := r.other
		if other == "" {
			other = "0"
		}
		endpoint, payload := "/api/route", size(r.payload)
		if r.scenario.events > 0 {
			endpoint, payload = fmt.Sprintf("/api/events ×%d", r.scenario.events), fmt.Sprintf("%d × %s", r.scenario.events, size(r.payload))
		}
		if r.target == "no-op" {
			endpoint = "-"
		}
		fmt.Printf("| %s | %s | %d | %s | %.0f | %s | %s | %.1f MiB | %s | %s | %s | %s |\n",
			r.target, endpoint, r.conns, payload, r.rps, ms(r.p50), ms(r.p99), float64(r.peakRSS)/(1<<20),
			us(r.cpuPerReq), ratio, other, r.eventsCheck)
		if r.eventsCheck != "ok" && r.eventsCheck != "n/a" || r.other != "" {
			failed = true
		}
	}
	if failed {
		return errors.New("a scenario had non-2xx answers or lost/duplicated events")
	}
	return nil
}

func size(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

// eventsBody is a POST /api/events body of n app/feedback.submitted events
// (the catalogue's, openapi.yaml) whose data are each size bytes (at least
// the fixed members; a comment of c's makes up the rest, within its
// maxLength of 2000 for size up to 2 KiB).
func eventsBody(n, size int) string {
	head, tail := `{"rating":4,"email":"ada@example.com","page":{"path":"/checkout","title":"Checkout"},"tags":["praise"],"comment":"`, `"}`
	data := head + strings.Repeat("c", max(size-len(head)-len(tail), 0)) + tail
	events := make([]string, n)
	for i := range events {
		events[i] = `{"name":"app/feedback.submitted","data":` + data + `}`
	}
	return `{"events":[` + strings.Join(events, ",") + `]}`
}
