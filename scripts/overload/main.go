// Command overload measures routeapi under more large bodies than it can
// hold: for each step of connections it starts a fresh routeapi process
// publishing to an instant Event API stand-in (in this process), drives it
// for a bounded time with bodies of one size from a Go load loop (or wrk,
// -wrk), and prints the answers by status, the client-side errors and
// timeouts, the events the stand-in received for the 2xx answers, and the
// process's peak RSS (VmHWM). The figures go in docs/benchmarks.md.
//
//	go run ./scripts/overload -routeapi bin/routeapi -steps 64,512,1500 -duration 10s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/routeapi/routeapi/scripts/internal/loadrig"
)

var (
	flagRouteAPI = flag.String("routeapi", "bin/routeapi", "the routeapi binary")
	flagSteps    = flag.String("steps", "64,512,1500", "connections per step, comma-separated")
	flagDuration = flag.Duration("duration", 10*time.Second, "how long each step runs")
	flagBody     = flag.Int("body", 250_000, "body size in bytes")
	flagTimeout  = flag.Duration("timeout", 2*time.Second, "client timeout per request (wrk's default is 2s)")
	flagBudget   = flag.String("budget", "", "ROUTEAPI_MAX_INFLIGHT_BYTES for routeapi (empty: its default)")
	flagWrk      = flag.String("wrk", "", "drive the load with this wrk binary instead of the Go loop")
	flagEnv      = flag.String("env", "", "more environment for routeapi, K=V pairs separated by spaces (e.g. GOMEMLIMIT=200MiB)")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "overload:", err)
		os.Exit(1)
	}
}

// result is one step's figures.
type result struct {
	conns    int
	statuses map[int]int
	errs     map[string]int
	requests int
	ok2xx    int
	events   int
	dups     int
	peakRSS  int64
	elapsed  time.Duration
}

func run() error {
	var steps []int
	for _, s := range strings.Split(*flagSteps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 5000 {
			return fmt.Errorf("-steps: %q is not a number of connections from 1 to 5000", s)
		}
		steps = append(steps, n)
	}
	rig, err := loadrig.Start(loadrig.Options{
		Name: "overload", IDPrefix: "01OVER", Bin: *flagRouteAPI, LogLevel: "error",
		Settings: "inngest:\n  maxEventBytes: 3145728\nroute:\n  event: bench/overload\n  maxBodyBytes: 262144\npublic:\n  appName: bench\n",
	})
	if err != nil {
		return err
	}
	defer rig.Close()
	body := loadrig.Body(*flagBody)

	var results []result
	for i, conns := range steps {
		cmd := rig.Command(i)
		cmd.Stdout = os.Stderr
		cmd.Env = append(cmd.Env, strings.Fields(*flagEnv)...)
		if *flagBudget != "" {
			cmd.Env = append(cmd.Env, "ROUTEAPI_MAX_INFLIGHT_BYTES="+*flagBudget)
		}
		cmd.Stderr = os.Stderr
		srv, err := loadrig.StartServer(cmd)
		if err != nil {
			return fmt.Errorf("start routeapi: %w", err)
		}
		r, err := step(conns, "http://"+srv.Addr, rig.Cookie, body, rig.Dir, cmd.Process.Pid, rig.EventAPI)
		srv.Stop()
		if err != nil {
			return fmt.Errorf("%d connections: %w", conns, err)
		}
		results = append(results, r)
	}
	report(results)
	return nil
}

func step(conns int, base, cookie, body, dir string, pid int, api *loadrig.EventAPI) (result, error) {
	r := result{conns: conns, statuses: map[int]int{}, errs: map[string]int{}}
	if err := loadrig.WaitReady(base); err != nil {
		return r, err
	}
	api.Take()
	start := time.Now()
	var err error
	if *flagWrk != "" {
		err = loadWrk(&r, conns, base, cookie, body, dir)
	} else {
		loadGo(&r, conns, base, cookie, body)
	}
	if err != nil {
		return r, err
	}
	r.elapsed = time.Since(start)
	if r.peakRSS, err = loadrig.PeakRSS(pid); err != nil {
		return r, err
	}
	// 202s (a publish over its bound) arrive once the spool drains.
	api.WaitFor(r.ok2xx, 15*time.Second)
	r.events, r.dups = api.Take()
	return r, nil
}

