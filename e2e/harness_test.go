package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/listenaddr"
	"github.com/routeapi/routeapi/internal/testkit/logbuf"
	"github.com/routeapi/routeapi/internal/testkit/spectest"
)

// binary returns the path in env var name, failing the test when it is unset
// or missing: these tests never skip.
func binary(t *testing.T, name string) string {
	t.Helper()
	p := os.Getenv(name)
	if p == "" {
		t.Fatalf("%s is not set: run the end-to-end tests with `make test-e2e`", name)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v (run `make test-e2e`, which builds it)", name, err)
	}
	return p
}

// freeAddr returns a loopback address with a port that was free a moment ago.
// Closing it and handing the number on is a race (another process may take
// the port first): use it only where a port must be named before anything
// binds it (the Inngest dev server's -p, which startInngest then verifies;
// the fixed-port cases in image_test.go and rundev_test.go, which say why).
// For a server of the test's own listen on 127.0.0.1:0; for a port that must
// refuse connections use deadaddr.Reserve.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls ok every 50 ms until it returns true or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// process is a child process stopped at the end of the test.
type process struct {
	cmd  *exec.Cmd
	logs *logbuf.Buffer
	done chan struct{}
	err  error
}

func start(t *testing.T, name string, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, logs: &logbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.logs.String())
		}
	})
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady polls url until it answers 200, failing the test if the process
// exits first (a leftover server on the same port would answer too).
func (p *process) waitReady(t *testing.T, timeout time.Duration, name, url string) {
	t.Helper()
	waitFor(t, timeout, name+" to answer "+url, func() bool {
		if p.exited() {
			t.Fatalf("%s exited: %v\n%s", name, p.err, p.logs.String())
		}
		return answers200(url)
	})
}

// kill ends the process at once and waits for it, for a process the test
// gives up on (its exit status is not checked).
func (p *process) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// stop sends SIGTERM and waits up to 10 s, then kills.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s did not exit cleanly on SIGTERM: %v", p.cmd.Path, p.err)
		}
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 10s of SIGTERM", p.cmd.Path)
	}
}

// inngestDev is a real Inngest dev server on a loopback port.
type inngestDev struct {
	URL  string
	proc *process
}

// startInngest starts the dev server and returns once it answers /health on
// a port that is its own. `inngest dev` must be told its port before it binds
// it (v1.0.0 takes -p 0 but then never reports which port it bound, and holds
// other listeners too, so neither its log nor its sockets tell the API's
// port), so the port comes from freeAddr; once the server answers, the test
// checks that the dev server process itself listens there (another process
// may have taken the port between the pick and the bind, and then answered
// the probe; off Linux, where listenaddr cannot read a process's sockets, the
// answer is accepted unchecked). If it does not, or the server exited, it is
// stopped and started again on a new port, up to 3 times.
func startInngest(t *testing.T) *inngestDev {
	t.Helper()
	bin := binary(t, "INNGEST_BIN")
	const attempts = 3
	var why []string
	for range attempts {
		d, err := tryInngest(t, bin)
		if err == nil {
			return d
		}
		why = append(why, err.Error())
	}
	t.Fatalf("the Inngest dev server did not start on a port of its own in %d attempts:\n%s", attempts, strings.Join(why, "\n"))
	return nil
}

// inngestAddr picks the address of each attempt of startInngest; a test
// replaces it to hand startInngest a taken port first.
var inngestAddr = freeAddr

// tryInngest is one attempt of startInngest: it returns an error (and stops
// the process) when the port turned out not to be the dev server's.
func tryInngest(t *testing.T, bin string) (*inngestDev, error) {
	t.Helper()
	addr := inngestAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "dev", "--no-discovery", "--no-poll", "--host", "127.0.0.1", "-p", port)
	// An empty working directory and HOME: the dev server looks for inngest.*
	// config files upwards from its directory and writes ~/.config/inngest/state.
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"HOME=" + cmd.Dir, "PATH=" + os.Getenv("PATH")}
	d := &inngestDev{URL: "http://" + addr}
	d.proc = start(t, "inngest dev", cmd)
	ok := false
	waitFor(t, 60*time.Second, "the Inngest dev server to answer "+d.URL+"/health", func() bool {
		if d.proc.exited() {
			return true // a port taken by someone else (bind failed) or another failure: retried
		}
		ok = answers200(d.URL + "/health")
		return ok
	})
	if !ok {
		exit := d.proc.err
		if exit == nil {
			exit = errors.New("exit status 0")
		}
		return nil, fmt.Errorf("on %s: exited before answering: %w\n%s", addr, exit, d.proc.logs.String())
	}
	holds, err := listenaddr.Holds(d.proc.cmd.Process.Pid, addr)
	if errors.Is(err, listenaddr.ErrUnsupported) {
		// Off Linux there is no /proc to tell whose port it is: the /health
		// answer from a process still running is taken as the dev server's,
		// as before the port check existed.
		return d, nil
	}
	if err != nil {
		d.proc.kill()
		return nil, fmt.Errorf("on %s: the dev server's sockets: %w", addr, err)
	}
	if !holds {
		d.proc.kill()
		return nil, fmt.Errorf("on %s: the port is not the dev server's (another process answered /health)", addr)
	}
	return d, nil
}

