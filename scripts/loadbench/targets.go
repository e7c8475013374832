package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/logbuf"
	"github.com/routeapi/routeapi/scripts/internal/loadrig"
)

// The targets a scenario measures.
const (
	targetNoop     = "no-op"    // the no-op Go handler (this program's noop)
	targetRouteAPI = "routeapi" // bin/routeapi, publishing to the stand-in
	targetOriginal = "original" // the original Next.js route (testdata/nextjs-seed, next start)
)

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

// running is a started target.
type running struct {
	srv  *loadrig.Server
	base string // http://127.0.0.1:port
	port int
	pid  int // the server's process (with its descendants: its cost)

	output *quietLog // what the server wrote, when not to stderr
}

// stop ends the target's processes.
func (r *running) stop() { r.srv.Stop() }

// starter starts the targets of one run.
type starter struct {
	rig  *loadrig.Rig
	self string // this program, for the no-op
	seed string // the original Next.js app's directory, built (next build)
	n    int    // targets started so far: a fresh spool directory each
}

// start starts a fresh process of target and waits until it answers.
func (s *starter) start(target string) (*running, error) {
	s.n++
	var (
		srv    *loadrig.Server
		err    error
		output *quietLog
	)
	switch target {
	case targetNoop:
		cmd := exec.CommandContext(context.Background(), s.self, "noop") //nolint:gosec // G204: this program itself
		cmd.Stderr = os.Stderr
		srv, err = loadrig.StartServer(cmd)
	case targetRouteAPI:
		cmd := s.rig.Command(s.n)
		cmd.Stderr = os.Stderr
		srv, err = loadrig.StartServer(cmd)
	case targetOriginal:
		output = &quietLog{&logbuf.Buffer{}}
		srv, err = loadrig.StartGroup(s.seedCommand(output), 60*time.Second)
	default:
		err = fmt.Errorf("unknown target %q", target)
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w%s", target, err, output.tail())
	}
	r := &running{srv: srv, base: "http://" + srv.Addr, pid: srv.Cmd.Process.Pid, output: output}
	if err := r.ready(target); err != nil {
		r.stop()
		return nil, fmt.Errorf("%s: %w%s", target, err, output.tail())
	}
	return r, nil
}

// quietLog holds the output of a target that would flood the harness's
// (next start logs every request the load generator aborts at its end);
// nil for a target that writes to stderr.
type quietLog struct{ *logbuf.Buffer }

// tail is the last 4 KiB of the output, on a line of its own, or "".
func (q *quietLog) tail() string {
	if q == nil || q.Buffer == nil {
		return ""
	}
	s := q.String()
	return "\n" + s[max(0, len(s)-4096):]
}

// ready reads the port and waits for the target to answer: routeapi and
// the no-op on /healthz (the no-op answers any path), the original app on
// any HTTP answer (it has no health route).
func (r *running) ready(target string) error {
	_, port, err := net.SplitHostPort(r.srv.Addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", r.srv.Addr, err)
	}
	if r.port, err = strconv.Atoi(port); err != nil {
		return fmt.Errorf("address %q: %w", r.srv.Addr, err)
	}
	if !strings.HasPrefix(r.srv.Addr, "127.0.0.1:") {
		return fmt.Errorf("listens on %s, not on 127.0.0.1", r.srv.Addr)
	}
	return loadrig.WaitReady(r.base)
}

// seedCommand is `next start` of the original app on 127.0.0.1, on a port
// the kernel picks (-p 0; StartGroup reads it back from the process tree),
// with the rig's session secret (so the rig's cookie is a session to it)
// and the inngest SDK in dev mode sending to the stand-in (INNGEST_DEV,
// INNGEST_EVENT_API_BASE_URL: the app's lib/inngest.ts leaves the SDK to
// the environment). Its output goes to out; its environment is PATH, HOME
// and those variables.
func (s *starter) seedCommand(out io.Writer) *exec.Cmd {
	next := filepath.Join(s.seed, "node_modules", "next", "dist", "bin", "next")
	cmd := exec.CommandContext(context.Background(), "node", next, "start", "-H", "127.0.0.1", "-p", "0") //nolint:gosec // G204: the app under test
	cmd.Dir = s.seed
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "NODE_ENV=production", "NEXT_TELEMETRY_DISABLED=1",
		"NEXTAUTH_SECRET=" + s.rig.Secret(), "NEXTAUTH_URL=http://127.0.0.1",
		"INNGEST_DEV=1", "INNGEST_EVENT_API_BASE_URL=" + s.rig.EventAPI.URL(), "INNGEST_BASE_URL=" + s.rig.EventAPI.URL(),
	}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd
}

// checkSeed fails unless dir holds the original app installed and built
// (`make bench` does both).
func checkSeed(dir string) error {
	for _, f := range []string{"node_modules/next/dist/bin/next", ".next/BUILD_ID"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("the original route's app (%s) is not installed and built (make bench does it): %w", dir, err)
		}
	}
	return nil
}
