package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/testkit/logbuf"
)

// TestAppServeErrorReleasesEverything: when the listener fails (here it is
// closed before Run), Run returns the serve error at once, without the
// drain, and Close releases the bolt spool so that another process can open it.
func TestAppServeErrorReleasesEverything(t *testing.T) {
	dir := t.TempDir()
	settingsPath := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settingsPath, []byte("route:\n  event: test/app\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spoolDir := filepath.Join(dir, "spool")
	cfg, err := config.Load(env(map[string]string{
		"ROUTEAPI_DEV": "1", "INNGEST_DEV": "1", "INNGEST_BASE_URL": "http://127.0.0.1:1",
		"ROUTEAPI_SETTINGS": settingsPath, "ROUTEAPI_SPOOL_DIR": spoolDir,
	}))
	if err != nil {
		t.Fatal(err)
	}
	logs := &logbuf.Buffer{}
	a, err := newApp(context.Background(), cfg, newLogger(cfg, logs))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background(), ln) }()
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "serve: ") {
			t.Errorf("Run on a closed listener: %v, want a serve error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return on a closed listener")
	}
	if strings.Contains(logs.String(), "shutting down") {
		t.Errorf("a serve error went through the drain:\n%s", logs.String())
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	sp, err := spool.OpenBolt(spoolDir, 0, 50*time.Millisecond)
	if err != nil {
		t.Fatalf("the spool is still held after Close: %v", err)
	}
	_ = sp.Close()
}