// probeClient is the client of readiness probes: a server that accepts a
// connection and never answers (a foreign one on a reused port, a hung one)
// costs a probe 2 s, not the rest of its caller's deadline.
var probeClient = &http.Client{Timeout: 2 * time.Second}

// answers200 reports whether a GET of url answers 200 within 2 s.
func answers200(url string) bool {
	resp, err := probeClient.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// receivedEvent is an event as the dev server's GET /v1/events lists it.
type receivedEvent struct {
	InternalID string          `json:"internal_id"`
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Data       json.RawMessage `json:"data"`
	TS         int64           `json:"ts"`
}

// events lists the events named name that the dev server received, newest first.
func (d *inngestDev) events(t *testing.T, name string) []receivedEvent {
	t.Helper()
	resp, err := http.Get(d.URL + "/v1/events?limit=50&name=" + url.QueryEscape(name))
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data []receivedEvent `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("list events: %v", err)
	}
	return out.Data
}

// waitEvents waits until the dev server lists at least n events named name.
func (d *inngestDev) waitEvents(t *testing.T, name string, n int) []receivedEvent {
	t.Helper()
	var got []receivedEvent
	waitFor(t, 15*time.Second, fmt.Sprintf("%d events named %s", n, name), func() bool {
		got = d.events(t, name)
		return len(got) >= n
	})
	return got
}

// routeAPI is the built routeapi binary serving on a loopback port.
type routeAPI struct {
	URL          string
	SettingsPath string
	Secret       string
	proc         *process
}

// settingsYAML writes a settings file for event name, with the dev
// server's event size limit (3 MiB), under which maxBody fits.
func settingsYAML(event string, enabled bool, maxBody int) string {
	return fmt.Sprintf("inngest:\n  maxEventBytes: 3145728\nroute:\n  enabled: %v\n  event: %s\n  maxBodyBytes: %d\npublic:\n  appName: e2e\n  plan: free\n", enabled, event, maxBody)
}

// startRouteAPI starts routeapi with env on top of a minimal environment
// (no variables are inherited but PATH and HOME) and waits for /healthz.
func startRouteAPI(t *testing.T, settings string, env map[string]string) *routeAPI {
	t.Helper()
	bin := binary(t, "ROUTEAPI_BIN")
	dir := t.TempDir()
	r := &routeAPI{SettingsPath: filepath.Join(dir, "settings.yaml"), Secret: "e2e-secret-" + randomSuffix()}
	if settings != "" {
		if err := os.WriteFile(r.SettingsPath, []byte(settings), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{
		"PATH":              os.Getenv("PATH"),
		"HOME":              os.Getenv("HOME"),
		"ROUTEAPI_ADDR":     "127.0.0.1:0", // the kernel picks the port; the bound address is read back below
		"ROUTEAPI_SETTINGS": r.SettingsPath,
		"NEXTAUTH_SECRET":   r.Secret,
		"INNGEST_DEV":       "1",
	}
	for k, v := range env {
		vars[k] = v
	}
	if s, ok := vars["NEXTAUTH_SECRET"]; ok {
		r.Secret = s
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	r.proc = start(t, "routeapi", cmd)
	r.URL = "http://" + r.proc.boundAddr(t, 20*time.Second)
	r.proc.waitReady(t, 20*time.Second, "routeapi", r.URL+"/healthz")
	return r
}

// boundAddr is the address routeapi listens on (it was started on port 0),
// from its "listening" log record or, when the log level hides it, the one
// listening socket it holds (listenaddr.Wait tries both on each poll).
func (p *process) boundAddr(t *testing.T, timeout time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	addr, err := listenaddr.Wait(ctx, listenaddr.Source{PID: p.cmd.Process.Pid, Logs: p.logs.String, Exited: p.exited})
	if err != nil {
		if p.exited() && p.err != nil { // p.err is set once done is closed
			err = fmt.Errorf("%w (%w)", err, p.err)
		}
		t.Fatalf("routeapi's address: %v\n%s", err, p.logs.String())
	}
	return addr
}

// response is an answer from routeapi, already checked against openapi.yaml.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	Took   time.Duration
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d response: %v: %s", r.Status, err, r.Body)
	}
}

// problemType is the kind of a problem response ("" when it is not one).
func (r response) problemType() string {
	var p struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(r.Body, &p)
	return strings.TrimPrefix(p.Type, "urn:routeapi:problem:")
}

// do sends a request and checks the response against openapi.yaml.
func (r *routeAPI) do(t *testing.T, method, path, body string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, r.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{Status: resp.StatusCode, Header: resp.Header, Body: data, Took: time.Since(start)}
	if err := spectest.CheckResponse(req, resp.StatusCode, resp.Header, data); err != nil {
		t.Errorf("%s %s: %v\nbody: %s", method, path, err, data)
	}
	return out
}

// post sends {"data": ...} JSON to /api/route with extra headers.
func (r *routeAPI) post(t *testing.T, body string, header http.Header) response {
	t.Helper()
	return r.do(t, http.MethodPost, "/api/route", body, header)
}

func randomSuffix() string {
	return fmt.Sprintf("%d", time.Now().UnixNano())
}
