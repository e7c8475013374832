// Package config reads routeapi's configuration from the environment into one
// validated Config. Nothing else in routeapi reads environment variables.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/routeapi/routeapi/internal/pgurl"
)

// DevSecret is the session secret used with ROUTEAPI_DEV=1 when neither
// NEXTAUTH_SECRET nor AUTH_SECRET is set. It is public: never use it in
// production.
const DevSecret = "routeapi-development-secret-do-not-use-in-production"

// Defaults for values that may be left unset.
const (
	// DefaultPort is routeapi's port when neither ROUTEAPI_ADDR nor PORT is
	// set. It stays clear of Next.js (3000, and 3001, 3002... that next dev
	// takes when 3000 is busy), of the Inngest dev server (8288, 8289) and of
	// every port the dev server probes for apps when discovery is on
	// (80, 443, 3000-3010, 5000, 5173, 8000, 8080, 8081, 8787, 8888, 8910-8915:
	// github.com/inngest/inngest pkg/devserver/discovery, v1.0.0).
	DefaultPort            = "8390"
	DefaultSettingsPath    = "settings.yaml"
	DefaultPublishTimeout  = 2 * time.Second
	DefaultDevInngestURL   = "http://127.0.0.1:8288"
	DefaultCloudInngestURL = "https://inn.gs"
	maxPublishTimeout      = time.Minute
	maxShutdownDelay       = time.Minute
	// DefaultSessionCacheTTL is how long a resolved session stays cached in process.
	DefaultSessionCacheTTL = 5 * time.Second
	maxSessionCacheTTL     = time.Minute
)

// Session stores (ROUTEAPI_SESSION_STORE).
const (
	// StoreJWT reads JWT session cookies (next-auth's default strategy).
	StoreJWT = "jwt"
	// StoreDatabase looks the opaque session token up in the app's database.
	StoreDatabase = "database"
)

// Database schemas (ROUTEAPI_DB_SCHEMA).
const (
	// SchemaPrisma is the Prisma adapter's "Session"/"User" tables.
	SchemaPrisma = "prisma"
	// SchemaPGAdapter is @auth/pg-adapter's sessions/users tables.
	SchemaPGAdapter = "pg-adapter"
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
	// maxBatchEvents is the OSS Event API's limit per request.
	maxBatchEvents = 5000
)

// Spool kinds (ROUTEAPI_SPOOL).
const (
	SpoolBolt     = "bolt"
	SpoolPostgres = "postgres"
)

