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
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
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

// standIn is an Event API that accepts everything at once and counts event ids.
type standIn struct {
	mu  sync.Mutex
	ids map[string]int
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var evs []struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&evs); err != nil {
		http.Error(w, `{"status":400,"error":"bad body"}`, http.StatusBadRequest)
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"ids":[`)
	s.mu.Lock()
	for i, e := range evs {
		s.ids[e.ID]++
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"01OVER` + strconv.Itoa(i) + `"`)
	}
	s.mu.Unlock()
	b.WriteString(`],"status":200}`)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.Bytes())
}

func (s *standIn) take() (events, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.ids {
		events++
		if n > 1 {
			dups++
		}
	}
	s.ids = map[string]int{}
	return events, dups
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
	dir, err := os.MkdirTemp("", "overload")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	api := &standIn{ids: map[string]int{}}
	apiLn, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = (&http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}).Serve(apiLn) }()

	const secret = "overload-secret-0123456789abcdef"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	minted, err := nextauthmint.Run(ctx, nextauthmint.Request{Cases: []nextauthmint.Case{{
		Name: "overload", Secret: secret, MaxAge: 3600,
		Claims: map[string]any{"sub": "user_42", "email": "ada@example.com", "name": "Ada Lovelace"},
	}}})
	if err != nil {
		return fmt.Errorf("mint a session with next-auth: %w", err)
	}
	cookie := minted.Cases[0].CookieHeader
	settingsPath := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settingsPath, []byte("route:\n  event: bench/overload\n  maxBodyBytes: 262144\npublic:\n  appName: bench\n"), 0o600); err != nil {
		return err
	}
	body := `{"data":"` + strings.Repeat("x", max(*flagBody-len(`{"data":""}`), 1)) + `"}`

	var results []result
	for i, conns := range steps {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(context.Background(), *flagRouteAPI, "serve") //nolint:gosec // G204: the binary under test, from the command line
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "ROUTEAPI_ADDR=" + addr, "NEXTAUTH_SECRET=" + secret,
			"INNGEST_DEV=1", "INNGEST_BASE_URL=http://" + apiLn.Addr().String(),
			"ROUTEAPI_SETTINGS=" + settingsPath, "ROUTEAPI_SPOOL_DIR=" + filepath.Join(dir, fmt.Sprintf("spool%d", i)),
			"ROUTEAPI_LOG_LEVEL=error",
		}
		cmd.Stdout = os.Stderr
		cmd.Env = append(cmd.Env, strings.Fields(*flagEnv)...)
		if *flagBudget != "" {
			cmd.Env = append(cmd.Env, "ROUTEAPI_MAX_INFLIGHT_BYTES="+*flagBudget)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start routeapi: %w", err)
		}
		r, err := step(conns, "http://"+addr, cookie, body, dir, cmd.Process.Pid, api)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if err != nil {
			return fmt.Errorf("%d connections: %w", conns, err)
		}
		results = append(results, r)
	}
	report(results)
	return nil
}

func step(conns int, base, cookie, body, dir string, pid int, api *standIn) (result, error) {
	r := result{conns: conns, statuses: map[int]int{}, errs: map[string]int{}}
	if err := waitReady(base); err != nil {
		return r, err
	}
	api.take()
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
	if r.peakRSS, err = peakRSS(pid); err != nil {
		return r, err
	}
	// 202s (a publish over its bound) arrive once the spool drains.
	deadline := time.Now().Add(15 * time.Second)
	for {
		api.mu.Lock()
		n := len(api.ids)
		api.mu.Unlock()
		if n >= r.ok2xx || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.events, r.dups = api.take()
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

func freeAddr() (string, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String(), nil
}

func waitReady(base string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within 20s", base)
}

// peakRSS is the process's peak resident set (VmHWM).
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM")
}
