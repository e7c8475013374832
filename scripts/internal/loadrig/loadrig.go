// Package loadrig is the rig the load scripts (scripts/loadbench for
// `make bench`, scripts/overload for `make bench-overload`) share: an instant
// Event API stand-in that counts the events it receives, a session cookie
// minted by next-auth itself, a routeapi process on a loopback port the
// kernel picked (StartServer reads it back), and the
// process figures read from /proc (CPU time, peak RSS). Each script keeps only
// its own scenario: how it drives the load and what it prints.
package loadrig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/listenaddr"
	"github.com/routeapi/routeapi/internal/testkit/logbuf"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// EventAPI is an Inngest Event API stand-in on 127.0.0.1 that accepts every
// batch at once (200, one id per event) and counts the events it received,
// by id, so that a script can check that every 2xx of routeapi produced
// exactly one event. Events without an id (the inngest SDK's inngest.send
// gives none unless asked to) are counted apart.
type EventAPI struct {
	idPrefix string
	ln       net.Listener
	srv      *http.Server

	mu   sync.Mutex
	ids  map[string]int // event id -> times received
	noID int            // events received without an id
}

// Tally is what the stand-in received between two Takes.
type Tally struct {
	Events     int // events: distinct ids plus the events without an id
	Duplicated int // ids received more than once
	WithoutID  int // events without an id (no duplicate can be told among them)
}

// startEventAPI starts the stand-in on a free loopback port. idPrefix starts
// the ids it answers with (e.g. "01BENCH"). Close stops it.
func startEventAPI(idPrefix string) (*EventAPI, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the Event API stand-in: %w", err)
	}
	a := &EventAPI{idPrefix: idPrefix, ln: ln, ids: map[string]int{}}
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

// URL is the stand-in's base URL, for INNGEST_BASE_URL.
func (a *EventAPI) URL() string { return "http://" + a.ln.Addr().String() }

// Close stops the stand-in.
func (a *EventAPI) Close() error { return a.srv.Close() }

// ServeHTTP answers one send: a JSON array of events, each with an "id".
func (a *EventAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var evs []struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&evs); err != nil {
		http.Error(w, `{"status":400,"error":"bad body"}`, http.StatusBadRequest)
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"ids":[`)
	a.mu.Lock()
	for i, e := range evs {
		if e.ID == "" {
			a.noID++
		} else {
			a.ids[e.ID]++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + a.idPrefix + strconv.Itoa(i) + `"`)
	}
	a.mu.Unlock()
	b.WriteString(`],"status":200}`)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.Bytes())
}

// count is the number of events (distinct ids and events without one)
// received since the last Take.
func (a *EventAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids) + a.noID
}

