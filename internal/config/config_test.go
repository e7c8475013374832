package config_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/config"
	"github.com/routeapi/routeapi/internal/dbsession"
	"github.com/routeapi/routeapi/internal/testkit/testenv"
)

// env returns a getenv over a map (testkit/testenv). Nothing reads the real environment.
var env = testenv.Map

// with returns base plus the pairs kv (k1, v1, k2, v2, ...); "" values delete.
func with(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

// minimal is the least a production configuration needs.
var minimal = map[string]string{"NEXTAUTH_SECRET": "s3cret", "INNGEST_EVENT_KEY": "evt-key"}

func load(t *testing.T, m map[string]string) config.Config {
	t.Helper()
	c, err := config.Load(env(m))
	if err != nil {
		t.Fatalf("Load(%v): %v", m, err)
	}
	return c
}

func TestLoadDefaults(t *testing.T) {
	c := load(t, minimal)
	want := config.Config{
		Addr: ":8390",
		Session: config.Session{Secret: "s3cret", Format: "auto", V5Secrets: []string{"s3cret"}, UserIDClaim: "sub",
			Store: config.StoreJWT, DBSchema: dbsession.SchemaPrisma, CacheTTL: config.DefaultSessionCacheTTL},
		InngestEventKey: "evt-key",
		InngestBaseURL:  "https://inn.gs",
		SettingsPath:    "settings.yaml",
		PublishTimeout:  2 * time.Second,
		LogLevel:        "info",
		LogFormat:       "json",

		Spool:             config.SpoolBolt,
		SpoolDir:          "./data",
		SpoolMaxEvents:    100_000,
		SpoolPoll:         500 * time.Millisecond,
		SpoolMinFreeBytes: 64 << 20,
		BatchLinger:       2 * time.Millisecond,
		BatchMaxEvents:    100,
		BatchMaxBytes:     1 << 20,
		RetryMinBackoff:   250 * time.Millisecond,
		RetryMaxBackoff:   30 * time.Second,
		BreakerThreshold:  5,
		BreakerCooldown:   time.Second,

		MaxInflightBytes: 32 << 20,
		AdmissionWait:    time.Second,
		ReadTimeout:      30 * time.Second,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Load(minimal) =\n%+v\nwant\n%+v", c, want)
	}
	if c.Session.SecureCookies() {
		t.Error("SecureCookies without NEXTAUTH_URL: want false")
	}
}

func TestLoadValues(t *testing.T) {
	c := load(t, with(minimal,
		"ROUTEAPI_SETTINGS", " /etc/routeapi/settings.yaml ",
		"INNGEST_ENV", "branch-1",
		"ROUTEAPI_LOG_LEVEL", "DEBUG",
		"ROUTEAPI_LOG_FORMAT", "Text",
		"NEXTAUTH_URL", "https://app.example.com",
	))
	if c.SettingsPath != "/etc/routeapi/settings.yaml" || c.InngestEnv != "branch-1" || c.LogLevel != "debug" || c.LogFormat != "text" {
		t.Errorf("Load = %+v", c)
	}
	if !c.Session.SecureCookies() || c.Session.NextAuthURL.Host != "app.example.com" {
		t.Errorf("NEXTAUTH_URL https: SecureCookies = %v, URL %v", c.Session.SecureCookies(), c.Session.NextAuthURL)
	}
	if c := load(t, with(minimal, "NEXTAUTH_URL", "http://localhost:3000")); c.Session.SecureCookies() {
		t.Error("NEXTAUTH_URL http: SecureCookies = true, want false")
	}
}

func TestLoadAddr(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{minimal, ":8390"},
		{with(minimal, "PORT", "8080"), ":8080"},
		{with(minimal, "PORT", " 8080 "), ":8080"},
		{with(minimal, "ROUTEAPI_ADDR", "127.0.0.1:9000"), "127.0.0.1:9000"},
		{with(minimal, "ROUTEAPI_ADDR", "127.0.0.1:9000", "PORT", "8080"), "127.0.0.1:9000"},
		{with(minimal, "ROUTEAPI_ADDR", "[::1]:9000", "PORT", "junk"), "[::1]:9000"}, // PORT is not read at all
	} {
		if got := load(t, tc.env).Addr; got != tc.want {
			t.Errorf("Load(%v).Addr = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestLoadSecret(t *testing.T) {
	base := with(minimal, "NEXTAUTH_SECRET", "")
	for _, tc := range []struct {
		name        string
		env         map[string]string
		want        string
		wantDefault bool
	}{
		{"NEXTAUTH_SECRET wins", with(base, "NEXTAUTH_SECRET", "next", "AUTH_SECRET", "auth"), "next", false},
		{"AUTH_SECRET as fallback", with(base, "AUTH_SECRET", "auth"), "auth", false},
		{"used exactly as written", with(base, "NEXTAUTH_SECRET", " padded= "), " padded= ", false},
		{"dev default", with(base, "ROUTEAPI_DEV", "1"), config.DevSecret, true},
		{"dev with a secret", with(base, "ROUTEAPI_DEV", "true", "AUTH_SECRET", "auth"), "auth", false},
	} {
		c := load(t, tc.env)
		if c.Session.Secret != tc.want || c.Session.SecretIsDevDefault != tc.wantDefault {
			t.Errorf("%s: secret %q (dev default %v), want %q (%v)", tc.name, c.Session.Secret, c.Session.SecretIsDevDefault, tc.want, tc.wantDefault)
		}
	}
	if c := load(t, with(base, "ROUTEAPI_DEV", "1")); !c.Session.Dev {
		t.Error("ROUTEAPI_DEV=1: Session.Dev = false")
	}

	_, err := config.Load(env(base))
	if err == nil || !strings.Contains(err.Error(), "NEXTAUTH_SECRET") || !strings.Contains(err.Error(), "AUTH_SECRET") {
		t.Fatalf("Load without a secret: %v; want an error naming NEXTAUTH_SECRET (or AUTH_SECRET)", err)
	}
	if _, err := config.Load(env(with(base, "ROUTEAPI_DEV", "0"))); err == nil {
		t.Error("ROUTEAPI_DEV=0 without a secret: want an error")
	}
}

func TestLoadInngest(t *testing.T) {
	noKey := with(minimal, "INNGEST_EVENT_KEY", "")
	for _, tc := range []struct {
		name     string
		env      map[string]string
		wantDev  bool
		wantBase string
	}{
		{"cloud default", minimal, false, "https://inn.gs"},
		{"dev 1", with(noKey, "INNGEST_DEV", "1"), true, "http://127.0.0.1:8288"},
		{"dev true", with(noKey, "INNGEST_DEV", "TRUE"), true, "http://127.0.0.1:8288"},
		{"dev 0", with(minimal, "INNGEST_DEV", "0"), false, "https://inn.gs"},
		{"dev false", with(minimal, "INNGEST_DEV", "false"), false, "https://inn.gs"},
		{"dev blank", with(minimal, "INNGEST_DEV", "  "), false, "https://inn.gs"},
		{"dev URL", with(noKey, "INNGEST_DEV", "http://inngest:8288/"), true, "http://inngest:8288"},
		{"INNGEST_BASE_URL", with(minimal, "INNGEST_BASE_URL", "https://inngest.internal/"), false, "https://inngest.internal"},
		{"INNGEST_BASE_URL beats dev default", with(noKey, "INNGEST_DEV", "1", "INNGEST_BASE_URL", "http://b:1"), true, "http://b:1"},
		{"INNGEST_BASE_URL beats dev URL", with(noKey, "INNGEST_DEV", "http://d:1", "INNGEST_BASE_URL", "http://b:1"), true, "http://b:1"},
		{"event API URL beats INNGEST_BASE_URL", with(minimal, "INNGEST_EVENT_API_BASE_URL", "http://e:1", "INNGEST_BASE_URL", "http://b:1"), false, "http://e:1"},
		{"event API URL beats dev URL", with(noKey, "INNGEST_DEV", "http://d:1", "INNGEST_EVENT_API_BASE_URL", "http://e:1/"), true, "http://e:1"},
	} {
		c := load(t, tc.env)
		if c.InngestDev != tc.wantDev || c.InngestBaseURL != tc.wantBase {
			t.Errorf("%s: dev %v, base %q; want %v, %q", tc.name, c.InngestDev, c.InngestBaseURL, tc.wantDev, tc.wantBase)
		}
	}
	if c := load(t, with(noKey, "INNGEST_DEV", "1")); c.InngestEventKey != "" {
		t.Errorf("dev without a key: key %q, want empty", c.InngestEventKey)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		vars []string // each must be named in the error
	}{
		{"INNGEST_DEV junk", with(minimal, "INNGEST_DEV", "maybe"), []string{"INNGEST_DEV"}},
		{"INNGEST_DEV URL without host", with(minimal, "INNGEST_DEV", "http://"), []string{"INNGEST_DEV"}},
		{"event key required outside dev", with(minimal, "INNGEST_EVENT_KEY", ""), []string{"INNGEST_EVENT_KEY"}},
		{"event key required with INNGEST_DEV=0", with(minimal, "INNGEST_EVENT_KEY", "", "INNGEST_DEV", "0"), []string{"INNGEST_EVENT_KEY"}},
		{"event key with a slash", with(minimal, "INNGEST_EVENT_KEY", "a/b"), []string{"INNGEST_EVENT_KEY"}},
		{"event API URL not http", with(minimal, "INNGEST_EVENT_API_BASE_URL", "ftp://x"), []string{"INNGEST_EVENT_API_BASE_URL"}},
		{"INNGEST_BASE_URL relative", with(minimal, "INNGEST_BASE_URL", "inn.gs"), []string{"INNGEST_BASE_URL"}},
		{"PORT junk", with(minimal, "PORT", "http"), []string{"PORT"}},
		{"PORT too big", with(minimal, "PORT", "65536"), []string{"PORT"}},
		{"ROUTEAPI_ADDR without port", with(minimal, "ROUTEAPI_ADDR", "localhost"), []string{"ROUTEAPI_ADDR"}},
		{"ROUTEAPI_DEV junk", with(minimal, "ROUTEAPI_DEV", "yes please"), []string{"ROUTEAPI_DEV"}},
		{"NEXTAUTH_URL relative", with(minimal, "NEXTAUTH_URL", "/api/auth"), []string{"NEXTAUTH_URL"}},
		{"log level", with(minimal, "ROUTEAPI_LOG_LEVEL", "verbose"), []string{"ROUTEAPI_LOG_LEVEL"}},
		{"log format", with(minimal, "ROUTEAPI_LOG_FORMAT", "xml"), []string{"ROUTEAPI_LOG_FORMAT"}},
		{"publish timeout junk", with(minimal, "ROUTEAPI_PUBLISH_TIMEOUT", "2"), []string{"ROUTEAPI_PUBLISH_TIMEOUT"}},
		{"publish timeout zero", with(minimal, "ROUTEAPI_PUBLISH_TIMEOUT", "0s"), []string{"ROUTEAPI_PUBLISH_TIMEOUT"}},
		{"publish timeout negative", with(minimal, "ROUTEAPI_PUBLISH_TIMEOUT", "-1s"), []string{"ROUTEAPI_PUBLISH_TIMEOUT"}},
		{"publish timeout above a minute", with(minimal, "ROUTEAPI_PUBLISH_TIMEOUT", "61s"), []string{"ROUTEAPI_PUBLISH_TIMEOUT"}},
		{"trusted origin with a path", with(minimal, "ROUTEAPI_TRUSTED_ORIGINS", "https://a.example/app"), []string{"ROUTEAPI_TRUSTED_ORIGINS"}},
		{"trusted origin without scheme", with(minimal, "ROUTEAPI_TRUSTED_ORIGINS", "a.example"), []string{"ROUTEAPI_TRUSTED_ORIGINS"}},
		{"session format", with(minimal, "ROUTEAPI_SESSION_FORMAT", "v6"), []string{"ROUTEAPI_SESSION_FORMAT"}},
		{"session store", with(minimal, "ROUTEAPI_SESSION_STORE", "redis"), []string{"ROUTEAPI_SESSION_STORE"}},
		{"database store without URL", with(minimal, "ROUTEAPI_SESSION_STORE", "database"), []string{"DATABASE_URL"}},
		{"database URL not postgres", with(minimal, "ROUTEAPI_SESSION_STORE", "database", "DATABASE_URL", "mysql://u:s3cret@h/db"), []string{"DATABASE_URL"}},
		{"database URL with a Prisma parameter that cannot be honoured", with(minimal, "ROUTEAPI_SESSION_STORE", "database",
			"DATABASE_URL", "postgres://u:s3cret@h/db?schema=public&sslidentity=client.p12"), []string{"DATABASE_URL", "sslidentity"}},
		{"database URL with a bad Prisma value", with(minimal, "ROUTEAPI_SESSION_STORE", "database",
			"DATABASE_URL", "postgres://u:s3cret@h/db?connection_limit=0"), []string{"DATABASE_URL", "connection_limit"}},
		{"spool URL (DATABASE_URL) with a bad Prisma value", with(minimal, "ROUTEAPI_SPOOL", "postgres",
			"DATABASE_URL", "postgres://u:s3cret@h/db?pgbouncer=yes"), []string{"DATABASE_URL", "pgbouncer"}},
		{"db schema", with(minimal, "ROUTEAPI_DB_SCHEMA", "drizzle"), []string{"ROUTEAPI_DB_SCHEMA"}},
		{"session table with a quote", with(minimal, "ROUTEAPI_DB_SESSION_TABLE", `x"; drop table users; --`), []string{"ROUTEAPI_DB_SESSION_TABLE"}},
		{"user table with three parts", with(minimal, "ROUTEAPI_DB_USER_TABLE", "a.b.c"), []string{"ROUTEAPI_DB_USER_TABLE"}},
		{"cache TTL negative", with(minimal, "ROUTEAPI_SESSION_CACHE_TTL", "-1s"), []string{"ROUTEAPI_SESSION_CACHE_TTL"}},
		{"cache TTL above a minute", with(minimal, "ROUTEAPI_SESSION_CACHE_TTL", "2m"), []string{"ROUTEAPI_SESSION_CACHE_TTL"}},
		{"user id claim with a space", with(minimal, "ROUTEAPI_USER_ID_CLAIM", "user id"), []string{"ROUTEAPI_USER_ID_CLAIM"}},
		{"everything at once", map[string]string{
			"PORT":                     "abc",
			"INNGEST_DEV":              "maybe",
			"ROUTEAPI_PUBLISH_TIMEOUT": "forever",
			"ROUTEAPI_TRUSTED_ORIGINS": "https://ok.example, nope",
			"ROUTEAPI_LOG_LEVEL":       "loud",
			"NEXTAUTH_URL":             "nope",
		}, []string{"NEXTAUTH_SECRET", "PORT", "INNGEST_DEV", "INNGEST_EVENT_KEY", "ROUTEAPI_PUBLISH_TIMEOUT", "ROUTEAPI_TRUSTED_ORIGINS", "ROUTEAPI_LOG_LEVEL", "NEXTAUTH_URL"}},
	} {
		c, err := config.Load(env(tc.env))
		if err == nil {
			t.Errorf("%s: Load = %+v, want an error", tc.name, c)
			continue
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "invalid configuration: ") {
			t.Errorf("%s: error is not one line starting with \"invalid configuration: \": %q", tc.name, msg)
		}
		for _, v := range tc.vars {
			if !strings.Contains(msg, v+":") {
				t.Errorf("%s: error %q does not name %s", tc.name, msg, v)
			}
		}
		if strings.Contains(msg, "evt-key") || strings.Contains(msg, "s3cret") {
			t.Errorf("%s: error %q contains a secret", tc.name, msg)
		}
	}
}

func TestLoadTrustedOrigins(t *testing.T) {
	c := load(t, with(minimal, "ROUTEAPI_TRUSTED_ORIGINS", " https://a.example , http://localhost:5173,,"))
	if want := []string{"https://a.example", "http://localhost:5173"}; !reflect.DeepEqual(c.TrustedOrigins, want) {
		t.Errorf("TrustedOrigins = %q, want %q", c.TrustedOrigins, want)
	}
	for _, bad := range []string{
		"https://a.example/", // http.CrossOriginProtection.AddTrustedOrigin refuses any path, even "/"
		"https://a.example?x=1",
		"https://a.example#f",
		"https://user@a.example",
		"https://",
	} {
		if c, err := config.Load(env(with(minimal, "ROUTEAPI_TRUSTED_ORIGINS", bad))); err == nil {
			t.Errorf("trusted origin %q accepted as %q; want an error", bad, c.TrustedOrigins)
		}
	}
}

// Every origin Load accepts must be accepted by the API's
// http.CrossOriginProtection, or the server fails at start.
func TestTrustedOriginsAcceptedByCrossOriginProtection(t *testing.T) {
	for _, o := range []string{
		"https://a.example", "https://a.example/", "http://localhost:5173", "http://[::1]:8080",
		"https://a.example/x", "https://a.example?", "https://a.example?q", "https://a.example#", "https://u:p@a.example",
		"HTTPS://A.EXAMPLE", "a.example", "//a.example", "https:a.example", "https://a.example:443", "chrome-extension://abc",
	} {
		c, err := config.Load(env(with(minimal, "ROUTEAPI_TRUSTED_ORIGINS", o)))
		if err != nil {
			continue
		}
		for _, got := range c.TrustedOrigins {
			if err := http.NewCrossOriginProtection().AddTrustedOrigin(got); err != nil {
				t.Errorf("Load accepted ROUTEAPI_TRUSTED_ORIGINS=%q, but the server would fail: %v", o, err)
			}
		}
	}
}

func TestLoadPublishTimeout(t *testing.T) {
	for raw, want := range map[string]time.Duration{
		"":      2 * time.Second,
		"500ms": 500 * time.Millisecond,
		" 5s ":  5 * time.Second,
		"1m":    time.Minute,
	} {
		if got := load(t, with(minimal, "ROUTEAPI_PUBLISH_TIMEOUT", raw)).PublishTimeout; got != want {
			t.Errorf("ROUTEAPI_PUBLISH_TIMEOUT=%q: %v, want %v", raw, got, want)
		}
	}
}

func TestLoadSession(t *testing.T) {
	// LoadSession needs no Inngest settings.
	s, err := config.LoadSession(env(map[string]string{"AUTH_SECRET": "auth", "NEXTAUTH_URL": "https://app.example.com", "INNGEST_DEV": "junk"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Secret != "auth" || s.SecretIsDevDefault || !s.SecureCookies() {
		t.Errorf("LoadSession = %+v", s)
	}
	s, err = config.LoadSession(env(map[string]string{"ROUTEAPI_DEV": "on"}))
	if err != nil || s.Secret != config.DevSecret || !s.SecretIsDevDefault || !s.Dev {
		t.Errorf("LoadSession(dev) = %+v, %v", s, err)
	}
	_, err = config.LoadSession(env(map[string]string{"NEXTAUTH_URL": "ftp://x"}))
	if err == nil || strings.ContainsAny(err.Error(), "\n") || !strings.Contains(err.Error(), "NEXTAUTH_SECRET:") || !strings.Contains(err.Error(), "NEXTAUTH_URL:") {
		t.Errorf("LoadSession without a secret and with a bad URL: %v; want one line naming both", err)
	}
}

func TestLoadSessionModes(t *testing.T) {
	// Current first: AUTH_SECRET, then the older AUTH_SECRET_1.._3.
	c := load(t, with(minimal, "AUTH_SECRET", "a0", "AUTH_SECRET_1", "a1", "AUTH_SECRET_3", "a3", "ROUTEAPI_SESSION_FORMAT", "V5"))
	if want := []string{"a0", "a1", "a3"}; !reflect.DeepEqual(c.Session.V5Secrets, want) || c.Session.Format != "v5" {
		t.Errorf("V5Secrets %q format %q, want %q v5", c.Session.V5Secrets, c.Session.Format, want)
	}
	if c.Session.Secret != "s3cret" {
		t.Errorf("v4 secret %q, want NEXTAUTH_SECRET", c.Session.Secret)
	}
	// Without AUTH_SECRET, v5 falls back to NEXTAUTH_SECRET (as next-auth v5 does).
	if c := load(t, minimal); !reflect.DeepEqual(c.Session.V5Secrets, []string{"s3cret"}) {
		t.Errorf("V5Secrets %q, want [s3cret]", c.Session.V5Secrets)
	}
	// Database sessions need no secret, and take every database setting.
	c = load(t, map[string]string{"INNGEST_EVENT_KEY": "k", "ROUTEAPI_SESSION_STORE": "database",
		"DATABASE_URL": "postgres://app:pw@db:5432/app", "ROUTEAPI_DB_SCHEMA": "pg-adapter",
		"ROUTEAPI_DB_SESSION_TABLE": "auth.sessions", "ROUTEAPI_DB_USER_TABLE": "auth_users",
		"ROUTEAPI_SESSION_CACHE_TTL": "0", "ROUTEAPI_USER_ID_CLAIM": "uid"})
	s := c.Session
	if c.DatabaseURL != "postgres://app:pw@db:5432/app" || s.Store != config.StoreDatabase || s.DBSchema != dbsession.SchemaPGAdapter ||
		s.SessionTable != "auth.sessions" || s.UserTable != "auth_users" || s.CacheTTL != 0 || s.UserIDClaim != "uid" {
		t.Errorf("database config: %+v, DatabaseURL %q", s, c.DatabaseURL)
	}
	// A Prisma app's own URL is accepted as it is (internal/pgurl reads it).
	prisma := "postgres://app:pw@db:5432/app?schema=public&connection_limit=5&pool_timeout=10&pgbouncer=true&sslmode=require&sslaccept=strict"
	c = load(t, map[string]string{"INNGEST_EVENT_KEY": "k", "ROUTEAPI_SESSION_STORE": "database", "ROUTEAPI_SPOOL": "postgres", "DATABASE_URL": prisma})
	if c.DatabaseURL != prisma || c.SpoolDatabaseURL != prisma {
		t.Errorf("Prisma URL: DatabaseURL %q, SpoolDatabaseURL %q", c.DatabaseURL, c.SpoolDatabaseURL)
	}
	// A bad DATABASE_URL is named but never echoed (it may hold a password).
	_, err := config.Load(env(with(minimal, "ROUTEAPI_SESSION_STORE", "database", "DATABASE_URL", "mysql://u:pw-hunter2@h/db")))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad DATABASE_URL: %v, want an error without the password", err)
	}
}

func TestLoadDelivery(t *testing.T) {
	m := map[string]string{}
	for k, v := range minimal {
		m[k] = v
	}
	for k, v := range map[string]string{
		"ROUTEAPI_SPOOL": "postgres", "DATABASE_URL": "postgres://app@127.0.0.1:5432/app",
		"ROUTEAPI_SPOOL_MAX_EVENTS": "10", "ROUTEAPI_BATCH_LINGER": "0s", "ROUTEAPI_BATCH_MAX_EVENTS": "5000",
		"ROUTEAPI_RETRY_MAX_BACKOFF": "1s", "ROUTEAPI_BREAKER_THRESHOLD": "1", "ROUTEAPI_SPOOL_MIN_FREE_BYTES": "0",
	} {
		m[k] = v
	}
	c := load(t, m)
	if c.Spool != config.SpoolPostgres || c.SpoolDatabaseURL != "postgres://app@127.0.0.1:5432/app" || c.SpoolMaxEvents != 10 || c.BatchLinger != 0 ||
		c.BatchMaxEvents != 5000 || c.RetryMaxBackoff != time.Second || c.BreakerThreshold != 1 || c.SpoolMinFreeBytes != 0 {
		t.Errorf("Load = %+v", c)
	}
	// The spool may have its own database, apart from the app's (read-only) one.
	m["ROUTEAPI_SPOOL_DATABASE_URL"] = "postgres://spool@127.0.0.1:5432/spool"
	if c := load(t, m); c.SpoolDatabaseURL != "postgres://spool@127.0.0.1:5432/spool" || c.DatabaseURL != "postgres://app@127.0.0.1:5432/app" {
		t.Errorf("SpoolDatabaseURL %q, DatabaseURL %q", c.SpoolDatabaseURL, c.DatabaseURL)
	}
	delete(m, "DATABASE_URL")
	if c := load(t, m); c.SpoolDatabaseURL != "postgres://spool@127.0.0.1:5432/spool" {
		t.Errorf("SpoolDatabaseURL without DATABASE_URL: %q", c.SpoolDatabaseURL)
	}

	for name, bad := range map[string]map[string]string{
		"ROUTEAPI_SPOOL":                {"ROUTEAPI_SPOOL": "redis"},
		"DATABASE_URL":                  {"ROUTEAPI_SPOOL": "postgres"},
		"ROUTEAPI_SPOOL_MAX_EVENTS":     {"ROUTEAPI_SPOOL_MAX_EVENTS": "0"},
		"ROUTEAPI_SPOOL_MIN_FREE_BYTES": {"ROUTEAPI_SPOOL_MIN_FREE_BYTES": "-1"},
		"ROUTEAPI_BATCH_MAX_EVENTS":     {"ROUTEAPI_BATCH_MAX_EVENTS": "5001"},
		"ROUTEAPI_BATCH_LINGER":         {"ROUTEAPI_BATCH_LINGER": "soon"},
		"ROUTEAPI_RETRY_MAX_BACKOFF":    {"ROUTEAPI_RETRY_MIN_BACKOFF": "2s", "ROUTEAPI_RETRY_MAX_BACKOFF": "1s"},
	} {
		env := map[string]string{}
		for k, v := range minimal {
			env[k] = v
		}
		for k, v := range bad {
			env[k] = v
		}
		_, err := config.Load(testenv.Map(env))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: err = %v, want one naming %s", bad, err, name)
		}
	}
}