// Config is routeapi's whole configuration.
type Config struct {
	// Addr is the address the HTTP server listens on: ROUTEAPI_ADDR, else
	// ":"+PORT (all interfaces), except in dev mode (ROUTEAPI_DEV), where
	// PORT alone listens on loopback only: "127.0.0.1:"+PORT.
	Addr string
	// AddrLoopbackForDev reports that Addr is on loopback only because of
	// dev mode (ROUTEAPI_ADDR was not set); serve says so at start-up.
	AddrLoopbackForDev bool
	// ShutdownDelay is ROUTEAPI_SHUTDOWN_DELAY: after SIGTERM, /readyz answers
	// 503 at once while routeapi keeps serving for this long, so that load
	// balancers stop sending before the listener closes (default 0).
	ShutdownDelay time.Duration

	// Session is how sessions are read.
	Session Session
	// DatabaseURL is DATABASE_URL: the app's PostgreSQL, required when
	// Session.Store is StoreDatabase. It may hold a password: never log it.
	DatabaseURL string
	// SpoolDatabaseURL is where the PostgreSQL spool lives:
	// ROUTEAPI_SPOOL_DATABASE_URL, else DatabaseURL. Also a secret.
	SpoolDatabaseURL string

	// InngestEventKey is INNGEST_EVENT_KEY. It is a secret.
	InngestEventKey string
	// InngestBaseURL is where events are sent (INNGEST_EVENT_API_BASE_URL,
	// INNGEST_BASE_URL, or a default that depends on InngestDev).
	InngestBaseURL string
	// InngestDev is INNGEST_DEV: send to a local Inngest dev server.
	InngestDev bool
	// InngestEnv is INNGEST_ENV: the Inngest branch environment, if any.
	InngestEnv string

	// SettingsPath is ROUTEAPI_SETTINGS, the app settings file.
	SettingsPath string
	// TrustedOrigins are the origins whose browser requests the cross-origin
	// check lets through whatever Host says: the app's own (the origins of
	// NEXTAUTH_URL and AUTH_URL, see appOrigins), then the extra ones in
	// ROUTEAPI_TRUSTED_ORIGINS.
	TrustedOrigins []string
	// PublishTimeout bounds how long a request waits for Inngest (ROUTEAPI_PUBLISH_TIMEOUT).
	PublishTimeout time.Duration

	// LogLevel and LogFormat configure the log (ROUTEAPI_LOG_LEVEL, ROUTEAPI_LOG_FORMAT).
	LogLevel  string
	LogFormat string

	// Spool is ROUTEAPI_SPOOL: "bolt" (a file in SpoolDir, one process) or
	// "postgres" (a table in DatabaseURL, shared by replicas).
	Spool string
	// SpoolDir is ROUTEAPI_SPOOL_DIR, where the bolt spool lives.
	SpoolDir string
	// SpoolMaxEvents is ROUTEAPI_SPOOL_MAX_EVENTS: waiting events beyond it are refused with 503.
	SpoolMaxEvents int
	// SpoolPoll is ROUTEAPI_SPOOL_POLL: how often the deliverer looks for due events.
	SpoolPoll time.Duration
	// SpoolMinFreeBytes is ROUTEAPI_SPOOL_MIN_FREE_BYTES: the bolt spool
	// refuses new events and new Idempotency-Keys (503) while less disk
	// space than this is free, so that queued events can still be claimed
	// and deleted; 0 turns the reserve off.
	SpoolMinFreeBytes int
	// BatchLinger, BatchMaxEvents and BatchMaxBytes bound one Event API
	// request (ROUTEAPI_BATCH_LINGER, ROUTEAPI_BATCH_MAX_EVENTS, ROUTEAPI_BATCH_MAX_BYTES).
	BatchLinger    time.Duration
	BatchMaxEvents int
	BatchMaxBytes  int
	// RetryMinBackoff and RetryMaxBackoff bound the delay between deliveries
	// of a spooled event (ROUTEAPI_RETRY_MIN_BACKOFF, ROUTEAPI_RETRY_MAX_BACKOFF).
	RetryMinBackoff time.Duration
	RetryMaxBackoff time.Duration
	// BreakerThreshold consecutive failures open the circuit; it probes every
	// BreakerCooldown (ROUTEAPI_BREAKER_THRESHOLD, ROUTEAPI_BREAKER_COOLDOWN).
	BreakerThreshold int
	BreakerCooldown  time.Duration

	// MaxInflightBytes is ROUTEAPI_MAX_INFLIGHT_BYTES: the request body bytes
	// held at once; a request that finds no room within AdmissionWait gets
	// 503 overloaded (internal/admission).
	MaxInflightBytes int64
	// AdmissionWait is ROUTEAPI_ADMISSION_WAIT: how long a request waits for
	// room in that budget.
	AdmissionWait time.Duration
	// ReadTimeout is ROUTEAPI_READ_TIMEOUT: the time from the start of a
	// request to the last byte of its body; a body still arriving then gets
	// 408 request-timeout.
	ReadTimeout time.Duration
}

