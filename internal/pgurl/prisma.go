package pgurl

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"time"
)

// reading is one URL's parameters being read: the Config taking shape, the
// parameters handed to pgx, and the TLS and cache settings that are only
// decided once every parameter is known (finish).
type reading struct {
	c   *Config
	out url.Values // the parameters for pgx

	sslmode, sslcert, sslkey string
	strict                   bool // sslaccept=strict
	sslIdentity              bool
	cacheSize                int // statement_cache_size; -1 when unset
}

// prismaParams are Prisma's parameters (and those libpq shares with Prisma
// but Prisma reads its own way), each with how it is read; see Parse.
var prismaParams = map[string]func(r *reading, name, value string) error{
	"schema":                       (*reading).schema,
	"connection_limit":             (*reading).connectionLimit,
	"pgbouncer":                    (*reading).pgBouncer,
	"statement_cache_size":         (*reading).statementCacheSize,
	"connect_timeout":              (*reading).connectTimeout,
	"max_connection_lifetime":      poolLifetime("pool_max_conn_lifetime"),
	"max_idle_connection_lifetime": poolLifetime("pool_max_conn_idle_time"),
	"pool_timeout":                 (*reading).ownTimeout,
	"socket_timeout":               (*reading).ownTimeout,
	"sslmode":                      (*reading).sslMode,
	"sslaccept": func(r *reading, _, v string) error {
		r.strict = v != "accept_invalid_certs" // Prisma: any other value is strict
		return nil
	},
	"sslcert":     func(r *reading, _, v string) error { r.sslcert = v; return nil },
	"sslkey":      func(r *reading, _, v string) error { r.sslkey = v; return nil },
	"sslidentity": func(r *reading, _, _ string) error { r.sslIdentity = true; return nil },
	"sslpassword": func(r *reading, k, v string) error {
		r.out.Set(k, v) // libpq's (an encrypted sslkey) or Prisma's (sslidentity, refused in finish)
		return nil
	},
}

// param reads one parameter: Prisma's as Prisma reads it, pgx's handed on,
// any other dropped (as Prisma drops it).
func (r *reading) param(k, v string) error {
	if read, ok := prismaParams[k]; ok {
		return read(r, k, v)
	}
	if pgxParams[k] {
		r.out.Set(k, v)
		return nil
	}
	r.drop(k, "unknown to Prisma and libpq; Prisma ignores it")
	return nil
}

// drop notes that the parameter name is left out, and why.
func (r *reading) drop(name, why string) { r.c.Dropped = append(r.c.Dropped, name+" ("+why+")") }

// paramError is the error about the parameter name: it names the parameter, never the URL.
func paramError(name, format string, a ...any) error {
	return fmt.Errorf("%w %s: %s", ErrParameter, name, fmt.Sprintf(format, a...))
}

func (r *reading) schema(k, v string) error {
	if v == "" {
		return paramError(k, "empty")
	}
	r.c.Schema = v
	return nil
}

func (r *reading) connectionLimit(k, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return paramError(k, "want a whole number ≥ 1, got %q", v)
	}
	r.out.Set("pool_max_conns", strconv.Itoa(n))
	return nil
}

func (r *reading) pgBouncer(k, v string) error {
	if v != "true" && v != "false" {
		return paramError(k, "want true or false, got %q", v)
	}
	r.c.PgBouncer = v == "true"
	return nil
}

func (r *reading) statementCacheSize(k, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return paramError(k, "want a whole number ≥ 0, got %q", v)
	}
	r.cacheSize = n
	return nil
}

// seconds reads a Prisma timeout: whole seconds ≥ 0.
func seconds(k, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, paramError(k, "want whole seconds ≥ 0, got %q", v)
	}
	return n, nil
}

func (r *reading) connectTimeout(k, v string) error {
	n, err := seconds(k, v)
	switch {
	case err != nil:
		return err
	case n == 0:
		r.drop(k, "0 means no timeout in Prisma; routeapi keeps its own")
	default:
		r.out.Set(k, strconv.Itoa(n))
	}
	return nil
}

// poolLifetime reads one of Prisma's connection lifetimes (seconds) into
// pgxpool's parameter target.
func poolLifetime(target string) func(r *reading, k, v string) error {
	return func(r *reading, k, v string) error {
		n, err := seconds(k, v)
		switch {
		case err != nil:
			return err
		case n == 0:
			r.drop(k, "0 means no limit in Prisma; pgx's default applies")
		default:
			r.out.Set(target, (time.Duration(n) * time.Second).String())
		}
		return nil
	}
}

// ownTimeout reads one of Prisma's own timeouts, which routeapi does not use.
func (r *reading) ownTimeout(k, v string) error {
	if _, err := seconds(k, v); err != nil {
		return err
	}
	r.drop(k, "Prisma's own; routeapi bounds every query with its own timeout")
	return nil
}

func (r *reading) sslMode(k, v string) error {
	switch v {
	case "disable", "prefer", "require", "allow", "verify-ca", "verify-full":
		r.sslmode = v
	default:
		r.drop(k, fmt.Sprintf("%q is prefer in Prisma", v))
	}
	return nil
}

// finish decides what depends on several parameters: the client
// certificate, the CA, the TLS mode and the statement cache.
func (r *reading) finish() error {
	if r.sslIdentity {
		return paramError("sslidentity", "a PKCS#12 client certificate (Prisma's) cannot be used: give the certificate and key as PEM files in sslcert and sslkey instead")
	}
	if r.out.Has("sslpassword") && r.sslkey == "" {
		// Prisma's password of an sslidentity; libpq's is for an encrypted sslkey.
		r.out.Del("sslpassword")
		r.drop("sslpassword", "Prisma's sslidentity password, without sslidentity")
	}
	if err := r.certificates(); err != nil {
		return err
	}
	if r.strict && r.sslmode != "disable" && r.sslmode != "verify-ca" {
		r.sslmode = "verify-full"
	}
	if r.sslmode != "" {
		r.out.Set("sslmode", r.sslmode)
	}
	r.statementCache()
	return nil
}

// certificates hands sslcert and sslkey to pgx: with sslkey, libpq's client
// certificate pair (Prisma has no sslkey); alone, Prisma's CA certificate,
// used only when the server's certificate is verified.
func (r *reading) certificates() error {
	switch {
	case r.sslkey != "":
		r.out.Set("sslkey", r.sslkey)
		if r.sslcert != "" {
			r.out.Set("sslcert", r.sslcert)
		}
	case r.sslcert == "":
	case !r.strict && r.sslmode != "verify-ca" && r.sslmode != "verify-full":
		r.drop("sslcert", "Prisma does not verify the server certificate without sslaccept=strict")
	case !filepath.IsAbs(r.sslcert):
		return paramError("sslcert", "a relative path is read by Prisma from the schema.prisma directory, which routeapi cannot know: use an absolute path")
	default:
		r.out.Set("sslrootcert", r.sslcert)
	}
	return nil
}

// statementCache sets pgx's query mode and caches: none with PgBouncer
// (the simple protocol), none with statement_cache_size=0, else its size.
func (r *reading) statementCache() {
	switch {
	case r.c.PgBouncer:
		r.out.Set("default_query_exec_mode", "simple_protocol")
		r.out.Set("statement_cache_capacity", "0")
		r.out.Set("description_cache_capacity", "0")
	case r.cacheSize == 0:
		r.out.Set("statement_cache_capacity", "0")
		r.out.Set("default_query_exec_mode", "describe_exec")
	case r.cacheSize > 0:
		r.out.Set("statement_cache_capacity", strconv.Itoa(r.cacheSize))
	}
}

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
