package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
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

func startInngest(t *testing.T) *inngestDev {
	t.Helper()
	bin := binary(t, "INNGEST_BIN")
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "dev", "--no-discovery", "--no-poll", "--host", "127.0.0.1", "-p", port)
	// An empty working directory and HOME: the dev server looks for inngest.*
	// config files upwards from its directory and writes ~/.config/inngest/state.
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"HOME=" + cmd.Dir, "PATH=" + os.Getenv("PATH")}
	d := &inngestDev{URL: "http://" + addr}
	d.proc = start(t, "inngest dev", cmd)
	d.proc.waitReady(t, 60*time.Second, "the Inngest dev server", d.URL+"/health")
	return d
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
	r.URL = "http://" + r.proc.boundAddr(t, 20*time.Second, vars["ROUTEAPI_LOG_LEVEL"])
	r.proc.waitReady(t, 20*time.Second, "routeapi", r.URL+"/healthz")
	return r
}

// boundAddr is the address routeapi listens on: the addr of its "listening"
// log line (JSON), or, when ROUTEAPI_LOG_LEVEL hides info lines, the
// listening TCP socket the process holds (from /proc).
func (p *process) boundAddr(t *testing.T, timeout time.Duration, logLevel string) string {
	t.Helper()
	var addr string
	hidden := strings.EqualFold(logLevel, "warn") || strings.EqualFold(logLevel, "error")
	waitFor(t, timeout, "routeapi to listen", func() bool {
		if p.exited() {
			t.Fatalf("routeapi exited: %v\n%s", p.err, p.logs.String())
		}
		if hidden {
			addr = listeningSocket(p.cmd.Process.Pid)
		} else {
			addr = listeningLogAddr(p.logs.String())
		}
		return addr != ""
	})
	return addr
}

// listeningLogAddr is the addr attribute of the first "listening" line in
// routeapi's JSON log, or "".
func listeningLogAddr(logs string) string {
	for line := range strings.Lines(logs) {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" && l.Addr != "" {
			return l.Addr
		}
	}
	return ""
}

// listeningSocket is the IPv4 address of a listening TCP socket that
// process pid holds, read from /proc (Linux), or "".
func listeningSocket(pid int) string {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	table, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	for line := range strings.Lines(string(table)) {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] { // 0A: TCP_LISTEN
			continue
		}
		hexIP, hexPort, _ := strings.Cut(f[1], ":")
		ip, err1 := strconv.ParseUint(hexIP, 16, 32)
		port, err2 := strconv.ParseUint(hexPort, 16, 16)
		if err1 != nil || err2 != nil {
			continue
		}
		// The kernel prints the address as a host-order (little-endian) word.
		a := netip.AddrFrom4([4]byte{byte(ip), byte(ip >> 8), byte(ip >> 16), byte(ip >> 24)})
		return netip.AddrPortFrom(a, uint16(port)).String()
	}
	return ""
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
