package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/user"
)

const (
	settingsPollInterval = time.Second
	shutdownTimeout      = 15 * time.Second
)

// serve runs the HTTP service until ctx ends or SIGINT/SIGTERM arrives.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	if cfg.Session.SecretIsDevDefault {
		log.Warn("ROUTEAPI_DEV=1 and no NEXTAUTH_SECRET/AUTH_SECRET: using the public development secret; never do this in production")
	}

	store := settings.NewStore(cfg.SettingsPath, log.With("component", "settings"))
	_ = store.Reload() // a failure is logged; the route answers 503 until the file is good
	go store.Watch(ctx, settingsPollInterval)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading settings")
				_ = store.Reload()
			}
		}
	}()

	sessions, err := session.NewJWTResolver(cfg.Session.Secret, nil)
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	sp, err := openSpool(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := sp.Close(); err != nil {
			log.Error("close spool", "err", err.Error())
		}
	}()
	d, err := newDelivery(cfg, sp, log)
	if err != nil {
		return err
	}
	defer d.batcher.Close() // on every path; after a clean shutdown it is already closed
	handler, err := api.NewServer(api.Deps{
		Logger:         log,
		Settings:       store,
		Sessions:       sessions,
		Users:          user.FromClaims{},
		Publisher:      d.publisher,
		Delivery:       d.state,
		Observe:        d.metrics.Middleware,
		Extra:          func(r chi.Router) { r.Handle("/metrics", d.metrics.Handler()) },
		CookieNames:    session.CookieNames(cfg.Session.SecureCookies()),
		TrustedOrigins: cfg.TrustedOrigins,
	})
	if err != nil {
		return err
	}
	delivCtx, stopDelivery := context.WithCancel(context.WithoutCancel(ctx))
	delivered := make(chan struct{})
	go func() { defer close(delivered); d.deliverer.Run(delivCtx) }()
	defer func() { stopDelivery(); <-delivered }()

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30*time.Second + cfg.PublishTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Not ctx: SIGTERM must let the requests in flight finish, not cancel them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	log.Info("listening", "addr", ln.Addr().String(), "inngest", cfg.InngestBaseURL,
		"inngest_dev", cfg.InngestDev, "settings", cfg.SettingsPath, "publish_timeout", cfg.PublishTimeout.String(),
		"spool", cfg.Spool, "batch_linger", cfg.BatchLinger.String(), "batch_max_events", cfg.BatchMaxEvents)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	// Stop accepting and finish the requests in flight (each waits for its
	// batch), then send what is still batched; the rest stays in the spool.
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	d.batcher.Close()
	stopDelivery()
	<-delivered
	if st, err := sp.Stats(shutdownCtx); err == nil {
		log.Info("stopped", "spool_depth", st.Depth, "dead_letters", st.Dead)
	} else {
		log.Info("stopped")
	}
	return nil
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