// WaitFor waits until at least n events (distinct ids and events without
// one) have arrived or within has
// passed, whichever comes first (events answered 202 arrive once routeapi's
// spool drains).
func (a *EventAPI) WaitFor(n int, within time.Duration) {
	deadline := time.Now().Add(within)
	for a.count() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// Take returns the events received since the last Take (distinct ids and
// events without an id) and how many ids arrived more than once, and starts
// counting afresh (TakeTally).
func (a *EventAPI) Take() (events, dups int) {
	t := a.TakeTally()
	return t.Events, t.Duplicated
}

// TakeTally returns what the stand-in received since the last Take or
// TakeTally and starts counting afresh.
func (a *EventAPI) TakeTally() Tally {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := Tally{Events: len(a.ids) + a.noID, WithoutID: a.noID}
	for _, n := range a.ids {
		if n > 1 {
			t.Duplicated++
		}
	}
	a.ids, a.noID = map[string]int{}, 0
	return t
}

// mintCookie mints a next-auth v4 session for user_42 (Ada Lovelace), signed
// with secret, with next-auth itself (testdata/mint), and returns its Cookie
// header value. name labels the case in the mint's output.
func mintCookie(ctx context.Context, name, secret string) (string, error) {
	minted, err := nextauthmint.Run(ctx, nextauthmint.Request{Cases: []nextauthmint.Case{{
		Name: name, Secret: secret, MaxAge: 3600,
		Claims: map[string]any{"sub": "user_42", "email": "ada@example.com", "name": "Ada Lovelace"},
	}}})
	if err != nil {
		return "", fmt.Errorf("mint a session with next-auth: %w", err)
	}
	return minted.Cases[0].CookieHeader, nil
}

// Options name one script's rig.
type Options struct {
	Name     string // the script's name: the temporary directory's prefix, the session secret's and the mint case's
	IDPrefix string // the start of the ids the Event API stand-in answers with (e.g. "01BENCH")
	Bin      string // the routeapi binary
	Settings string // the content of the settings file (ROUTEAPI_SETTINGS)
	LogLevel string // ROUTEAPI_LOG_LEVEL
}

// Rig is what one run of a load script shares across its scenarios: a
// temporary directory, the Event API stand-in, a session cookie minted by
// next-auth, and the settings file. Close removes it.
type Rig struct {
	Dir      string    // the temporary directory, removed by Close
	EventAPI *EventAPI // the stand-in routeapi publishes to
	Cookie   string    // a Cookie header value with a valid session for user_42

	bin, secret, settingsPath, logLevel string
}

// Secret is the session secret the Cookie was signed with (NEXTAUTH_SECRET
// of every server the rig starts).
func (r *Rig) Secret() string { return r.secret }

// Start sets up a Rig: the directory, the stand-in, the session (minted within
// 2 minutes) and the settings file.
func Start(o Options) (*Rig, error) {
	dir, err := os.MkdirTemp("", o.Name)
	if err != nil {
		return nil, fmt.Errorf("make a temporary directory: %w", err)
	}
	r := &Rig{Dir: dir, bin: o.Bin, secret: o.Name + "-secret-0123456789abcdef", logLevel: o.LogLevel}
	if r.EventAPI, err = startEventAPI(o.IDPrefix); err != nil {
		r.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if r.Cookie, err = mintCookie(ctx, o.Name, r.secret); err != nil {
		r.Close()
		return nil, err
	}
	r.settingsPath = filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(r.settingsPath, []byte(o.Settings), 0o600); err != nil {
		r.Close()
		return nil, fmt.Errorf("write the settings: %w", err)
	}
	return r, nil
}

// Close stops the stand-in and removes the directory.
func (r *Rig) Close() {
	if r.EventAPI != nil {
		_ = r.EventAPI.Close()
	}
	_ = os.RemoveAll(r.Dir)
}

// Command is `routeapi serve` listening on 127.0.0.1:0 (StartServer reads
// back the port the kernel picked), publishing to the stand-in
// (INNGEST_DEV=1), with the rig's secret, settings and log level and its
// spool in a directory of its own (spool<n> in the rig's directory); its
// environment is PATH plus those variables, and GOMAXPROCS, GOGC and
// GOMEMLIMIT when set. The caller may add to cmd.Env
// and set its output before StartServer.
func (r *Rig) Command(n int) *exec.Cmd {
	cmd := exec.CommandContext(context.Background(), r.bin, "serve") //nolint:gosec // G204: the binary under test, from the command line
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "ROUTEAPI_ADDR=127.0.0.1:0", "NEXTAUTH_SECRET=" + r.secret,
		"INNGEST_DEV=1", "INNGEST_BASE_URL=" + r.EventAPI.URL(),
		"ROUTEAPI_SETTINGS=" + r.settingsPath, "ROUTEAPI_SPOOL_DIR=" + filepath.Join(r.Dir, fmt.Sprintf("spool%d", n)),
		"ROUTEAPI_LOG_LEVEL=" + r.logLevel,
	}
	// The Go runtime's knobs, when the caller set them, reach routeapi as
	// they reach the harness (whose GOMAXPROCS loadbench prints).
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	return cmd
}

// Server is a started server process (routeapi, or loadbench's no-op
// server) and the address it listens on.
type Server struct {
	Cmd  *exec.Cmd
	Addr string // host:port, as the server bound it

	done  chan struct{}
	group bool // the server leads a process group of its own (StartGroup): Stop signals the group
}

// StartServer starts cmd, a server told to listen on port 0, and waits up to
// 20 s for the address it bound: from its "listening" log record on stderr
// (JSON or text) or, at a log level that hides it, its one listening socket
// (listenaddr.Wait). What the server writes to stderr still goes to
// cmd.Stderr. On error the process is stopped.
func StartServer(cmd *exec.Cmd) (*Server, error) {
	logs := &logbuf.Buffer{}
	if cmd.Stderr == nil {
		cmd.Stderr = logs
	} else {
		cmd.Stderr = io.MultiWriter(cmd.Stderr, logs)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	s := &Server{Cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addr, err := listenaddr.Wait(ctx, listenaddr.Source{PID: cmd.Process.Pid, Logs: logs.String, Exited: s.exited})
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("%s's address: %w", cmd.Path, err)
	}
	s.Addr = addr
	return s, nil
}

func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// StartGroup starts cmd, a server told to listen on port 0 that may fork
// (`next start`), in a process group of its own, and waits up to within for
// the one address it or a descendant listens on (WaitListeningTree). Stop
// then ends the whole group. On error the group is stopped.
func StartGroup(cmd *exec.Cmd, within time.Duration) (*Server, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	s := &Server{Cmd: cmd, done: make(chan struct{}), group: true}
	go func() { _ = cmd.Wait(); close(s.done) }()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	addr, err := WaitListeningTree(ctx, cmd.Process.Pid, s.exited)
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("%s's address: %w", cmd.Path, err)
	}
	s.Addr = addr
	return s, nil
}

// Stop sends the process SIGTERM (the whole group's processes, for
// StartGroup) and waits for it to end; after 10 s it sends SIGKILL.
func (s *Server) Stop() {
	pid := s.Cmd.Process.Pid
	if s.group {
		pid = -pid // the group the server leads
	}
	if !s.exited() || s.group {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-s.done
	}
	if s.group {
		_ = syscall.Kill(pid, syscall.SIGKILL) // any child left behind
	}
}

// WaitReady waits up to 20 s for base's /healthz to answer below 500. Each
// probe gives up after 2 s, so a server that accepts and never answers
// cannot hold WaitReady past its deadline.
func WaitReady(base string) error {
	probe := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/healthz", nil)
		resp, err := probe.Do(req)
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

// Body is a POST /api/route body of size bytes: {"data":"xxx…"} (at least
// one x).
func Body(size int) string {
	return `{"data":"` + strings.Repeat("x", max(size-len(`{"data":""}`), 1)) + `"}`
}

// CPUTime is the process's user+system CPU time (/proc/<pid>/stat, in
// USER_HZ ticks of 10 ms).
func CPUTime(pid int) (time.Duration, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, fmt.Errorf("read the CPU time: %w", err)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read the CPU time of %d: %w", pid, err)
	}
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// PeakRSS is the process's peak resident set in bytes (VmHWM in
// /proc/<pid>/status).
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the peak RSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmHWM: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM")
}