// Session is the part of the configuration that reads sessions.
type Session struct {
	// Dev is ROUTEAPI_DEV: development conveniences such as a fixed secret.
	Dev bool
	// Secret is the next-auth secret (NEXTAUTH_SECRET, else AUTH_SECRET), as written.
	Secret string
	// SecretIsDevDefault reports that Secret is DevSecret because none was set.
	SecretIsDevDefault bool
	// NextAuthURL is NEXTAUTH_URL, nil when unset.
	NextAuthURL *url.URL

	// Format is ROUTEAPI_SESSION_FORMAT: auto (default), v4 or v5.
	Format string
	// V5Secrets are the Auth.js v5 secrets, current first: AUTH_SECRET (else
	// NEXTAUTH_SECRET), then the older AUTH_SECRET_1, AUTH_SECRET_2,
	// AUTH_SECRET_3, those that are set.
	V5Secrets []string
	// UserIDClaim is ROUTEAPI_USER_ID_CLAIM: the JWT claim holding the user id (default sub).
	UserIDClaim string

	// Store is ROUTEAPI_SESSION_STORE: StoreJWT (default) or StoreDatabase.
	Store string
	// DBSchema is ROUTEAPI_DB_SCHEMA: SchemaPrisma (default) or SchemaPGAdapter.
	DBSchema string
	// SessionTable and UserTable are ROUTEAPI_DB_SESSION_TABLE and
	// ROUTEAPI_DB_USER_TABLE, for apps that rename the tables (Prisma @@map);
	// empty means the schema's default.
	SessionTable, UserTable string
	// CacheTTL is ROUTEAPI_SESSION_CACHE_TTL: how long a resolved session
	// (database or decoded JWT) is cached (0: off).
	CacheTTL time.Duration
}

// SecureCookies reports whether next-auth uses the __Secure- cookie names,
// which it does when NEXTAUTH_URL is https.
func (s Session) SecureCookies() bool {
	return s.NextAuthURL != nil && s.NextAuthURL.Scheme == "https"
}

// LoadSession reads only the session part of the configuration (for
// `routeapi token`, which needs no Inngest settings).
func LoadSession(getenv func(string) string) (Session, error) {
	var errs []string
	s := loadSession(getenv, func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	})
	if len(errs) > 0 {
		return Session{}, errors.New("invalid configuration: " + strings.Join(errs, "; "))
	}
	return s, nil
}

