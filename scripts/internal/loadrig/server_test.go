package loadrig

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the server StartServer starts:
// LOADRIG_TEST_SERVER=log listens on 127.0.0.1:0 and tells the address in a
// "listening" record (as routeapi does); =quiet tells nothing (as routeapi at
// ROUTEAPI_LOG_LEVEL=warn); =fail exits at once.
func TestMain(m *testing.M) {
	switch os.Getenv("LOADRIG_TEST_SERVER") {
	case "":
		os.Exit(m.Run())
	case "fail":
		fmt.Fprintln(os.Stderr, "cannot start")
		os.Exit(3)
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if os.Getenv("LOADRIG_TEST_SERVER") == "log" {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info("listening", "addr", ln.Addr().String())
	}
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprint(w, os.Getpid())
	})}
	_ = srv.Serve(ln)
}

// TestStartServer: the address StartServer reads back (from the log, or
// from the process's socket when the log is silent) is the child's own.
func TestStartServer(t *testing.T) {
	for _, mode := range []string{"log", "quiet"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.CommandContext(context.Background(), os.Args[0]) //nolint:gosec // G204: this test binary itself
			cmd.Env = append(os.Environ(), "LOADRIG_TEST_SERVER="+mode)
			srv, err := StartServer(cmd)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Stop()
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+srv.Addr+"/", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			var pid int
			if _, err := fmt.Fscan(resp.Body, &pid); err != nil || pid != cmd.Process.Pid {
				t.Errorf("%s answered from pid %d (%v), want the child %d", srv.Addr, pid, err, cmd.Process.Pid)
			}
		})
	}
	t.Run("exits", func(t *testing.T) {
		cmd := exec.CommandContext(context.Background(), os.Args[0]) //nolint:gosec // G204: this test binary itself
		cmd.Env = append(os.Environ(), "LOADRIG_TEST_SERVER=fail")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if srv, err := StartServer(cmd); err == nil {
			srv.Stop()
			t.Fatalf("no error for a server that exits; address %s", srv.Addr)
		}
		if !strings.Contains(stderr.String(), "cannot start") {
			t.Errorf("the child's stderr did not reach cmd.Stderr: %q", stderr.String())
		}
	})
}
