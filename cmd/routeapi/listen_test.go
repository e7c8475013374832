package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/spool"
)

// TestServeNamesTheVariableOfATakenPort: a port something else listens on
// (a Next.js app on 3000, a second routeapi) stops serve with an error that
// names the address, the variable it came from and what to change, in one
// line, whether the address came from ROUTEAPI_ADDR or from PORT.
func TestServeNamesTheVariableOfATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	settingsPath := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settingsPath, []byte("route:\n  event: test/taken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{
		"ROUTEAPI_DEV": "1", "INNGEST_DEV": "1", "INNGEST_BASE_URL": "http://127.0.0.1:1",
		"ROUTEAPI_SETTINGS": settingsPath, "ROUTEAPI_SPOOL_DIR": filepath.Join(dir, "spool"),
	}
	for _, tc := range []struct {
		name, variable, value string
		want                  []string
	}{
		{"ROUTEAPI_ADDR", "ROUTEAPI_ADDR", addr, []string{"listen on " + addr + " (from ROUTEAPI_ADDR)", "address already in use", "set ROUTEAPI_ADDR to a free address"}},
		// Dev mode keeps a bare PORT on loopback, where the listener is.
		{"PORT", "PORT", port, []string{"listen on " + addr + " (from PORT)", "address already in use", "set PORT to a free port"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{tc.variable: tc.value}
			for k, v := range base {
				vars[k] = v
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out, logs bytes.Buffer
			err := run(ctx, []string{"routeapi", "serve"}, env(vars), &out, &logs)
			if err == nil {
				t.Fatal("serve on a taken port returned nil")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

// TestListenErrorSources: the variable named for each way the address is
// chosen, and no advice to change a port for errors that are not EADDRINUSE.
func TestListenErrorSources(t *testing.T) {
	inUse := &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	got := listenError("127.0.0.1:8390", env(nil), inUse).Error()
	if !strings.Contains(got, "(from the default port 8390; PORT is unset)") || !strings.Contains(got, "set PORT to a free port") {
		t.Errorf("default port: %q", got)
	}
	other := &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)}
	got = listenError("10.255.255.1:8390", env(map[string]string{"ROUTEAPI_ADDR": "10.255.255.1:8390"}), other).Error()
	if !strings.Contains(got, "(from ROUTEAPI_ADDR)") || strings.Contains(got, "set ROUTEAPI_ADDR to") {
		t.Errorf("not in use: %q", got)
	}
}

// TestSpoolCommandOnAHeldBoltFile: the spool CLI beside a running routeapi
// (`podman exec` into its container) says to stop it and where the spool's
// figures are meanwhile.
func TestSpoolCommandOnAHeldBoltFile(t *testing.T) {
	dir := t.TempDir()
	held, err := spool.OpenBolt(dir, 0, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"routeapi", "spool", "stats"}, env(map[string]string{"ROUTEAPI_SPOOL_DIR": dir}), &out, &errOut)
	if err == nil {
		t.Fatal("spool stats on a held bolt file succeeded")
	}
	for _, w := range []string{"in use by another process", "stop it first", "/readyz"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}
