package e2e

import (
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the repository this e2e module sits in.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// devRun is `make run` or scripts/run-dev.sh started in its own process
// group, on free ports, with the real routeapi and Inngest dev server.
type devRun struct {
	proc                   *process
	routeapiAddr, inngestP string
	env                    []string
}

// startDevRun starts `make run` (viaMake) or the script with the given
// binaries, and waits until routeapi and the dev server answer.
func startDevRun(t *testing.T, viaMake bool) *devRun {
	t.Helper()
	routeapi, inngest := binary(t, "ROUTEAPI_BIN"), binary(t, "INNGEST_BIN")
	root := repoRoot(t)
	// Fixed ports, not 0: run-dev.sh checks PORT and INNGEST_PORT are free,
	// prints them, hands them to both servers and wires routeapi to the dev
	// server's, which is what these tests check; it has no way to report a
	// port the kernel picked.
	_, port, _ := net.SplitHostPort(freeAddr(t))
	_, inngestPort, _ := net.SplitHostPort(freeAddr(t))
	env := append(os.Environ(),
		"TMPDIR="+t.TempDir(), "ROUTEAPI_SPOOL_DIR="+t.TempDir(),
		"PORT="+port, "INNGEST_PORT="+inngestPort, "ROUTEAPI="+routeapi, "INNGEST="+inngest,
		"ROUTEAPI_ADDR=", "MAKEFLAGS=", "MAKELEVEL=")
	var cmd *exec.Cmd
	if viaMake {
		// -o: the binaries given are taken as they are (nothing is built).
		cmd = exec.Command("make", "--no-print-directory", "-o", "build", "-o", inngest, "run",
			"ROUTEAPI="+routeapi, "INNGEST="+inngest, "PORT="+port, "INNGEST_PORT="+inngestPort)
	} else {
		cmd = exec.Command(filepath.Join(root, "scripts", "run-dev.sh"))
	}
	cmd.Dir, cmd.Env = root, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A child left running would hold the output pipe open: Wait gives up
	// on it after WaitDelay instead of hanging the test.
	cmd.WaitDelay = 5 * time.Second
	d := &devRun{routeapiAddr: "127.0.0.1:" + port, inngestP: inngestPort, env: env}
	d.proc = start(t, "make run", cmd)
	// Whatever the test's outcome, leave nothing of the group running.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	d.proc.waitReady(t, 60*time.Second, "routeapi", "http://"+d.routeapiAddr+"/readyz")
	d.proc.waitReady(t, 60*time.Second, "the Inngest dev server", "http://127.0.0.1:"+inngestPort+"/health")
	return d
}

// script runs a run-dev.sh subcommand in the same environment.
func (d *devRun) script(t *testing.T, sub string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(t), "scripts", "run-dev.sh"), sub)
	cmd.Dir, cmd.Env = repoRoot(t), d.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run-dev.sh %s: %v\n%s", sub, err, out)
	}
	return string(out)
}

// waitStopped waits for the started process to exit and checks that
// nothing of it is left: no process in its group, nothing listening on the
// ports (the dev server restarted with inngest-start runs in its own
// session, so the ports are the check for it).
func (d *devRun) waitStopped(t *testing.T) {
	t.Helper()
	select {
	case <-d.proc.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("not stopped within 30s of the signal\n%s", d.proc.logs.String())
	}
	pgid := d.proc.cmd.Process.Pid
	waitFor(t, 15*time.Second, "every process of the group to exit", func() bool {
		return errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
	})
	for _, addr := range []string{d.routeapiAddr, "127.0.0.1:" + d.inngestP} {
		waitFor(t, 15*time.Second, "nothing to listen on "+addr, func() bool {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return true
			}
			c.Close()
			return false
		})
	}
}

