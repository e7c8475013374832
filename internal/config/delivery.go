package config

import (
	"cmp"
	"net/url"
	"time"

	"github.com/inngest/inngest/pkg/consts"

	"github.com/routeapi/routeapi/internal/pgurl"
)

// Delivery defaults (spool, batching, retries, circuit breaker).
const (
	DefaultSpoolDir         = "./data"
	DefaultSpoolMaxEvents   = 100_000
	DefaultBatchLinger      = 2 * time.Millisecond
	DefaultBatchMaxEvents   = 100
	DefaultBatchMaxBytes    = 1 << 20
	DefaultRetryMinBackoff  = 250 * time.Millisecond
	DefaultRetryMaxBackoff  = 30 * time.Second
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = time.Second
	DefaultSpoolPoll        = 500 * time.Millisecond
	// DefaultSpoolMinFreeBytes is the bolt spool's free-space reserve: room
	// for the claims, acks and cleanup that drain it (each a bbolt commit
	// that writes pages) after new writes are refused.
	DefaultSpoolMinFreeBytes = 64 << 20
)

// Spool kinds (ROUTEAPI_SPOOL).
const (
	SpoolBolt     = "bolt"
	SpoolPostgres = "postgres"
)

// loadDelivery reads the spool, batching, retry and breaker settings.
func loadDelivery(c *Config, e *env) {
	c.Spool = oneOf(e, "ROUTEAPI_SPOOL", SpoolBolt, SpoolBolt, SpoolPostgres)
	c.SpoolDir = e.strOr("ROUTEAPI_SPOOL_DIR", DefaultSpoolDir)
	c.SpoolDatabaseURL = cmp.Or(e.str("ROUTEAPI_SPOOL_DATABASE_URL"), c.DatabaseURL)
	checkDatabaseURLs(c, e)
	c.SpoolMaxEvents = e.int("ROUTEAPI_SPOOL_MAX_EVENTS", DefaultSpoolMaxEvents, 1, 1<<30)
	c.SpoolPoll = e.dur("ROUTEAPI_SPOOL_POLL", DefaultSpoolPoll, 10*time.Millisecond, time.Minute)
	c.SpoolMinFreeBytes = e.int("ROUTEAPI_SPOOL_MIN_FREE_BYTES", DefaultSpoolMinFreeBytes, 0, 1<<40)
	c.BatchLinger = e.dur("ROUTEAPI_BATCH_LINGER", DefaultBatchLinger, 0, time.Second)
	c.BatchMaxEvents = e.int("ROUTEAPI_BATCH_MAX_EVENTS", DefaultBatchMaxEvents, 1, consts.MaxEvents)
	c.BatchMaxBytes = e.int("ROUTEAPI_BATCH_MAX_BYTES", DefaultBatchMaxBytes, 1<<10, 64<<20)
	c.RetryMinBackoff = e.dur("ROUTEAPI_RETRY_MIN_BACKOFF", DefaultRetryMinBackoff, time.Millisecond, time.Hour)
	c.RetryMaxBackoff = e.dur("ROUTEAPI_RETRY_MAX_BACKOFF", DefaultRetryMaxBackoff, time.Millisecond, 24*time.Hour)
	if c.RetryMaxBackoff < c.RetryMinBackoff {
		e.bad("ROUTEAPI_RETRY_MAX_BACKOFF", "must not be below ROUTEAPI_RETRY_MIN_BACKOFF (%s)", c.RetryMinBackoff)
	}
	c.BreakerThreshold = e.int("ROUTEAPI_BREAKER_THRESHOLD", DefaultBreakerThreshold, 1, 1000)
	c.BreakerCooldown = e.dur("ROUTEAPI_BREAKER_COOLDOWN", DefaultBreakerCooldown, 10*time.Millisecond, time.Hour)
}

// checkDatabaseURLs checks the PostgreSQL URLs in use. DATABASE_URL is the
// app's database (database sessions). The PostgreSQL spool writes, so it may
// have its own URL (ROUTEAPI_SPOOL_DATABASE_URL, e.g. a user with write
// rights or another database); else DATABASE_URL.
func checkDatabaseURLs(c *Config, e *env) {
	if c.Session.Store == StoreDatabase {
		checkDatabaseURL(e, "DATABASE_URL", c.DatabaseURL, "ROUTEAPI_SESSION_STORE=database")
	}
	if c.Spool == SpoolPostgres {
		name := "ROUTEAPI_SPOOL_DATABASE_URL"
		if e.str(name) == "" {
			name = "DATABASE_URL"
		}
		checkDatabaseURL(e, name, c.SpoolDatabaseURL, "ROUTEAPI_SPOOL=postgres (ROUTEAPI_SPOOL_DATABASE_URL, else DATABASE_URL)")
	}
}

// checkDatabaseURL reports the variable name unless value is a PostgreSQL
// URL whose parameters internal/pgurl can honour. The value may hold a
// password: the message never echoes it.
func checkDatabaseURL(e *env, name, value, usedBy string) {
	if value == "" {
		e.bad(name, "required with %s: a PostgreSQL URL", usedBy)
	} else if u, err := url.Parse(value); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		e.bad(name, "want a postgres:// or postgresql:// URL")
	} else if _, err := pgurl.Parse(value); err != nil {
		// Prisma's parameters are read as Prisma reads them; what cannot
		// be honoured is refused here, naming the parameter (never the URL).
		e.bad(name, "%v", err)
	}
}
