package config_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/config"
)

// TestLoadAddrDevLoopback: dev mode (which may run on the public development
// secret) keeps a bare PORT on loopback; an explicit ROUTEAPI_ADDR is kept.
func TestLoadAddrDevLoopback(t *testing.T) {
	dev := with(minimal, "ROUTEAPI_DEV", "1", "NEXTAUTH_SECRET", "")
	for _, tc := range []struct {
		name     string
		env      map[string]string
		want     string
		loopback bool
	}{
		{"dev, nothing set", dev, "127.0.0.1:" + config.DefaultPort, true},
		{"dev, PORT", with(dev, "PORT", "9001"), "127.0.0.1:9001", true},
		{"dev with a real secret, PORT", with(dev, "PORT", "9001", "NEXTAUTH_SECRET", "s"), "127.0.0.1:9001", true},
		{"dev, explicit all interfaces", with(dev, "ROUTEAPI_ADDR", "0.0.0.0:9001"), "0.0.0.0:9001", false},
		{"dev, explicit address", with(dev, "ROUTEAPI_ADDR", "192.0.2.1:9001"), "192.0.2.1:9001", false},
		{"not dev, PORT", with(minimal, "PORT", "9001"), ":9001", false},
		{"dev off", with(minimal, "ROUTEAPI_DEV", "0"), ":" + config.DefaultPort, false},
	} {
		c := load(t, tc.env)
		if c.Addr != tc.want || c.AddrLoopbackForDev != tc.loopback {
			t.Errorf("%s: Addr %q, AddrLoopbackForDev %v; want %q, %v", tc.name, c.Addr, c.AddrLoopbackForDev, tc.want, tc.loopback)
		}
	}
}

// TestDefaultPortClearOfNeighbours: the default port is none Next.js takes
// (3000 and the next ones it tries) nor the Inngest dev server's own or its
// discovery probes (pkg/devserver/discovery in inngest v1.0.0).
func TestDefaultPortClearOfNeighbours(t *testing.T) {
	taken := []string{"80", "443", "5000", "5173", "8000", "8080", "8081", "8288", "8289", "8787", "8888"}
	for p := 3000; p <= 3010; p++ {
		taken = append(taken, strconv.Itoa(p))
	}
	for p := 8910; p <= 8915; p++ {
		taken = append(taken, strconv.Itoa(p))
	}
	for _, p := range taken {
		if config.DefaultPort == p {
			t.Errorf("DefaultPort %s collides with a neighbour's port", p)
		}
	}
}

func TestLoadShutdownDelay(t *testing.T) {
	if c := load(t, minimal); c.ShutdownDelay != 0 {
		t.Errorf("default ShutdownDelay = %s, want 0", c.ShutdownDelay)
	}
	if c := load(t, with(minimal, "ROUTEAPI_SHUTDOWN_DELAY", "5s")); c.ShutdownDelay != 5*time.Second {
		t.Errorf("ShutdownDelay = %s, want 5s", c.ShutdownDelay)
	}
	for _, bad := range []string{"-1s", "soon", "2m"} {
		_, err := config.Load(env(with(minimal, "ROUTEAPI_SHUTDOWN_DELAY", bad)))
		if err == nil || !strings.Contains(err.Error(), "ROUTEAPI_SHUTDOWN_DELAY") {
			t.Errorf("ROUTEAPI_SHUTDOWN_DELAY=%s: %v; want an error naming it", bad, err)
		}
	}
}

// TestLoadPartsSpool: reading the spool needs no session secret and no
// event key, but still validates what it reads.
func TestLoadPartsSpool(t *testing.T) {
	empty := map[string]string{}
	if _, err := config.Load(env(empty)); err == nil {
		t.Fatal("Load of an empty environment: want errors for NEXTAUTH_SECRET and INNGEST_EVENT_KEY")
	}
	c, err := config.LoadParts(env(with(empty, "ROUTEAPI_SPOOL_DIR", "/var/lib/routeapi")), config.PartsSpool)
	if err != nil {
		t.Fatalf("LoadParts(PartsSpool) without secrets: %v", err)
	}
	if c.Spool != config.SpoolBolt || c.SpoolDir != "/var/lib/routeapi" || c.LogFormat != "json" || c.Session.Secret != "" || c.InngestBaseURL != "" {
		t.Errorf("LoadParts(PartsSpool) = %+v", c)
	}
	c, err = config.LoadParts(env(with(empty, "ROUTEAPI_SPOOL", "postgres", "DATABASE_URL", "postgres://u@h/db")), config.PartsSpool)
	if err != nil || c.SpoolDatabaseURL != "postgres://u@h/db" {
		t.Errorf("postgres spool from DATABASE_URL: %+v, %v", c.SpoolDatabaseURL, err)
	}
	if _, err := config.LoadParts(env(with(empty, "ROUTEAPI_SPOOL", "postgres")), config.PartsSpool); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("postgres spool without a URL: %v; want an error naming DATABASE_URL", err)
	}
	if _, err := config.LoadParts(env(with(empty, "ROUTEAPI_SPOOL_MAX_EVENTS", "lots")), config.PartsSpool); err == nil {
		t.Error("a bad ROUTEAPI_SPOOL_MAX_EVENTS: want an error")
	}
	// Replay sends events: it needs the Inngest part, not the session's.
	if _, err := config.LoadParts(env(empty), config.PartsReplay); err == nil || !strings.Contains(err.Error(), "INNGEST_EVENT_KEY") || strings.Contains(err.Error(), "NEXTAUTH_SECRET") {
		t.Errorf("LoadParts(PartsReplay) without a key: %v; want INNGEST_EVENT_KEY only", err)
	}
	if c, err := config.LoadParts(env(with(empty, "INNGEST_DEV", "1")), config.PartsReplay); err != nil || c.InngestBaseURL != config.DefaultDevInngestURL {
		t.Errorf("LoadParts(PartsReplay) dev: %+v, %v", c, err)
	}
	// The listen part alone (the health check) needs nothing else.
	if c, err := config.LoadParts(env(with(empty, "PORT", "9001")), config.PartListen); err != nil || c.Addr != ":9001" {
		t.Errorf("LoadParts(PartListen): %q, %v", c.Addr, err)
	}
}
