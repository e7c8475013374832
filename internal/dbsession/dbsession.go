// Package dbsession resolves next-auth / Auth.js database sessions: the
// session cookie holds an opaque session token, looked up in the app's
// PostgreSQL tables as the adapters write them (Prisma adapter or
// @auth/pg-adapter; see shared/design/nextauth-sessions.md §3). Expired rows
// are refused with no tolerance, as the libraries do. Caching is not done
// here: the service puts internal/sessioncache in front of every resolver.
package dbsession

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/routeapi/routeapi/internal/session"
)

// Schemas routeapi knows.
const (
	// SchemaPrisma is the Prisma adapter's models: "Session"/"User", quoted
	// camelCase columns, string ids, expires a timestamp(3) without time zone holding UTC.
	SchemaPrisma = "prisma"
	// SchemaPGAdapter is @auth/pg-adapter's schema.sql: sessions/users,
	// integer ids, expires a timestamptz.
	SchemaPGAdapter = "pg-adapter"
)

// Limits.
const (
	maxTokenLen  = 255 // @auth/pg-adapter: VARCHAR(255)
	queryTimeout = 3 * time.Second
)

// Querier is what the resolver needs from a database: pgxpool.Pool fits.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Config configures a Resolver.
type Config struct {
	// DB runs the lookup query.
	DB Querier
	// Schema is SchemaPrisma or SchemaPGAdapter.
	Schema string
	// SessionTable and UserTable override the schema's table names (Prisma
	// @@map); "" keeps the default. They may be schema-qualified ("app.sessions").
	SessionTable, UserTable string
	// PGSchema is the PostgreSQL schema the tables live in when their names
	// are not qualified: the ?schema= of a Prisma app's DATABASE_URL
	// (pgurl.Config.Schema). "" means public with SchemaPrisma (Prisma's
	// default) and leaves pg-adapter's tables to the search_path. Qualifying
	// them does not depend on the connection's search_path, which PgBouncer
	// in transaction mode does not keep.
	PGSchema string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Resolver implements the api's SessionResolver for database sessions.
// It is safe for concurrent use.
type Resolver struct {
	db      Querier
	query   string
	utcWall bool // expires is a timestamp without time zone holding UTC wall time
	now     func() time.Time
}

// New returns a Resolver for cfg. It does not touch the database.
func New(cfg Config) (*Resolver, error) {
	if cfg.DB == nil {
		return nil, errors.New("database sessions: no database")
	}
	r := &Resolver{db: cfg.DB, now: cfg.Now}
	if r.now == nil {
		r.now = time.Now
	}
	var sessions, users string
	switch cfg.Schema {
	case SchemaPrisma:
		sessions, users, r.utcWall = "Session", "User", true
	case SchemaPGAdapter:
		sessions, users = "sessions", "users"
	default:
		return nil, fmt.Errorf("database sessions: unknown schema %q (want prisma or pg-adapter)", cfg.Schema)
	}
	if cfg.SessionTable != "" {
		sessions = cfg.SessionTable
	}
	if cfg.UserTable != "" {
		users = cfg.UserTable
	}
	// A table name of ours or of the configuration is split at its dots
	// (schema.table); PGSchema is one schema name whatever it holds (Prisma
	// quotes it whole: search_path = "my.app").
	pgSchema := cfg.PGSchema
	if pgSchema == "" && cfg.Schema == SchemaPrisma {
		// Prisma without ?schema= reads public (quaint's default schema,
		// set as the search_path), not the server's "$user", public.
		pgSchema = "public"
	}
	qualified := func(t string) string {
		parts := strings.Split(t, ".")
		if pgSchema != "" && len(parts) == 1 {
			parts = []string{pgSchema, t}
		}
		return pgx.Identifier(parts).Sanitize()
	}
	// The same query for both schemas: the adapters agree on the column names
	// ("sessionToken", "userId", expires; id, name, email, image). Ids are
	// read as text: strings with Prisma, integers with pg-adapter.
	r.query = fmt.Sprintf(`SELECT u.id::text, coalesce(u.name, ''), coalesce(u.email, ''), coalesce(u.image, ''), s.expires
FROM %s s JOIN %s u ON u.id = s."userId"
WHERE s."sessionToken" = $1`, qualified(sessions), qualified(users))
	return r, nil
}

// Resolve looks the credential's token up. Errors wrap session.ErrMalformed
// (not a plausible token), session.ErrInvalid (no such session, or its user
// is gone), session.ErrExpired, or session.ErrUnavailable (database down or
// too slow: the caller may have a valid session, so never a 401).
func (r *Resolver) Resolve(ctx context.Context, c session.Credential) (session.Session, error) {
	tok := c.Token
	if tok == "" || len(tok) > maxTokenLen {
		return session.Session{}, fmt.Errorf("session token of %d bytes: %w", len(tok), session.ErrMalformed)
	}
	// PostgreSQL refuses text that is not UTF-8 or holds NUL with an error,
	// which would read as "database unavailable" (503): no session token the
	// adapters write looks like that, so it is a malformed credential (401).
	if !utf8.ValidString(tok) || strings.ContainsRune(tok, 0) {
		return session.Session{}, fmt.Errorf("session token is not UTF-8 text: %w", session.ErrMalformed)
	}
	now := r.now()
	s, err := r.lookup(ctx, tok)
	if err != nil {
		return session.Session{}, err
	}
	// No tolerance: the libraries refuse a row once expires < now.
	if s.ExpiresAt.Before(now) {
		return session.Session{}, fmt.Errorf("session row expired at %s: %w", s.ExpiresAt.UTC().Format(time.RFC3339), session.ErrExpired)
	}
	return s, nil
}

// Check runs the lookup query once with a token no session has, to tell at
// start-up whether the tables and columns exist and are readable. It returns
// nil when the query ran (and found nothing).
func (r *Resolver) Check(ctx context.Context) error {
	_, err := r.lookup(ctx, "routeapi-start-up-check")
	if err == nil || errors.Is(err, session.ErrInvalid) {
		return nil
	}
	return err
}

func (r *Resolver) lookup(ctx context.Context, tok string) (session.Session, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var s session.Session
	err := r.db.QueryRow(ctx, r.query, tok).Scan(&s.Subject, &s.Name, &s.Email, &s.Picture, &s.ExpiresAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return session.Session{}, fmt.Errorf("no session with this token (unknown, deleted, or its user is gone): %w", session.ErrInvalid)
	case err != nil:
		return session.Session{}, fmt.Errorf("%w: look up session: %w", session.ErrUnavailable, err)
	}
	if r.utcWall {
		// Prisma stores UTC wall time in a timestamp without time zone; pgx
		// returns it as UTC already. Pin it explicitly, whatever the driver does.
		e := s.ExpiresAt
		s.ExpiresAt = time.Date(e.Year(), e.Month(), e.Day(), e.Hour(), e.Minute(), e.Second(), e.Nanosecond(), time.UTC)
	}
	return s, nil
}