// TestRunDevStopsOnSignal: however make run is stopped (SIGTERM to make,
// SIGTERM or SIGHUP to run-dev.sh, Ctrl-C's SIGINT to the whole foreground
// group), routeapi and the Inngest dev server stop with it.
func TestRunDevStopsOnSignal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		viaMake bool
		sig     syscall.Signal
		group   bool
	}{
		{"SIGTERM to make", true, syscall.SIGTERM, false},
		{"Ctrl-C on make run", true, syscall.SIGINT, true},
		{"SIGTERM to run-dev.sh", false, syscall.SIGTERM, false},
		{"SIGHUP to run-dev.sh", false, syscall.SIGHUP, false},
		{"SIGINT to run-dev.sh", false, syscall.SIGINT, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startDevRun(t, tc.viaMake)
			pid := d.proc.cmd.Process.Pid
			if tc.group {
				pid = -pid
			}
			if err := syscall.Kill(pid, tc.sig); err != nil {
				t.Fatal(err)
			}
			d.waitStopped(t)
			// routeapi drained and stopped by itself (not killed mid-drain).
			if !strings.Contains(d.proc.logs.String(), "msg=stopped") {
				t.Errorf("routeapi did not log its clean stop:\n%s", d.proc.logs.String())
			}
		})
	}
}