func loadSession(getenv func(string) string, bad func(name, format string, args ...any)) Session {
	var s Session
	var err error
	if s.Dev, err = parseBool(strings.TrimSpace(getenv("ROUTEAPI_DEV"))); err != nil {
		bad("ROUTEAPI_DEV", "%v", err)
	}
	// next-auth v4 reads NEXTAUTH_SECRET, then AUTH_SECRET. The value is used
	// exactly as written (not trimmed, not decoded).
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	s.Store = strings.ToLower(get("ROUTEAPI_SESSION_STORE"))
	switch s.Store {
	case "":
		s.Store = StoreJWT
	case StoreJWT, StoreDatabase:
	default:
		bad("ROUTEAPI_SESSION_STORE", "want jwt or database, got %q", s.Store)
	}
	s.Format = strings.ToLower(get("ROUTEAPI_SESSION_FORMAT"))
	switch s.Format {
	case "":
		s.Format = "auto"
	case "auto", "v4", "v5":
	default:
		bad("ROUTEAPI_SESSION_FORMAT", "want auto, v4 or v5, got %q", s.Format)
	}
	s.Secret = getenv("NEXTAUTH_SECRET")
	if s.Secret == "" {
		s.Secret = getenv("AUTH_SECRET")
	}
	if s.Secret == "" {
		switch {
		case s.Dev:
			s.Secret, s.SecretIsDevDefault = DevSecret, true
		case s.Store == StoreDatabase:
			// Database sessions are opaque tokens: no secret is needed.
		default:
			bad("NEXTAUTH_SECRET", "required (or AUTH_SECRET): the Next.js app's next-auth secret; set ROUTEAPI_DEV=1 to use a development secret")
		}
	}
	// Auth.js v5: the current secret first (AUTH_SECRET, else NEXTAUTH_SECRET,
	// the one the app signs with), then the older AUTH_SECRET_1..3. Tokens
	// with a kid are matched to any of them; tokens without one only to the first.
	switch v5 := getenv("AUTH_SECRET"); {
	case v5 != "":
		s.V5Secrets = append(s.V5Secrets, v5)
	case s.Secret != "":
		s.V5Secrets = append(s.V5Secrets, s.Secret)
	}
	for _, n := range []string{"AUTH_SECRET_1", "AUTH_SECRET_2", "AUTH_SECRET_3"} {
		if v := getenv(n); v != "" {
			s.V5Secrets = append(s.V5Secrets, v)
		}
	}
	s.UserIDClaim = get("ROUTEAPI_USER_ID_CLAIM")
	if s.UserIDClaim == "" {
		s.UserIDClaim = "sub"
	}
	if strings.ContainsAny(s.UserIDClaim, " \t\n") || len(s.UserIDClaim) > 100 {
		bad("ROUTEAPI_USER_ID_CLAIM", "want a claim name such as sub, id or uid, got %q", s.UserIDClaim)
	}

	s.DBSchema = strings.ToLower(get("ROUTEAPI_DB_SCHEMA"))
	switch s.DBSchema {
	case "":
		s.DBSchema = SchemaPrisma
	case SchemaPrisma, SchemaPGAdapter:
	default:
		bad("ROUTEAPI_DB_SCHEMA", "want prisma or pg-adapter, got %q", s.DBSchema)
	}
	s.SessionTable, s.UserTable = get("ROUTEAPI_DB_SESSION_TABLE"), get("ROUTEAPI_DB_USER_TABLE")
	for name, v := range map[string]string{"ROUTEAPI_DB_SESSION_TABLE": s.SessionTable, "ROUTEAPI_DB_USER_TABLE": s.UserTable} {
		if v != "" && !validTableName(v) {
			bad(name, "want a table name such as sessions or app.sessions (letters, digits, _), got %q", v)
		}
	}
	s.CacheTTL = DefaultSessionCacheTTL
	if raw := get("ROUTEAPI_SESSION_CACHE_TTL"); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 || d > maxSessionCacheTTL {
			bad("ROUTEAPI_SESSION_CACHE_TTL", "want a duration from 0 (off) to %s, e.g. 5s, got %q", maxSessionCacheTTL, raw)
		} else {
			s.CacheTTL = d
		}
	}
	if raw := strings.TrimSpace(getenv("NEXTAUTH_URL")); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("NEXTAUTH_URL", "want an absolute http(s) URL, got %q", raw)
		} else {
			s.NextAuthURL = u
		}
	}
	return s
}

// Part is a part of the configuration, for subcommands that need only some
// of it: each reads and validates only the variables its parts use, so
// `routeapi spool stats` does not demand NEXTAUTH_SECRET or INNGEST_EVENT_KEY.
type Part uint

// The parts of the configuration.
const (
	// PartSession is the session secret and store (Session, DatabaseURL).
	PartSession Part = 1 << iota
	// PartListen is the listen address and shutdown (Addr, ShutdownDelay).
	PartListen
	// PartInngest is where and how events are sent (Inngest*, PublishTimeout).
	PartInngest
	// PartDelivery is the spool, batching, retries and circuit breaker.
	PartDelivery
	// PartHTTP is what only the HTTP service reads (SettingsPath,
	// TrustedOrigins, the request limits of loadLimits).
	PartHTTP
	// PartLog is the log level and format; every subcommand that logs has it.
	PartLog

	// PartsServe is everything: what `routeapi serve` needs.
	PartsServe = PartSession | PartListen | PartInngest | PartDelivery | PartHTTP | PartLog
	// PartsSpool is what reading the spool needs (`routeapi spool stats|dead`).
	PartsSpool = PartDelivery | PartLog
	// PartsReplay is what sending the spool's events needs (`routeapi spool replay`).
	PartsReplay = PartDelivery | PartInngest | PartLog
)

