package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/api"
	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/dbsession"
	"github.com/routeapi/routeapi/internal/pgurl"
	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/sessioncache"
)

// newSessionResolver returns the resolver for the configured session store
// (ROUTEAPI_SESSION_STORE): JWT cookies (v4, v5 or both), or the app's
// database through a pgx pool. The returned func releases what it opened; a
// store without a case here is an error, never a silent fallback.
func newSessionResolver(ctx context.Context, cfg config.Config, log *slog.Logger) (api.SessionResolver, func(), error) {
	switch cfg.Session.Store {
	case config.StoreJWT:
		r, err := newJWTSessions(cfg.Session, log)
		return r, func() {}, err
	case config.StoreDatabase:
		return newDatabaseSessions(ctx, cfg, log)
	}
	return nil, nil, fmt.Errorf("session store %q has no resolver (ROUTEAPI_SESSION_STORE)", cfg.Session.Store)
}

// newJWTSessions decodes the session cookies (v4, v5 or both) with the
// configured secrets, behind the session cache.
func newJWTSessions(sc config.Session, log *slog.Logger) (api.SessionResolver, error) {
	r, err := session.NewJWT(session.JWTConfig{
		Format:    sc.Format,
		V4Secret:  sc.Secret,
		V5Secrets: sc.V5Secrets,
		Secure:    sc.SecureCookies(),
	})
	if err != nil {
		return nil, err
	}
	log.Info("sessions: JWT cookies", "format", sc.Format, "v5_secrets", len(sc.V5Secrets), "user_id_claim", sc.UserIDClaim,
		"cache_ttl", sc.CacheTTL.String())
	return withCache(r, sc.CacheTTL)
}

// newDatabaseSessions looks sessions up in the app's database (DATABASE_URL)
// through a pgx pool, behind the session cache; the returned func closes the
// pool. A database not usable yet is logged, not fatal.
func newDatabaseSessions(ctx context.Context, cfg config.Config, log *slog.Logger) (api.SessionResolver, func(), error) {
	sc := cfg.Session
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
