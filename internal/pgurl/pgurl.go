// Package pgurl reads the app's PostgreSQL connection URL (DATABASE_URL) the
// way the app reads it, for routeapi's pgx pools (database sessions and the
// PostgreSQL spool): one parser for both.
//
// A Prisma app's URL carries Prisma's own query parameters (schema,
// connection_limit, pool_timeout, pgbouncer, …; the list and their meaning
// are those of prisma-engines quaint/src/connector/postgres/url.rs,
// parse_query_params). pgx would send every parameter it does not know to the
// server as a run-time setting, which PostgreSQL refuses
// (FATAL: unrecognized configuration parameter "schema"). Parse honours what
// applies to routeapi, drops what is only Prisma's (or what Prisma itself
// ignores), and refuses, naming the parameter, what it cannot honour.
// libpq/pgx connection parameters (sslrootcert, sslkey, target_session_attrs,
// pool_max_conns, …) keep their pgx meaning.
package pgurl

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is a parsed connection URL.
type Config struct {
	// Pool is the pgx pool configuration, every honoured parameter applied.
	Pool *pgxpool.Config
	// Schema is the PostgreSQL schema the app's tables live in (Prisma's
	// schema parameter), "" when the URL does not name one (Prisma: public).
	// It is the connections' search_path.
	Schema string
	// PgBouncer is Prisma's pgbouncer=true: the simple query protocol, no
	// prepared statement cache, and search_path set by a query after connecting.
	PgBouncer bool
	// Dropped names the parameters left out, each with why, sorted: for one
	// start-up log line.
	Dropped []string
}

// ErrParameter is wrapped by every error about one query parameter. The
// message names the parameter, never the URL (it may hold a password).
var ErrParameter = errors.New("connection URL parameter")

// Parse reads raw, a postgres:// or postgresql:// URL, for a pgx pool.
// Prisma's parameters are read as Prisma reads them:
//
//   - schema: the search_path of every connection, quoted as Prisma quotes it
//     (a startup parameter; with pgbouncer=true a SET after connecting, as
//     PgBouncer does not pass startup parameters on).
//   - connection_limit: the pool's maximum size (a whole number ≥ 1).
//   - pgbouncer=true: the simple query protocol and no statement cache
//     (PgBouncer in transaction mode cannot keep prepared statements).
//   - statement_cache_size: pgx's statement cache size; 0 turns it off.
//   - connect_timeout (s): the connect timeout; 0 (Prisma: none) keeps routeapi's.
//   - max_connection_lifetime, max_idle_connection_lifetime (s): the pool's;
//     0 (Prisma: none) keeps pgx's defaults.
//   - sslmode: disable, prefer, require as in Prisma; libpq's other modes
//     (verify-ca, verify-full, allow) keep pgx's meaning; anything else is
//     prefer, as in Prisma.
//   - sslaccept=strict: verify the server's certificate and host name
//     (sslmode verify-full); accept_invalid_certs (Prisma's default) does not.
//   - sslcert: in Prisma the CA certificate that signs the server's; used as
//     sslrootcert when the certificate is verified (an absolute path: Prisma
//     reads a relative one from the schema.prisma directory, which routeapi
//     cannot know). With sslkey beside it, it is libpq's client certificate.
//   - pool_timeout, socket_timeout: dropped; routeapi bounds every query with
//     its own timeout.
//   - sslidentity (a PKCS#12 client certificate) and its sslpassword: refused;
//     pgx takes PEM files (sslcert, sslkey).
//   - host, application_name, options: as in libpq.
//
// A parameter neither Prisma nor pgx knows is dropped, as Prisma drops it.
// A malformed value of one of Prisma's parameters is an error, as in Prisma.
func Parse(raw string) (*Config, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("not a postgres:// or postgresql:// URL") // never echo: it may hold a password
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: the query string is not valid URL encoding", ErrParameter)
	}
	r := &reading{c: &Config{}, out: url.Values{}, cacheSize: -1}
	for _, k := range sortedKeys(q) {
		// Prisma reads the pairs in order, the last one of a name wins.
		if err := r.param(k, q[k][len(q[k])-1]); err != nil {
			return nil, err
		}
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	u.RawQuery = r.out.Encode()
	pool, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		// pgx's message may quote the URL: name the parameters only.
		return nil, fmt.Errorf("not a valid PostgreSQL connection URL (parameters after reading Prisma's: %s)", strings.Join(sortedKeys(r.out), ", "))
	}
	setSearchPath(pool, r.c.Schema, r.c.PgBouncer)
	slices.Sort(r.c.Dropped)
	r.c.Pool = pool
	return r.c, nil
}

// setSearchPath makes schema the connections' search_path, quoted as Prisma
// quotes it (search_path = "<schema>"): a startup parameter, or with
// PgBouncer, which does not pass startup parameters on, a SET after connecting.
func setSearchPath(pool *pgxpool.Config, schema string, pgBouncer bool) {
	if schema == "" {
		return
	}
	path := pgx.Identifier{schema}.Sanitize()
	if !pgBouncer {
		pool.ConnConfig.RuntimeParams["search_path"] = path
		return
	}
	prev := pool.AfterConnect
	pool.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if prev != nil {
			if err := prev(ctx, conn); err != nil {
				return err
			}
		}
		_, err := conn.Exec(ctx, "SET search_path = "+path)
		return err
	}
}

// Table is the table name qualified with schema (a Config's Schema: one
// name whatever it holds, as Prisma quotes it whole) and quoted for SQL;
// name alone, quoted, when schema is "". PgBouncer in transaction mode does
// not keep the search_path set after connecting (Config.PgBouncer), so a
// statement that must reach the URL's schema names it.
func Table(schema, name string) string {
	if schema == "" {
		return pgx.Identifier{name}.Sanitize()
	}
	return pgx.Identifier{schema, name}.Sanitize()
}

func sortedKeys(v url.Values) []string {
	return slices.Sorted(maps.Keys(v))
}