// TestRunDevRestartInngest: inngest-stop stops the dev server while routeapi
// keeps answering (a request is spooled: 202); inngest-start starts it again
// without discovery (routeapi's log shows no probe of its port) and the
// spooled event arrives; SIGTERM to make then stops the restarted one too.
func TestRunDevRestartInngest(t *testing.T) {
	d := startDevRun(t, true)
	inngest := &inngestDev{URL: "http://127.0.0.1:" + d.inngestP}
	// The commands make run prints act on this dev server: its port goes with them.
	portArg := " INNGEST_PORT=" + d.inngestP
	for _, want := range []string{"make inngest-stop" + portArg + "\n", "make inngest-start" + portArg + "\n"} {
		if !strings.Contains(d.proc.logs.String(), want) {
			t.Errorf("make run's banner does not say %q:\n%s", want, d.proc.logs.String())
		}
	}
	if out := d.script(t, "inngest-stop"); !strings.Contains(out, "Stopped the Inngest dev server") || !strings.Contains(out, "make inngest-start"+portArg+"\n") {
		t.Fatalf("inngest-stop: %s", out)
	}
	waitFor(t, 10*time.Second, "the dev server to stop", func() bool {
		resp, err := probeClient.Get(inngest.URL + "/health")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
	r := &routeAPI{URL: "http://" + d.routeapiAddr}
	cookie := devCookie(t, d)
	event := "app/route.requested" // the repository's settings.yaml
	waitFor(t, 20*time.Second, "a 202 while the dev server is down", func() bool {
		return r.post(t, `{"data":"while down"}`, http.Header{"Cookie": {cookie}}).Status == http.StatusAccepted
	})
	if out := d.script(t, "inngest-start"); !strings.Contains(out, "Started the Inngest dev server") {
		t.Fatalf("inngest-start: %s", out)
	}
	waitFor(t, 60*time.Second, "the spooled event in the restarted dev server", func() bool {
		return len(inngest.events(t, event)) > 0 // a restarted dev server starts empty
	})
	if strings.Contains(d.proc.logs.String(), "/api/inngest") || strings.Contains(d.proc.logs.String(), "/x/inngest") {
		t.Errorf("the dev server probed routeapi's port:\n%s", d.proc.logs.String())
	}
	if err := syscall.Kill(d.proc.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.waitStopped(t)
}

// devCookie asks the routeapi binary for a dev session cookie, as make run does.
func devCookie(t *testing.T, d *devRun) string {
	t.Helper()
	cmd := exec.Command(binary(t, "ROUTEAPI_BIN"), "token", "--sub", "e2e-user", "--email", "e2e@example.com")
	cmd.Env = append(d.env, "ROUTEAPI_DEV=1", "NEXTAUTH_SECRET=", "AUTH_SECRET=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("routeapi token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestRunChecksPortsFirst: with routeapi's port taken, make run fails before
// building anything and names PORT; with the dev server's port taken by
// something else, it names INNGEST_PORT. The port it suggests is free, is not
// the other server's, and stays clear of Next.js's 3000-3010 (PORT=3000
// beside a Next.js app must not suggest 3001, where next dev moves to).
func TestRunChecksPortsFirst(t *testing.T) {
	root := repoRoot(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, taken, _ := net.SplitHostPort(ln.Addr().String())
	// The port above it too, when it can be had: the suggestion must skip it.
	takenN, _ := strconv.Atoi(taken)
	if next, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(takenN+1))); err == nil {
		defer next.Close()
	}
	// 3000 as a Next.js app holds it (or something already does).
	if next3000, err := net.Listen("tcp", "127.0.0.1:3000"); err == nil {
		defer next3000.Close()
	} else if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("listen on 127.0.0.1:3000: %v", err)
	}
	// A port number that is free, as run-dev.sh's port check sees it (it is
	// never bound here: make run stops at the other, taken port first).
	_, free, _ := net.SplitHostPort(freeAddr(t))
	suggested := regexp.MustCompile(`e\.g\.  make run (PORT|INNGEST_PORT)=(\d+)`)
	for _, tc := range []struct {
		name, port, inngestPort, taken, want string
	}{
		{"routeapi's port", taken, free, taken, "PORT"},
		{"the dev server's port", free, taken, taken, "INNGEST_PORT"},
		{"a Next.js app's port", "3000", free, "3000", "PORT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("make", "--no-print-directory", "run", "PORT="+tc.port, "INNGEST_PORT="+tc.inngestPort)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "ROUTEAPI_ADDR=", "MAKEFLAGS=", "MAKELEVEL=", "TMPDIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("make run with port %s taken succeeded:\n%s", tc.taken, out)
			}
			if !strings.Contains(string(out), "port "+tc.taken+" is taken") || !strings.Contains(string(out), "Set "+tc.want+" ") {
				t.Errorf("make run output does not name the port and %s:\n%s", tc.want, out)
			}
			if strings.Contains(string(out), "go build") || strings.Contains(string(out), "Building") {
				t.Errorf("make run built something before checking its ports:\n%s", out)
			}
			m := suggested.FindStringSubmatch(string(out))
			if m == nil || m[1] != tc.want {
				t.Fatalf("make run suggests no %s:\n%s", tc.want, out)
			}
			p, _ := strconv.Atoi(m[2])
			tn, _ := strconv.Atoi(tc.taken)
			switch {
			case p <= tn:
				t.Errorf("suggested %s=%d, not above the taken %d", tc.want, p, tn)
			case p >= 3000 && p <= 3010:
				t.Errorf("suggested %s=%d, a Next.js port", tc.want, p)
			case m[2] == tc.port || m[2] == tc.inngestPort:
				t.Errorf("suggested %s=%d, a port make run was given", tc.want, p)
			}
			if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", m[2]), time.Second); err == nil {
				_ = c.Close()
				t.Errorf("suggested %s=%d, where something listens", tc.want, p)
			}
		})
	}
}

// TestBuildInngestShowsProgress: building the Inngest dev server (minutes
// the first time) says how long to expect and then, while it works, how long
// it has taken so far. A stand-in go command that takes 3 s plays the build.
func TestBuildInngestShowsProgress(t *testing.T) {
	dir := t.TempDir()
	fakeGo := filepath.Join(dir, "go")
	script := "#!/bin/sh\n# stand-in: go build -o OUT PKG\nsleep 3\nout=\"\"\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\necho built >\"$out\"\n"
	if err := os.WriteFile(fakeGo, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "inngest")
	cmd := exec.Command(filepath.Join(repoRoot(t), "scripts", "build-inngest.sh"), out, "v1.0.0")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "GO="+fakeGo, "PROGRESS_EVERY=1")
	cmd.WaitDelay = 5 * time.Second
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build-inngest.sh: %v\n%s", err, got)
	}
	text := string(got)
	for _, want := range []string{"expect 3 to 5 minutes", "still building the Inngest dev server", "so far", "Built the Inngest dev server in"} {
		if !strings.Contains(text, want) {
			t.Errorf("output does not say %q:\n%s", want, text)
		}
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "built\n" {
		t.Errorf("the build's output file: %q, %v", b, err)
	}
}