// Load reads the whole configuration (PartsServe) through getenv and
// validates it. The error, if any, is one line naming each offending variable.
func Load(getenv func(string) string) (Config, error) {
	return LoadParts(getenv, PartsServe)
}

// LoadParts reads and validates only the given parts; the fields of the
// other parts stay zero.
func LoadParts(getenv func(string) string, parts Part) (Config, error) {
	var errs []string
	bad := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	var c Config
	if parts&PartHTTP != 0 {
		c.SettingsPath = cmp.Or(get("ROUTEAPI_SETTINGS"), DefaultSettingsPath)
		c.TrustedOrigins = appOrigins(getenv, bad)
		for _, o := range strings.Split(get("ROUTEAPI_TRUSTED_ORIGINS"), ",") {
			o = strings.TrimSpace(o)
			if o == "" {
				continue
			}
			if err := checkOrigin(o); err != nil {
				bad("ROUTEAPI_TRUSTED_ORIGINS", "%v", err)
				continue
			}
			if n, ok := originOf(o); ok {
				o = n // as a browser writes Origin, which CrossOriginProtection compares byte for byte
			}
			if !contains(c.TrustedOrigins, o) {
				c.TrustedOrigins = append(c.TrustedOrigins, o)
			}
		}
		loadLimits(&c, get, bad)
	}
	if parts&PartSession != 0 {
		c.Session = loadSession(getenv, bad)
		c.DatabaseURL = get("DATABASE_URL")
	}
	if parts&PartListen != 0 {
		loadListen(&c, get, bad)
	}
	if parts&PartInngest != 0 {
		loadInngest(&c, get, bad)
	}
	if parts&PartLog != 0 {
		loadLog(&c, get, bad)
	}
	if parts&PartDelivery != 0 {
		if parts&PartSession == 0 {
			c.DatabaseURL = get("DATABASE_URL") // the spool's fallback URL
		}
		loadDelivery(&c, get, bad)
	}

	if len(errs) > 0 {
		return Config{}, errors.New("invalid configuration: " + strings.Join(errs, "; "))
	}
	return c, nil
}

// loadListen reads the listen address and the shutdown delay. Dev mode
// (ROUTEAPI_DEV) is read here too: it keeps a bare PORT on loopback.
func loadListen(c *Config, get func(string) string, bad func(name, format string, args ...any)) {
	if addr := get("ROUTEAPI_ADDR"); addr != "" {
		if _, port, err := net.SplitHostPort(addr); err != nil || !validPort(port) {
			bad("ROUTEAPI_ADDR", "want host:port with a numeric port, e.g. 127.0.0.1:8390, got %q", addr)
		}
		c.Addr = addr
	} else {
		port := get("PORT")
		if port == "" {
			port = DefaultPort
		}
		if !validPort(port) {
			bad("PORT", "want a port number from 0 to 65535, got %q", port)
		}
		c.Addr = ":" + port
		// Dev mode may run on the public development secret: anyone who can
		// reach the port could mint a session. Loopback unless asked otherwise.
		if dev, _ := parseBool(get("ROUTEAPI_DEV")); dev { // a bad value is reported by the session part
			c.Addr, c.AddrLoopbackForDev = "127.0.0.1:"+port, true
		}
	}
	if raw := get("ROUTEAPI_SHUTDOWN_DELAY"); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 || d > maxShutdownDelay {
			bad("ROUTEAPI_SHUTDOWN_DELAY", "want a duration from 0 to %s, e.g. 5s, got %q", maxShutdownDelay, raw)
		} else {
			c.ShutdownDelay = d
		}
	}
}

