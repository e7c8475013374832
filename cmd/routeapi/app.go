package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/internal/admission"
	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/idempotency"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/spool"
	"github.com/routeapi/routeapi/internal/user"
)

const (
	settingsPollInterval = time.Second
	shutdownTimeout      = 15 * time.Second
)

// app is the HTTP service with everything it runs: built by newApp, served
// by Run (which ends with the ordered shutdown), released by Close.
type app struct {
	cfg config.Config
	log *slog.Logger

	store         *settings.Store
	hangup        chan os.Signal // SIGHUP, caught from newApp to Close
	closeSessions func()
	sp            spool.Spool
	d             *deliveryParts
	idem          idempotency.Store
	handler       http.Handler

	// shuttingDown turns /readyz to 503 shutting-down once the drain begins.
	shuttingDown atomic.Bool
}

// newApp builds the service for cfg: the settings store (read once now; a
// bad file is logged and the route answers 503 until it is good), the
// session resolver, the spool, delivery, the idempotency store, admission and
// the API handler. Nothing runs until Run. On error it releases what it
// opened.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *app, err error) {
	catalogue, err := api.CatalogueNames()
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: settings.NewStore(cfg.SettingsPath, log.With("component", "settings")).WithCatalogue(catalogue)}
	defer func() {
		if err != nil {
			_ = a.Close() // the construction error is the one to report
		}
	}()
	_ = a.store.Reload() // a failure is logged; the route answers 503 until the file is good
	// SIGHUP is caught from here on: one during the rest of the start-up is
	// taken up by Run (a reload), one during the drain is absorbed; neither
	// ends the process.
	a.hangup = make(chan os.Signal, 1)
	signal.Notify(a.hangup, syscall.SIGHUP)

	sessions, closeSessions, err := newSessionResolver(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	a.closeSessions = closeSessions
	if a.sp, err = openSpool(ctx, cfg); err != nil {
		return nil, err
	}
	if a.d, err = newDelivery(cfg, a.sp, log); err != nil {
		return nil, err
	}
	if a.idem, err = openIdempotency(ctx, a.sp); err != nil {
		return nil, err
	}
	budget, err := admission.New(cfg.MaxInflightBytes, cfg.AdmissionWait)
	if err != nil {
		return nil, err
	}
	a.d.metrics.Admission(budget)
	a.d.metrics.WatchSettings(a.store.State)
	a.handler, err = api.NewServer(api.Deps{
		Logger:         log,
		Settings:       a.store,
		Sessions:       sessions,
		Users:          user.FromClaims{IDClaim: cfg.Session.UserIDClaim},
		Publisher:      a.d.publisher,
		Delivery:       a.d.state,
		Requests:       a.d.metrics,
		Extra:          func(r chi.Router) { r.Get("/metrics", a.d.metrics.Handler().ServeHTTP) },
		CookieNames:    session.CookieNamesFor(cfg.Session.Format, cfg.Session.SecureCookies()),
		TrustedOrigins: cfg.TrustedOrigins,

		Idempotency:      a.idem,
		IdempotencyLease: idempotencyLease(cfg),
		Admission:        budget,
		ShuttingDown:     a.shuttingDown.Load,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Run serves on ln until ctx ends, then shuts down in order (see shutdown).
// Until ctx ends, the settings file is watched and SIGHUP reloads it; the
// deliverer and the idempotency cleanup run beside the server. It returns
// nil after a clean shutdown; Close is still needed afterwards.
func (a *app) Run(ctx context.Context, ln net.Listener) error {
	a.watchSettings(ctx)
	stopBackground := a.startBackground(ctx)
	defer stopBackground() // on the early-error paths; shutdown stops them in order otherwise

	srv := a.httpServer(ctx)
	cfg := a.cfg
	a.log.Info("listening", "addr", ln.Addr().String(), "inngest", cfg.InngestBaseURL,
		"inngest_dev", cfg.InngestDev, "settings", cfg.SettingsPath, "publish_timeout", cfg.PublishTimeout.String(),
		"spool", cfg.Spool, "batch_linger", cfg.BatchLinger.String(), "batch_max_events", cfg.BatchMaxEvents,
		"max_inflight_bytes", cfg.MaxInflightBytes, "admission_wait", cfg.AdmissionWait.String(), "read_timeout", cfg.ReadTimeout.String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return a.shutdown(ctx, srv, errc, stopBackground)
}

// shutdown is the one place of the stop order, after ctx (the signals) ended.
// Further SIGINT/SIGTERM are absorbed meanwhile (serve keeps them caught until
// it returns): make run's Ctrl-C delivers SIGINT to routeapi and SIGTERM from
// run-dev.sh, and neither may cut the drain short, which is bounded by the
// delay and shutdownTimeout.
func (a *app) shutdown(ctx context.Context, srv *http.Server, errc <-chan error, stopBackground func()) error {
	// 1. /readyz answers 503 shutting-down from now on, first, so that load
	// balancers stop sending while everything below still works.
	a.shuttingDown.Store(true)
	a.log.Info("shutting down: /readyz answers 503; finishing the requests in flight", "delay", a.cfg.ShutdownDelay.String())

	// 2. With a shutdown delay, keep serving (new connections too) while the
	// load balancers notice the 503.
	if a.cfg.ShutdownDelay > 0 {
		select {
		case <-time.After(a.cfg.ShutdownDelay):
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		}
	}

	// 3. Stop accepting and finish the requests in flight (bounded by
	// shutdownTimeout). Each waits for its batch, so the batcher still runs.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}

	// 4. Send what is still batched, now that no request can add to it;
	// what Inngest does not take stays in the spool.
	a.d.batcher.Close()

	// 5. Stop the deliverer and the idempotency cleanup, after the batcher:
	// their context ignored ctx (made WithoutCancel) so that they worked
	// through the drain. What is left in the spool waits for the next start.
	stopBackground()

	// 6. Log the spool's figures last, when nothing writes to it any more.
	// Close releases the spool and the sessions after Run returns.
	if st, err := a.sp.Stats(shutdownCtx); err == nil {
		a.log.Info("stopped", "spool_depth", st.Depth, "dead_letters", st.Dead)
	} else {
		a.log.Info("stopped")
	}
	return nil
}

// Close releases what newApp opened: the batcher (already closed after a
// clean Run), the spool and the session store, and stops catching SIGHUP. It
// logs a spool that fails to close and returns its error.
func (a *app) Close() error {
	var err error
	if a.hangup != nil {
		signal.Stop(a.hangup)
	}
	if a.d != nil {
		a.d.batcher.Close()
	}
	if a.sp != nil {
		if err = a.sp.Close(); err != nil {
			a.log.Error("close spool", "err", err.Error())
			err = fmt.Errorf("close spool: %w", err)
		}
	}
	if a.closeSessions != nil {
		a.closeSessions()
	}
	return err
}

// watchSettings polls the settings file and reloads it on SIGHUP until ctx
// ends.
func (a *app) watchSettings(ctx context.Context) {
	go a.store.Watch(ctx, settingsPollInterval)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-a.hangup:
				a.log.Info("SIGHUP: reloading settings")
				_ = a.store.Reload()
			}
		}
	}()
}

// startBackground starts the deliverer and the idempotency cleanup on a
// context that ignores ctx's end, so that they keep working through the
// drain; the returned func cancels them and waits for both (it may be called
// again).
func (a *app) startBackground(ctx context.Context) (stop func()) {
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.d.deliverer.Run(bgCtx) })
	wg.Go(func() { cleanIdempotency(bgCtx, a.idem, time.Now, a.log.With("component", "idempotency")) })
	return func() { cancel(); wg.Wait() }
}

// httpServer is the server for a.handler, with routeapi's timeouts.
func (a *app) httpServer(ctx context.Context) *http.Server {
	cfg := a.cfg
	return &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout),
		// A body still arriving at ReadTimeout gets 408 (api.bodyReadProblem),
		// written within WriteTimeout, which is counted from the end of the
		// headers and leaves the publish its own time.
		ReadTimeout:  cfg.ReadTimeout,
		WriteTimeout: cfg.ReadTimeout + cfg.PublishTimeout,
		IdleTimeout:  2 * time.Minute,
		// Above api.MaxHeaderBytes, so that a head between the two gets
		// routeapi's 431 problem rather than net/http's plain text.
		MaxHeaderBytes: api.ServerMaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		// Not ctx: SIGTERM must let the requests in flight finish, not cancel them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}
