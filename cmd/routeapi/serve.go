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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/internal/admission"
	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/dbsession"
	"github.com/routeapi/routeapi/internal/pgurl"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/sessioncache"
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
	if cfg.AddrLoopbackForDev {
		log.Warn("ROUTEAPI_DEV=1: listening on loopback only (" + cfg.Addr + "); set ROUTEAPI_ADDR (e.g. 0.0.0.0:" +
			portOf(cfg.Addr) + ") to listen elsewhere")
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

	sessions, closeSessions, err := newSessionResolver(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	defer closeSessions()
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
	idem, err := openIdempotency(ctx, sp)
	if err != nil {
		return err
	}
	defer d.batcher.Close() // on every path; after a clean shutdown it is already closed
	budget, err := admission.New(cfg.MaxInflightBytes, cfg.AdmissionWait)
	if err != nil {
		return err
	}
	d.metrics.Admission(budget)
	d.metrics.WatchSettings(store.State)
	var shuttingDown atomic.Bool
	handler, err := api.NewServer(api.Deps{
		Logger:         log,
		Settings:       store,
		Sessions:       sessions,
		Users:          user.FromClaims{IDClaim: cfg.Session.UserIDClaim},
		Publisher:      d.publisher,
		Delivery:       d.state,
		Requests:       d.metrics,
		Extra:          func(r chi.Router) { r.Get("/metrics", d.metrics.Handler().ServeHTTP) },
		CookieNames:    session.CookieNamesFor(session.Format(cfg.Session.Format), cfg.Session.SecureCookies()),
		TrustedOrigins: cfg.TrustedOrigins,

		Idempotency:      idem,
		IdempotencyLease: idempotencyLease(cfg),
		Admission:        budget,
		ShuttingDown:     shuttingDown.Load,
	})
	if err != nil {
		return err
	}
	delivCtx, stopDelivery := context.WithCancel(context.WithoutCancel(ctx))
	delivered := make(chan struct{})
	go func() { defer close(delivered); d.deliverer.Run(delivCtx) }()
	defer func() { stopDelivery(); <-delivered }()
	cleaned := make(chan struct{})
	go func() {
		defer close(cleaned)
		cleanIdempotency(delivCtx, idem, time.Now, log.With("component", "idempotency"))
	}()
	defer func() { stopDelivery(); <-cleaned }()

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return listenError(cfg.Addr, getenv, err)
	}
	srv := &http.Server{
		Handler:           handler,
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
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Not ctx: SIGTERM must let the requests in flight finish, not cancel them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	log.Info("listening", "addr", ln.Addr().String(), "inngest", cfg.InngestBaseURL,
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
	// Further SIGINT/SIGTERM are absorbed until serve returns: make run's
	// Ctrl-C delivers SIGINT to routeapi and SIGTERM from run-dev.sh, and
	// neither may cut the drain short (it is bounded by the delay and
	// shutdownTimeout).
	// /readyz answers 503 shutting-down from now on. With a shutdown delay,
	// keep serving (new connections too) while load balancers notice.
	shuttingDown.Store(true)
	log.Info("shutting down: /readyz answers 503; finishing the requests in flight", "delay", cfg.ShutdownDelay.String())
	if cfg.ShutdownDelay > 0 {
		select {
		case <-time.After(cfg.ShutdownDelay):
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		}
	}
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

// newSessionResolver returns the resolver for the configured session store:
// JWT cookies (v4, v5 or both), or the app's database through a pgx pool. The
// returned func releases what it opened.
func newSessionResolver(ctx context.Context, cfg config.Config, log *slog.Logger) (api.SessionResolver, func(), error) {
	sc := cfg.Session
	if sc.Store != config.StoreDatabase {
		r, err := session.NewJWT(session.JWTConfig{
			Format:    session.Format(sc.Format),
			V4Secret:  sc.Secret,
			V5Secrets: sc.V5Secrets,
			Secure:    sc.SecureCookies(),
		})
		if err != nil {
			return nil, nil, err
		}
		log.Info("sessions: JWT cookies", "format", sc.Format, "v5_secrets", len(sc.V5Secrets), "user_id_claim", sc.UserIDClaim,
			"cache_ttl", sc.CacheTTL.String())
		cached, err := withCache(r, sc.CacheTTL)
		return cached, func() {}, err
	}
	pu, err := pgurl.Parse(cfg.DatabaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if len(pu.Dropped) > 0 {
		log.Warn("DATABASE_URL: parameters not used by routeapi", "dropped", pu.Dropped)
	}
	pcfg := pu.Pool
	if pcfg.ConnConfig.ConnectTimeout == 0 {
		// The URL's connect_timeout is honoured; else 3 s (each lookup is
		// bounded by its own query timeout anyway).
		pcfg.ConnConfig.ConnectTimeout = 3 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, nil, fmt.Errorf("database pool: %w", err)
	}
	r, err := dbsession.New(dbsession.Config{
		DB: pool, Schema: sc.DBSchema, SessionTable: sc.SessionTable, UserTable: sc.UserTable, PGSchema: pu.Schema,
	})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	checkCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := r.Check(checkCtx); err != nil {
		// Not fatal: the database may come up later; until the query works
		// the route answers 503 (wrong tables or schema show up here too).
		log.Error("session database not usable at start-up; database sessions answer 503 until it is", "err", err,
			"schema", sc.DBSchema)
	}
	log.Info("sessions: database", "schema", sc.DBSchema, "search_path", pu.Schema, "pgbouncer", pu.PgBouncer, "max_conns", pcfg.MaxConns, "host", pcfg.ConnConfig.Host, "database", pcfg.ConnConfig.Database,
		"cache_ttl", sc.CacheTTL.String(), "format", sc.Format)
	cached, err := withCache(r, sc.CacheTTL)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return cached, pool.Close, nil
}

// withCache puts the in-process session cache in front of r: decoded JWTs
// and database rows alike are served from it for ttl (only successes, never
// past the session's expiry; 0 turns it off; see internal/sessioncache).
func withCache(r sessioncache.Resolver, ttl time.Duration) (api.SessionResolver, error) {
	c, err := sessioncache.New(r, sessioncache.Config{TTL: ttl})
	if err != nil {
		return nil, fmt.Errorf("session cache: %w", err)
	}
	return c, nil
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