// loadInngest reads where and how events are sent.
func loadInngest(c *Config, get func(string) string, bad func(name, format string, args ...any)) {
	c.PublishTimeout = DefaultPublishTimeout
	c.InngestEventKey = get("INNGEST_EVENT_KEY")
	c.InngestEnv = get("INNGEST_ENV")
	var err error
	// INNGEST_DEV is a boolean here, or the dev server's URL as the
	// Inngest SDKs allow; unlike inngestgo, "0" and "false" mean off.
	devURL := ""
	if raw := get("INNGEST_DEV"); isHTTPURL(raw) {
		c.InngestDev, devURL = true, strings.TrimRight(raw, "/")
	} else if c.InngestDev, err = parseBool(raw); err != nil {
		bad("INNGEST_DEV", "%v, or the dev server's http(s) URL", err)
	}
	c.InngestBaseURL = get("INNGEST_EVENT_API_BASE_URL")
	baseVar := "INNGEST_EVENT_API_BASE_URL"
	if c.InngestBaseURL == "" {
		c.InngestBaseURL, baseVar = get("INNGEST_BASE_URL"), "INNGEST_BASE_URL"
	}
	switch {
	case c.InngestBaseURL != "":
		if !isHTTPURL(c.InngestBaseURL) {
			bad(baseVar, "want an absolute http(s) URL, got %q", c.InngestBaseURL)
		}
		c.InngestBaseURL = strings.TrimRight(c.InngestBaseURL, "/")
	case devURL != "":
		c.InngestBaseURL = devURL
	case c.InngestDev:
		c.InngestBaseURL = DefaultDevInngestURL
	default:
		c.InngestBaseURL = DefaultCloudInngestURL
	}
	if c.InngestEventKey == "" && !c.InngestDev {
		bad("INNGEST_EVENT_KEY", "required unless INNGEST_DEV=1 (Inngest Cloud refuses events without a key)")
	}
	if strings.ContainsAny(c.InngestEventKey, "/?#% ") {
		bad("INNGEST_EVENT_KEY", "contains characters an event key cannot have")
	}
	if raw := get("ROUTEAPI_PUBLISH_TIMEOUT"); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 || d > maxPublishTimeout {
			bad("ROUTEAPI_PUBLISH_TIMEOUT", "want a duration above 0 and at most %s, e.g. 2s, got %q", maxPublishTimeout, raw)
		} else {
			c.PublishTimeout = d
		}
	}
}

// loadLog reads the log level and format.
func loadLog(c *Config, get func(string) string, bad func(name, format string, args ...any)) {
	c.LogLevel = strings.ToLower(get("ROUTEAPI_LOG_LEVEL"))
	switch c.LogLevel {
	case "":
		c.LogLevel = "info"
	case "debug", "info", "warn", "error":
	default:
		bad("ROUTEAPI_LOG_LEVEL", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	c.LogFormat = strings.ToLower(get("ROUTEAPI_LOG_FORMAT"))
	switch c.LogFormat {
	case "":
		c.LogFormat = "json"
	case "json", "text":
	default:
		bad("ROUTEAPI_LOG_FORMAT", "want json or text, got %q", c.LogFormat)
	}
}

// validTableName accepts table or schema.table made of letters, digits and _.
func validTableName(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) > 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 63 {
			return false
		}
		for i, r := range p {
			letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
			digit := i > 0 && r >= '0' && r <= '9'
			if !letter && !digit {
				return false
			}
		}
	}
	return true
}

