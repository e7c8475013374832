package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// header is the run's context: date, machine, tree and tools.
func header() string {
	load, _ := os.ReadFile("/proc/loadavg")
	return fmt.Sprintf("%s, GOMAXPROCS %d, %d CPUs, %s, tree %s, load average %s\n"+
		"closed loop: %s, %s per scenario; open loop: vegeta %s, %s per rate; original route: Next.js %s, node %s",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(),
		command("git", "describe", "--always", "--dirty"), strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "),
		wrkVersion(command(*flagWrk, "-v")), *flagDuration, moduleVersion(*flagVegeta), *flagOpenDuration,
		packageVersion(filepath.Join(*flagSeed, "node_modules", "next", "package.json")), command("node", "--version"))
}

// command is name's trimmed output, "unknown" when it fails (wrk -v exits 1
// after printing its version).
func command(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput() //nolint:gosec // G204: git, node and the load generator, for the header
	var exit *exec.ExitError
	if len(out) == 0 || (err != nil && !errors.As(err, &exit)) {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// wrkVersion is the start of `wrk -v`'s first line ("wrk debian/4.1.0-3+b2 [epoll] Copyright …").
func wrkVersion(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	line, _, _ = strings.Cut(line, " [")
	return strings.TrimSpace(line)
}

// moduleVersion is the main module's version a Go binary was built from
// (`go install …@v12.13.0` records it).
func moduleVersion(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown"
	}
	return info.Main.Version
}

// packageVersion is the "version" of an npm package.json.
func packageVersion(path string) string {
	b, err := os.ReadFile(path) //nolint:gosec // G304: the seed's package.json, from the command line
	var p struct{ Version string }
	if err != nil || json.Unmarshal(b, &p) != nil {
		return "unknown"
	}
	return p.Version
}

// targetLabel is a target's name in the tables.
func targetLabel(target string) string {
	switch target {
	case targetNoop:
		return "Go no-op handler"
	case targetOriginal:
		return "original Next.js route"
	}
	return target
}

// report prints the two tables and fails when a scenario had a non-2xx
// answer, a socket error or lost or duplicated events.
func report(out io.Writer, head string, closed []closedResult, open []openResult) error {
	w := &strings.Builder{}
	fmt.Fprintf(w, "\n%s\n\n", head)
	bad := closedTable(w, closed)
	fmt.Fprintln(w)
	bad = append(bad, openTable(w, open)...)
	fmt.Fprint(w, `
server CPU: the server's CPU time (user+system, its whole process tree) over the run's wall time (100% = one core);
CPU/req: that CPU time per answered request; peak RSS: VmHWM (summed over the process tree);
events: routeapi: the stand-in received exactly one event per event of each 2xx routeapi counted (its /metrics,
read once every request was answered), each id once; the original route: between wrk's 2xx and that plus the
requests wrk dropped in flight at its end (the route counts nothing; inngest.send sends no id, so the stand-in
counts those events apart and cannot tell duplicates among them).
`)
	if _, err := io.WriteString(out, w.String()); err != nil {
		return fmt.Errorf("print the tables: %w", err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("the harness failed: %s", strings.Join(bad, "; "))
	}
	return nil
}

// closedTable prints the closed loop's table and returns its failures.
func closedTable(w *strings.Builder, rs []closedResult) []string {
	// vs no-op: at the same payload and 64 connections, either endpoint (the
	// issue's targets: POST /api/route and sendEvents against the no-op);
	// vs original: POST /api/route, 1 KiB, 64 connections, as it was measured.
	noop, original := map[int]float64{}, 0.0
	for _, r := range rs {
		switch {
		case r.target == targetNoop && r.conns == 64:
			noop[r.payload] = r.wrk.rps()
		case r.target == targetOriginal:
			original = r.wrk.rps()
		}
	}
	fmt.Fprintln(w, "Closed loop (wrk):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | endpoint | conns | payload | req/s | p50 | p99 | peak RSS | server CPU | CPU/req | vs no-op | vs original | non-2xx | events |")
	fmt.Fprintln(w, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
	var bad []string
	for _, r := range rs {
		vsNoop, vsOriginal := "-", "-"
		if n, ok := noop[r.payload]; ok && r.target != targetNoop && r.conns == 64 {
			vsNoop = ratio(r.wrk.rps() / n)
		}
		if original > 0 && r.target == targetRouteAPI && r.conns == 64 && r.payload == 1<<10 && r.scenario.events == 0 {
			vsOriginal = fmt.Sprintf("%.1fx", r.wrk.rps()/original)
		}
		endpoint, payload := r.path(), size(r.payload)
		if r.scenario.events > 0 {
			endpoint, payload = fmt.Sprintf("/api/events ×%d", r.scenario.events), fmt.Sprintf("%d × %s", r.scenario.events, size(r.payload))
		}
		if r.target == targetNoop {
			endpoint = "any"
		}
		errs := wrkErrors(r.wrk)
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %.0f MiB | %.0f%% | %s | %s | %s | %s | %s |\n",
			targetLabel(r.target), endpoint, r.conns, payload, thousands(r.wrk.rps()), ms(us(r.wrk.P50US)), ms(us(r.wrk.P99US)),
			float64(r.peakRSS)/(1<<20), 100*r.cpuShare(), micro(r.cpuPerRequest()), vsNoop, vsOriginal, errs, r.events.text)
		if errs != "0" || !r.events.ok {
			bad = append(bad, fmt.Sprintf("%s %s %d conns: non-2xx %s, events %s", r.target, endpoint, r.conns, errs, r.events.text))
		}
	}
	return bad
}

// wrkErrors is the non-2xx cell: "0", or the non-2xx answers and socket
// errors.
func wrkErrors(s wrkSummary) string {
	if s.Errors.Status == 0 && s.socketErrors() == 0 {
		return "0"
	}
	e := s.Errors
	return fmt.Sprintf("%d non-2xx; socket: connect %d, read %d, write %d, timeout %d", e.Status, e.Connect, e.Read, e.Write, e.Timeout)
}

// openTable prints the open loop's table, routeapi and the no-op at each
// rate on one row, and returns its failures.
func openTable(w *strings.Builder, rs []openResult) []string {
	byRate := map[int]map[string]openResult{}
	var rates []int
	for _, r := range rs {
		if byRate[r.rate] == nil {
			byRate[r.rate] = map[string]openResult{}
			rates = append(rates, r.rate)
		}
		byRate[r.rate][r.target] = r
	}
	fmt.Fprintln(w, "Open loop (vegeta, POST /api/route, 1 KiB, constant arrival rate):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| rate | routeapi p50 / p99 | no-op p50 / p99 | routeapi max | no-op max | achieved rate (routeapi / no-op) | non-2xx (routeapi / no-op) | events |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---|---|---|")
	var bad []string
	for _, rate := range rates {
		api, nop := byRate[rate][targetRouteAPI], byRate[rate][targetNoop]
		fmt.Fprintf(w, "| %s req/s | %s / %s | %s / %s | %s | %s | %s / %s | %d / %d | %s |\n",
			thousands(float64(rate)), ms(api.vegeta.Latencies.P50), ms(api.vegeta.Latencies.P99),
			ms(nop.vegeta.Latencies.P50), ms(nop.vegeta.Latencies.P99), ms(api.vegeta.Latencies.Max), ms(nop.vegeta.Latencies.Max),
			achieved(api), achieved(nop), api.vegeta.notOK(), nop.vegeta.notOK(), api.events.text)
		for _, r := range []openResult{api, nop} {
			if r.vegeta.notOK() > 0 || !r.events.ok {
				bad = append(bad, fmt.Sprintf("%s at %d req/s: %d non-2xx %v %v, events %s", r.target, rate, r.vegeta.notOK(), r.vegeta.StatusCodes, r.vegeta.Errors, r.events.text))
			}
		}
	}
	return bad
}

// achieved is the achieved rate, flagged when the run missed its rate.
func achieved(r openResult) string {
	s := thousands(r.vegeta.Rate) + "/s"
	if r.missed != "" {
		s += " (MISSED: " + r.missed + ")"
	}
	return s
}

// size is a payload size: "1 KiB", "512 B".
func size(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// ms is d in milliseconds, 3 significant figures at most below 100 ms
// ("0.38 ms", "14.1 ms", "246 ms", "1,892 ms").
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return thousands(v) + " ms"
}

// micro is d in whole microseconds.
func micro(d time.Duration) string {
	return thousands(float64(d)/float64(time.Microsecond)) + " µs"
}

// ratio is v with two significant figures below 0.1 (0.0031), two decimals
// above (0.28).
func ratio(v float64) string {
	if v < 0.1 {
		return fmt.Sprintf("%.2g", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// thousands is v rounded, with "," between thousands: 27,844.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

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
