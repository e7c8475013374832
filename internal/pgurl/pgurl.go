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
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

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

// pgxParams are the connection parameters pgx itself reads (pgconn's
// notRuntimeParams, pgx's cache and mode settings, pgxpool's pool_*) plus
// the server settings Prisma also passes on (application_name, options).
// They are handed to pgx unchanged.
var pgxParams = map[string]bool{
	"host": true, "port": true, "database": true, "dbname": true, "user": true, "password": true, "passfile": true,
	"connect_timeout": true, "sslmode": true, "sslkey": true, "sslcertmode": true, "sslrootcert": true,
	"sslnegotiation": true, "sslsni": true, "krbspn": true, "krbsrvname": true, "target_session_attrs": true,
	"service": true, "servicefile": true, "min_protocol_version": true, "max_protocol_version": true,
	"channel_binding": true, "require_auth": true,
	"statement_cache_capacity": true, "description_cache_capacity": true, "default_query_exec_mode": true,
	"pool_max_conns": true, "pool_min_conns": true, "pool_min_idle_conns": true, "pool_max_conn_lifetime": true,
	"pool_max_conn_idle_time": true, "pool_health_check_period": true, "pool_max_conn_lifetime_jitter": true,
	"pool_ping_timeout": true,
	"application_name":  true, "options": true,
}

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
	// Prisma reads the pairs in order, the last one of a name wins.
	last := func(k string) string { v := q[k]; return v[len(v)-1] }
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	c := &Config{}
	out := url.Values{}
	var (
		sslmode, sslcert, sslkey string
		strict                   bool
		cacheSize                = -1
		hasSSLIdentity           bool
	)
	bad := func(name, format string, a ...any) error {
		return fmt.Errorf("%w %s: %s", ErrParameter, name, fmt.Sprintf(format, a...))
	}
	seconds := func(name string) (int, error) {
		n, err := strconv.Atoi(last(name))
		if err != nil || n < 0 {
			return 0, bad(name, "want whole seconds ≥ 0, got %q", last(name))
		}
		return n, nil
	}
	drop := func(name, why string) { c.Dropped = append(c.Dropped, name+" ("+why+")") }
	for _, k := range keys {
		v := last(k)
		switch k {
		case "schema":
			if v == "" {
				return nil, bad(k, "empty")
			}
			c.Schema = v
		case "connection_limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, bad(k, "want a whole number ≥ 1, got %q", v)
			}
			out.Set("pool_max_conns", strconv.Itoa(n))
		case "pgbouncer":
			b, err := strconv.ParseBool(v)
			if err != nil || (v != "true" && v != "false") {
				return nil, bad(k, "want true or false, got %q", v)
			}
			c.PgBouncer = b
		case "statement_cache_size":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, bad(k, "want a whole number ≥ 0, got %q", v)
			}
			cacheSize = n
		case "connect_timeout":
			n, err := seconds(k)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				drop(k, "0 means no timeout in Prisma; routeapi keeps its own")
				continue
			}
			out.Set(k, strconv.Itoa(n))
		case "max_connection_lifetime", "max_idle_connection_lifetime":
			n, err := seconds(k)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				drop(k, "0 means no limit in Prisma; pgx's default applies")
				continue
			}
			target := "pool_max_conn_lifetime"
			if k == "max_idle_connection_lifetime" {
				target = "pool_max_conn_idle_time"
			}
			out.Set(target, (time.Duration(n) * time.Second).String())
		case "pool_timeout", "socket_timeout":
			if _, err := seconds(k); err != nil {
				return nil, err
			}
			drop(k, "Prisma's own; routeapi bounds every query with its own timeout")
		case "sslmode":
			switch v {
			case "disable", "prefer", "require", "allow", "verify-ca", "verify-full":
				sslmode = v
			default:
				drop(k, fmt.Sprintf("%q is prefer in Prisma", v))
			}
		case "sslaccept":
			strict = v != "accept_invalid_certs" // Prisma: any other value is strict
		case "sslcert":
			sslcert = v
		case "sslkey":
			sslkey = v
		case "sslidentity":
			hasSSLIdentity = true
		case "sslpassword":
			out.Set(k, v) // libpq's (an encrypted sslkey) or Prisma's (sslidentity, refused below)
		default:
			if pgxParams[k] {
				out.Set(k, v)
				continue
			}
			drop(k, "unknown to Prisma and libpq; Prisma ignores it")
		}
	}
	if hasSSLIdentity {
		return nil, bad("sslidentity", "a PKCS#12 client certificate (Prisma's) cannot be used: give the certificate and key as PEM files in sslcert and sslkey instead")
	}
	if out.Has("sslpassword") && sslkey == "" {
		// Prisma's password of an sslidentity; libpq's is for an encrypted sslkey.
		out.Del("sslpassword")
		drop("sslpassword", "Prisma's sslidentity password, without sslidentity")
	}
	switch {
	case sslkey != "":
		// libpq's client certificate pair (Prisma has no sslkey).
		out.Set("sslkey", sslkey)
		if sslcert != "" {
			out.Set("sslcert", sslcert)
		}
	case sslcert != "":
		if strict || sslmode == "verify-ca" || sslmode == "verify-full" {
			if !filepath.IsAbs(sslcert) {
				return nil, bad("sslcert", "a relative path is read by Prisma from the schema.prisma directory, which routeapi cannot know: use an absolute path")
			}
			out.Set("sslrootcert", sslcert)
		} else {
			drop("sslcert", "Prisma does not verify the server certificate without sslaccept=strict")
		}
	}
	if strict && sslmode != "disable" && sslmode != "verify-ca" {
		sslmode = "verify-full"
	}
	if sslmode != "" {
		out.Set("sslmode", sslmode)
	}
	if c.PgBouncer {
		out.Set("default_query_exec_mode", "simple_protocol")
		out.Set("statement_cache_capacity", "0")
		out.Set("description_cache_capacity", "0")
	} else if cacheSize == 0 {
		out.Set("statement_cache_capacity", "0")
		out.Set("default_query_exec_mode", "describe_exec")
	} else if cacheSize > 0 {
		out.Set("statement_cache_capacity", strconv.Itoa(cacheSize))
	}
	u.RawQuery = out.Encode()
	pool, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		// pgx's message may quote the URL: name the parameters only.
		return nil, fmt.Errorf("not a valid PostgreSQL connection URL (parameters after reading Prisma's: %s)", strings.Join(sortedKeys(out), ", "))
	}
	if c.Schema != "" {
		path := pgx.Identifier{c.Schema}.Sanitize() // Prisma: search_path = "<schema>"
		if c.PgBouncer {
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
		} else {
			pool.ConnConfig.RuntimeParams["search_path"] = path
		}
	}
	slices.Sort(c.Dropped)
	c.Pool = pool
	return c, nil
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
	ks := make([]string, 0, len(v))
	for k := range v {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
