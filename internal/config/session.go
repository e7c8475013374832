package config

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/routeapi/routeapi/internal/dbsession"
	"github.com/routeapi/routeapi/internal/session"
)

// DevSecret is the session secret used with ROUTEAPI_DEV=1 when neither
// NEXTAUTH_SECRET nor AUTH_SECRET is set. It is public: never use it in
// production.
const DevSecret = "routeapi-development-secret-do-not-use-in-production"

// Session defaults and bounds.
const (
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

	// Format is ROUTEAPI_SESSION_FORMAT: session.FormatAuto (default),
	// FormatV4 or FormatV5.
	Format session.Format
	// V5Secrets are the Auth.js v5 secrets, current first: AUTH_SECRET (else
	// NEXTAUTH_SECRET), then the older AUTH_SECRET_1, AUTH_SECRET_2,
	// AUTH_SECRET_3, those that are set.
	V5Secrets []string
	// UserIDClaim is ROUTEAPI_USER_ID_CLAIM: the JWT claim holding the user id (default sub).
	UserIDClaim string

	// Store is ROUTEAPI_SESSION_STORE: StoreJWT (default) or StoreDatabase.
	Store string
	// DBSchema is ROUTEAPI_DB_SCHEMA: dbsession.SchemaPrisma (default) or
	// dbsession.SchemaPGAdapter.
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
	e := &env{getenv: getenv}
	s := loadSession(e)
	if err := e.err(); err != nil {
		return Session{}, err
	}
	return s, nil
}

func loadSession(e *env) Session {
	var s Session
	s.Dev = e.boolean("ROUTEAPI_DEV")
	s.Store = oneOf(e, "ROUTEAPI_SESSION_STORE", StoreJWT, StoreJWT, StoreDatabase)
	s.Format = oneOf(e, "ROUTEAPI_SESSION_FORMAT", session.FormatAuto, session.FormatAuto, session.FormatV4, session.FormatV5)
	s.Secret, s.SecretIsDevDefault = sessionSecret(e, s.Dev, s.Store)
	s.V5Secrets = v5Secrets(e.getenv, s.Secret)
	s.UserIDClaim = userIDClaim(e)
	s.DBSchema = oneOf(e, "ROUTEAPI_DB_SCHEMA", dbsession.SchemaPrisma, dbsession.SchemaPrisma, dbsession.SchemaPGAdapter)
	s.SessionTable = tableName(e, "ROUTEAPI_DB_SESSION_TABLE")
	s.UserTable = tableName(e, "ROUTEAPI_DB_USER_TABLE")
	s.CacheTTL = e.durWant("ROUTEAPI_SESSION_CACHE_TTL", DefaultSessionCacheTTL, 0, maxSessionCacheTTL,
		fmt.Sprintf("a duration from 0 (off) to %s, e.g. 5s", maxSessionCacheTTL))
	s.NextAuthURL = nextAuthURL(e)
	return s
}

// sessionSecret is the next-auth v4 secret: NEXTAUTH_SECRET, else
// AUTH_SECRET (next-auth v4's order), used exactly as written (not trimmed,
// not decoded); else DevSecret in dev mode. Database sessions are opaque
// tokens and need none.
func sessionSecret(e *env, dev bool, store string) (secret string, devDefault bool) {
	if s := cmp.Or(e.getenv("NEXTAUTH_SECRET"), e.getenv("AUTH_SECRET")); s != "" {
		return s, false
	}
	switch {
	case dev:
		return DevSecret, true
	case store != StoreDatabase:
		e.bad("NEXTAUTH_SECRET", "required (or AUTH_SECRET): the Next.js app's next-auth secret; set ROUTEAPI_DEV=1 to use a development secret")
	}
	return "", false
}

// v5Secrets are Auth.js v5's: the current secret first (AUTH_SECRET, else
// the v4 secret, the one the app signs with), then the older
// AUTH_SECRET_1..3, those that are set. Tokens with a kid are matched to any
// of them; tokens without one only to the first.
func v5Secrets(getenv func(string) string, v4 string) []string {
	var out []string
	if cur := cmp.Or(getenv("AUTH_SECRET"), v4); cur != "" {
		out = append(out, cur)
	}
	for _, n := range []string{"AUTH_SECRET_1", "AUTH_SECRET_2", "AUTH_SECRET_3"} {
		if v := getenv(n); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// userIDClaim is ROUTEAPI_USER_ID_CLAIM, the JWT claim holding the user id (default sub).
func userIDClaim(e *env) string {
	claim := e.strOr("ROUTEAPI_USER_ID_CLAIM", "sub")
	if strings.ContainsAny(claim, " \t\n") || len(claim) > 100 {
		e.bad("ROUTEAPI_USER_ID_CLAIM", "want a claim name such as sub, id or uid, got %q", claim)
	}
	return claim
}

// tableName reads a table name, table or schema.table (see validTableName); unset is "".
func tableName(e *env, name string) string {
	v := e.str(name)
	if v != "" && !validTableName(v) {
		e.bad(name, "want a table name such as sessions or app.sessions (letters, digits, _), got %q", v)
	}
	return v
}

// validTableName accepts table or schema.table made of letters, digits and _.
func validTableName(s string) bool {
	parts := strings.Split(s, ".")
	return len(parts) <= 2 && !slices.ContainsFunc(parts, func(p string) bool { return !validIdentifier(p) })
}

// validIdentifier accepts 1 to 63 letters, digits and _, not starting with a
// digit: a PostgreSQL identifier that needs no quoting but for its case.
func validIdentifier(p string) bool {
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
	return true
}

// nextAuthURL is NEXTAUTH_URL, an absolute http(s) URL; nil when unset or bad.
func nextAuthURL(e *env) *url.URL {
	raw := e.httpURL("NEXTAUTH_URL")
	if raw == "" || !isHTTPURL(raw) {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil // isHTTPURL parsed it already
	}
	return u
}