// loadDelivery reads the spool, batching, retry and breaker settings.
func loadDelivery(c *Config, get func(string) string, bad func(name, format string, args ...any)) {
	c.Spool = strings.ToLower(get("ROUTEAPI_SPOOL"))
	switch c.Spool {
	case "":
		c.Spool = SpoolBolt
	case SpoolBolt, SpoolPostgres:
	default:
		bad("ROUTEAPI_SPOOL", "want bolt or postgres, got %q", c.Spool)
	}
	c.SpoolDir = get("ROUTEAPI_SPOOL_DIR")
	if c.SpoolDir == "" {
		c.SpoolDir = DefaultSpoolDir
	}
	// DATABASE_URL is the app's database (database sessions). The PostgreSQL
	// spool writes, so it may have its own URL (ROUTEAPI_SPOOL_DATABASE_URL,
	// e.g. a user with write rights or another database); else DATABASE_URL.
	checkURL := func(name, value, usedBy string) {
		if value == "" {
			bad(name, "required with %s: a PostgreSQL URL", usedBy)
		} else if u, err := url.Parse(value); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			// The value may hold a password: never echo it.
			bad(name, "want a postgres:// or postgresql:// URL")
		} else if _, err := pgurl.Parse(value); err != nil {
			// Prisma's parameters are read as Prisma reads them; what cannot
			// be honoured is refused here, naming the parameter (never the URL).
			bad(name, "%v", err)
		}
	}
	if c.Session.Store == StoreDatabase {
		checkURL("DATABASE_URL", c.DatabaseURL, "ROUTEAPI_SESSION_STORE=database")
	}
	c.SpoolDatabaseURL = cmp.Or(get("ROUTEAPI_SPOOL_DATABASE_URL"), c.DatabaseURL)
	if c.Spool == SpoolPostgres {
		name := "ROUTEAPI_SPOOL_DATABASE_URL"
		if get(name) == "" {
			name = "DATABASE_URL"
		}
		checkURL(name, c.SpoolDatabaseURL, "ROUTEAPI_SPOOL=postgres (ROUTEAPI_SPOOL_DATABASE_URL, else DATABASE_URL)")
	}
	intVar := func(name string, def, lo, hi int) int {
		raw := get(name)
		if raw == "" {
			return def
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < lo || n > hi {
			bad(name, "want a whole number from %d to %d, got %q", lo, hi, raw)
			return def
		}
		return n
	}
	durVar := func(name string, def, lo, hi time.Duration) time.Duration {
		return durationVar(get, bad, name, def, lo, hi)
	}
	c.SpoolMaxEvents = intVar("ROUTEAPI_SPOOL_MAX_EVENTS", DefaultSpoolMaxEvents, 1, 1<<30)
	c.SpoolPoll = durVar("ROUTEAPI_SPOOL_POLL", DefaultSpoolPoll, 10*time.Millisecond, time.Minute)
	c.SpoolMinFreeBytes = intVar("ROUTEAPI_SPOOL_MIN_FREE_BYTES", DefaultSpoolMinFreeBytes, 0, 1<<40)
	c.BatchLinger = durVar("ROUTEAPI_BATCH_LINGER", DefaultBatchLinger, 0, time.Second)
	c.BatchMaxEvents = intVar("ROUTEAPI_BATCH_MAX_EVENTS", DefaultBatchMaxEvents, 1, maxBatchEvents)
	c.BatchMaxBytes = intVar("ROUTEAPI_BATCH_MAX_BYTES", DefaultBatchMaxBytes, 1<<10, 64<<20)
	c.RetryMinBackoff = durVar("ROUTEAPI_RETRY_MIN_BACKOFF", DefaultRetryMinBackoff, time.Millisecond, time.Hour)
	c.RetryMaxBackoff = durVar("ROUTEAPI_RETRY_MAX_BACKOFF", DefaultRetryMaxBackoff, time.Millisecond, 24*time.Hour)
	if c.RetryMaxBackoff < c.RetryMinBackoff {
		bad("ROUTEAPI_RETRY_MAX_BACKOFF", "must not be below ROUTEAPI_RETRY_MIN_BACKOFF (%s)", c.RetryMinBackoff)
	}
	c.BreakerThreshold = intVar("ROUTEAPI_BREAKER_THRESHOLD", DefaultBreakerThreshold, 1, 1000)
	c.BreakerCooldown = durVar("ROUTEAPI_BREAKER_COOLDOWN", DefaultBreakerCooldown, 10*time.Millisecond, time.Hour)
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// parseBool accepts 1/true/yes/on and 0/false/no/off (any case) and empty (false).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("want 1/true or 0/false, got %q", s)
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// checkOrigin accepts what http.CrossOriginProtection.AddTrustedOrigin
// accepts: scheme://host[:port], nothing more.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("want origins like https://app.example.com, got %q", o)
	}
	return nil
}
