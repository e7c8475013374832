// Package config reads routeapi's configuration from the environment into one
// validated Config. Nothing else in routeapi reads environment variables.
//
// Each variable is read on one line through env (env.go), which trims it,
// applies its default and bounds, and collects a message for each bad one:
// the error names every offending variable at once. The README's
// configuration table lists the same variables, defaults and bounds.
package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	inngestenv "github.com/inngest/inngestgo/pkg/env"
)

// Defaults for values that may be left unset.
const (
	// DefaultPort is routeapi's port when neither ROUTEAPI_ADDR nor PORT is
	// set. It stays clear of Next.js (3000, and 3001, 3002... that next dev
	// takes when 3000 is busy), of the Inngest dev server (8288, 8289) and of
	// every port the dev server probes for apps when discovery is on
	// (80, 443, 3000-3010, 5000, 5173, 8000, 8080, 8081, 8787, 8888, 8910-8915:
	// github.com/inngest/inngest pkg/devserver/discovery, v1.0.0).
	DefaultPort           = "8390"
	DefaultSettingsPath   = "settings.yaml"
	DefaultPublishTimeout = 2 * time.Second
	// DefaultDevInngestURL is the Inngest dev server's address, as inngestgo has it.
	DefaultDevInngestURL = inngestenv.DevServerOrigin
	// DefaultCloudInngestURL is Inngest Cloud's Event API, as inngestgo has it.
	DefaultCloudInngestURL = inngestenv.DefaultEventAPIOrigin
	maxPublishTimeout      = time.Minute
	maxShutdownDelay       = time.Minute
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
	// BatchMaxBytes counts the encoded events plus the comma between each
	// two, not the array's brackets (a body is at most BatchMaxBytes+2
	// bytes); the first event of a request always joins, so an event larger
	// than it goes alone (delivery.BatcherConfig.MaxBytes).
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
	e := &env{getenv: getenv}
	var c Config
	if parts&PartHTTP != 0 {
		c.SettingsPath = e.strOr("ROUTEAPI_SETTINGS", DefaultSettingsPath)
		c.TrustedOrigins = trustedOrigins(e)
		loadLimits(&c, e)
	}
	if parts&PartSession != 0 {
		c.Session = loadSession(e)
	}
	if parts&(PartSession|PartDelivery) != 0 {
		c.DatabaseURL = e.str("DATABASE_URL") // the session store's, and the spool's fallback
	}
	if parts&PartListen != 0 {
		c.Addr, c.AddrLoopbackForDev = listenAddr(e)
		c.ShutdownDelay = e.durWant("ROUTEAPI_SHUTDOWN_DELAY", 0, 0, maxShutdownDelay,
			fmt.Sprintf("a duration from 0 to %s, e.g. 5s", maxShutdownDelay))
	}
	if parts&PartInngest != 0 {
		loadInngest(&c, e)
	}
	if parts&PartLog != 0 {
		c.LogLevel = oneOf(e, "ROUTEAPI_LOG_LEVEL", "info", "debug", "info", "warn", "error")
		c.LogFormat = oneOf(e, "ROUTEAPI_LOG_FORMAT", "json", "json", "text")
	}
	if parts&PartDelivery != 0 {
		loadDelivery(&c, e)
	}
	if err := e.err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// listenAddr is ROUTEAPI_ADDR, else ":"+PORT (PORT's default DefaultPort).
// Dev mode (ROUTEAPI_DEV) keeps a bare PORT on loopback: it may run on the
// public development secret, and anyone who can reach the port could mint a
// session. A bad ROUTEAPI_DEV is reported by the session part.
func listenAddr(e *env) (addr string, loopbackForDev bool) {
	if addr := e.str("ROUTEAPI_ADDR"); addr != "" {
		if _, port, err := net.SplitHostPort(addr); err != nil || !validPort(port) {
			e.bad("ROUTEAPI_ADDR", "want host:port with a numeric port, e.g. 127.0.0.1:8390, got %q", addr)
		}
		return addr, false
	}
	port := e.strOr("PORT", DefaultPort)
	if !validPort(port) {
		e.bad("PORT", "want a port number from 0 to 65535, got %q", port)
	}
	if dev, _ := parseBool(e.str("ROUTEAPI_DEV")); dev {
		return "127.0.0.1:" + port, true
	}
	return ":" + port, false
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// loadInngest reads where and how events are sent.
func loadInngest(c *Config, e *env) {
	c.InngestEventKey = e.str("INNGEST_EVENT_KEY")
	c.InngestEnv = e.str("INNGEST_ENV")
	dev, devURL := inngestDev(e)
	c.InngestDev = dev
	c.InngestBaseURL = inngestBaseURL(e, dev, devURL)
	if c.InngestEventKey == "" && !dev {
		e.bad("INNGEST_EVENT_KEY", "required unless INNGEST_DEV=1 (Inngest Cloud refuses events without a key)")
	}
	if strings.ContainsAny(c.InngestEventKey, "/?#% ") {
		e.bad("INNGEST_EVENT_KEY", "contains characters an event key cannot have")
	}
	c.PublishTimeout = e.durWant("ROUTEAPI_PUBLISH_TIMEOUT", DefaultPublishTimeout, 1, maxPublishTimeout,
		fmt.Sprintf("a duration above 0 and at most %s, e.g. 2s", maxPublishTimeout))
}

// inngestDev reads INNGEST_DEV: a boolean here, or the dev server's URL as
// the Inngest SDKs allow (returned without a trailing slash); unlike
// inngestgo, "0" and "false" mean off.
func inngestDev(e *env) (on bool, url string) {
	raw := e.str("INNGEST_DEV")
	if isHTTPURL(raw) {
		return true, strings.TrimRight(raw, "/")
	}
	on, err := parseBool(raw)
	if err != nil {
		e.bad("INNGEST_DEV", "%v, or the dev server's http(s) URL", err)
	}
	return on, ""
}

// inngestBaseURL is INNGEST_EVENT_API_BASE_URL, else INNGEST_BASE_URL, else
// INNGEST_DEV's URL, else the dev server's or Inngest Cloud's default; without
// a trailing slash.
func inngestBaseURL(e *env, dev bool, devURL string) string {
	name := "INNGEST_EVENT_API_BASE_URL"
	if e.str(name) == "" {
		name = "INNGEST_BASE_URL"
	}
	switch base := e.httpURL(name); {
	case base != "":
		return strings.TrimRight(base, "/")
	case devURL != "":
		return devURL
	case dev:
		return DefaultDevInngestURL
	}
	return DefaultCloudInngestURL
}