// loadGo runs conns clients, one connection each, posting body until the
// step's time is up; each request is bounded by -timeout.
func loadGo(r *result, conns int, base, cookie, body string) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		stop atomic.Bool
	)
	time.AfterFunc(*flagDuration, func() { stop.Store(true) })
	for range conns {
		wg.Go(func() {
			tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: *flagTimeout}
			for !stop.Load() {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/route", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Cookie", cookie)
				resp, err := client.Do(req)
				status, kind := 0, ""
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					status = resp.StatusCode
				}
				if err != nil {
					kind = errKind(err)
				}
				mu.Lock()
				r.requests++
				if kind != "" {
					r.errs[kind]++
				} else {
					r.statuses[status]++
					if status >= 200 && status < 300 {
						r.ok2xx++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// errKind names a client-side failure.
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	}
	return "other"
}

var (
	reWrkTotal  = regexp.MustCompile(`(\d+) requests in`)
	reWrkSocket = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	reWrkStatus = regexp.MustCompile(`(?m)^status (\d+) (\d+)$`)
)

// loadWrk drives the step with wrk and a Lua script that counts statuses.
func loadWrk(r *result, conns int, base, cookie, body, dir string) error {
	bodyPath := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyPath, []byte(body), 0o600); err != nil {
		return err
	}
	script := filepath.Join(dir, "post.lua")
	lua := fmt.Sprintf(`local f = io.open(%q, "rb"); wrk.body = f:read("*all"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = %q
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("counts")) do total[s] = (total[s] or 0) + n end
  end
  for s, n in pairs(total) do io.write(string.format("status %%d %%d\n", s, n)) end
end
`, bodyPath, cookie)
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return err
	}
	threads := strconv.Itoa(min(runtime.NumCPU(), conns))
	out, err := exec.CommandContext(context.Background(), *flagWrk, "-t", threads, "-c", strconv.Itoa(conns), //nolint:gosec // G204: the load generator, from the command line
		"-d", flagDuration.String(), "--timeout", flagTimeout.String(), "-s", script, base+"/api/route").CombinedOutput()
	if err != nil {
		return fmt.Errorf("wrk: %w\n%s", err, out)
	}
	s := string(out)
	if m := reWrkTotal.FindStringSubmatch(s); m != nil {
		r.requests, _ = strconv.Atoi(m[1])
	}
	for _, m := range reWrkStatus.FindAllStringSubmatch(s, -1) {
		code, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		r.statuses[code] += n
		if code >= 200 && code < 300 {
			r.ok2xx += n
		}
	}
	if m := reWrkSocket.FindStringSubmatch(s); m != nil {
		for i, kind := range []string{"connect", "read", "write", "timeout"} {
			if n, _ := strconv.Atoi(m[i+1]); n > 0 {
				r.errs[kind] += n
			}
		}
	}
	return nil
}

func report(results []result) {
	fmt.Printf("\noverload: %s per step, body %d B, client timeout %s, budget %q, env %q, load %s, GOMAXPROCS %d, %s\n\n",
		*flagDuration, *flagBody, *flagTimeout, *flagBudget, *flagEnv, loader(), runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| conns | requests | answers | client errors | req/s | 2xx → events | peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range results {
		check := fmt.Sprintf("%d → %d", r.ok2xx, r.events)
		if r.dups > 0 {
			check += fmt.Sprintf(" (%d duplicated)", r.dups)
		}
		if r.events < r.ok2xx {
			check += " **LOST**"
		}
		fmt.Printf("| %d | %d | %s | %s | %.0f | %s | %.1f MiB |\n", r.conns, r.requests, counts(r.statuses), counts(r.errs),
			float64(r.requests)/r.elapsed.Seconds(), check, float64(r.peakRSS)/(1<<20))
	}
}

func loader() string {
	if *flagWrk != "" {
		return "wrk"
	}
	return "Go loop"
}

func counts[K comparable](m map[K]int) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for k, n := range m {
		parts = append(parts, fmt.Sprintf("%v: %d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
