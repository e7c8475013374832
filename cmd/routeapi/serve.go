package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/oapi-codegen/runtime"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/internal/config"
)

// serve runs the HTTP service until ctx ends or SIGINT/SIGTERM arrives;
// the app (app.go) holds what it runs and the order it stops in.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// Caught until serve returns, so that a second signal cannot cut the drain short.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	warnDevDefaults(cfg, log)

	// The generated server decodes request bodies with routeapi's codec
	// (api.JSONCodec: the same values, without a streaming decoder).
	runtime.SetJSONCodec(api.JSONCodec)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }() // Close logs a spool that fails to close; the exit status stays Run's
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return listenError(cfg.Addr, getenv, err)
	}
	return a.Run(ctx, ln)
}

// warnDevDefaults logs what dev mode chose that production must not keep.
func warnDevDefaults(cfg config.Config, log *slog.Logger) {
	if cfg.Session.SecretIsDevDefault {
		log.Warn("ROUTEAPI_DEV=1 and no NEXTAUTH_SECRET/AUTH_SECRET: using the public development secret; never do this in production")
	}
	if cfg.AddrLoopbackForDev {
		log.Warn("ROUTEAPI_DEV=1: listening on loopback only (" + cfg.Addr + "); set ROUTEAPI_ADDR (e.g. 0.0.0.0:" +
			portOf(cfg.Addr) + ") to listen elsewhere")
	}
}

// portOf is the port of a host:port address.
func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
