package pgurl_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routeapi/routeapi/internal/pgurl"
	"github.com/routeapi/routeapi/internal/testkit/pgtest"
)

const base = "postgres://app:hunter2@db.example:5432/app"

func TestParsePrismaParameters(t *testing.T) {
	c, err := pgurl.Parse(base + "?schema=Tenant&connection_limit=5&pool_timeout=10&connect_timeout=7&socket_timeout=3" +
		"&max_connection_lifetime=600&max_idle_connection_lifetime=60&application_name=web&statement_cache_size=42&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Pool
	if c.Schema != "Tenant" || c.PgBouncer {
		t.Errorf("schema %q, pgbouncer %v", c.Schema, c.PgBouncer)
	}
	if got := p.ConnConfig.RuntimeParams["search_path"]; got != `"Tenant"` {
		t.Errorf("search_path %q, want \"Tenant\" quoted as Prisma quotes it", got)
	}
	if p.MaxConns != 5 {
		t.Errorf("MaxConns %d, want connection_limit 5", p.MaxConns)
	}
	if p.ConnConfig.ConnectTimeout != 7*time.Second {
		t.Errorf("ConnectTimeout %s, want 7s", p.ConnConfig.ConnectTimeout)
	}
	if p.MaxConnLifetime != 10*time.Minute || p.MaxConnIdleTime != time.Minute {
		t.Errorf("lifetime %s, idle %s", p.MaxConnLifetime, p.MaxConnIdleTime)
	}
	if p.ConnConfig.StatementCacheCapacity != 42 {
		t.Errorf("statement cache %d, want 42", p.ConnConfig.StatementCacheCapacity)
	}
	if p.ConnConfig.TLSConfig != nil {
		t.Error("sslmode=disable but TLS configured")
	}
	if got := p.ConnConfig.RuntimeParams["application_name"]; got != "web" {
		t.Errorf("application_name %q", got)
	}
	for _, k := range []string{"schema", "connection_limit", "pool_timeout", "socket_timeout", "statement_cache_size",
		"max_connection_lifetime", "max_idle_connection_lifetime", "pgbouncer"} {
		if _, sent := p.ConnConfig.RuntimeParams[k]; sent {
			t.Errorf("%s would be sent to the server as a setting", k)
		}
	}
	if want := []string{"pool_timeout (", "socket_timeout ("}; len(c.Dropped) != 2 ||
		!strings.HasPrefix(c.Dropped[0], want[0]) || !strings.HasPrefix(c.Dropped[1], want[1]) {
		t.Errorf("Dropped = %q", c.Dropped)
	}
}

func TestParsePgBouncer(t *testing.T) {
	c, err := pgurl.Parse(base + "?pgbouncer=true&schema=s1")
	if err != nil {
		t.Fatal(err)
	}
	cc := c.Pool.ConnConfig
	if !c.PgBouncer || cc.DefaultQueryExecMode != pgx.QueryExecModeSimpleProtocol || cc.StatementCacheCapacity != 0 {
		t.Errorf("pgbouncer: %v, mode %v, cache %d", c.PgBouncer, cc.DefaultQueryExecMode, cc.StatementCacheCapacity)
	}
	if _, ok := cc.RuntimeParams["search_path"]; ok || c.Pool.AfterConnect == nil {
		t.Error("with pgbouncer the search_path must be set after connecting, not as a startup parameter")
	}
	c, err = pgurl.Parse(base + "?pgbouncer=false&statement_cache_size=0")
	if err != nil {
		t.Fatal(err)
	}
	if cc := c.Pool.ConnConfig; c.PgBouncer || cc.StatementCacheCapacity != 0 || cc.DefaultQueryExecMode != pgx.QueryExecModeDescribeExec {
		t.Errorf("statement_cache_size=0: mode %v, cache %d", cc.DefaultQueryExecMode, cc.StatementCacheCapacity)
	}
}

func TestParseTLS(t *testing.T) {
	for _, tc := range []struct {
		query string
		// verify: the server certificate is checked (a verifying TLS config).
		tls, verify bool
		dropped     string
	}{
		{query: "", tls: true},
		{query: "?sslmode=prefer", tls: true},
		{query: "?sslmode=require", tls: true},
		{query: "?sslmode=require&sslaccept=accept_invalid_certs", tls: true},
		{query: "?sslmode=require&sslaccept=strict", tls: true, verify: true},
		{query: "?sslmode=require&sslaccept=strict&sslcert=/etc/ssl/certs/ca-certificates.crt", tls: true, verify: true},
		{query: "?sslmode=require&sslcert=ca.pem", tls: true, dropped: "sslcert"},
		{query: "?sslmode=disable&sslaccept=strict"},
		{query: "?sslmode=bogus", tls: true, dropped: "sslmode"},
		{query: "?sslmode=verify-full", tls: true, verify: true},
		{query: "?sslpassword=x&sslmode=require", tls: true, dropped: "sslpassword"},
	} {
		c, err := pgurl.Parse(base + tc.query)
		if err != nil {
			t.Errorf("%s: %v", tc.query, err)
			continue
		}
		tlsc := c.Pool.ConnConfig.TLSConfig
		if (tlsc != nil) != tc.tls {
			t.Errorf("%s: TLS %v, want %v", tc.query, tlsc != nil, tc.tls)
			continue
		}
		if tlsc != nil && !tlsc.InsecureSkipVerify != tc.verify {
			t.Errorf("%s: verifies %v, want %v", tc.query, !tlsc.InsecureSkipVerify, tc.verify)
		}
		if got := strings.Join(c.Dropped, " "); (tc.dropped == "") != (got == "") || !strings.HasPrefix(got, tc.dropped) {
			t.Errorf("%s: dropped %q, want %q", tc.query, got, tc.dropped)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ query, param string }{
		{"?sslidentity=client.p12&sslpassword=pw", "sslidentity"},
		{"?connection_limit=0", "connection_limit"},
		{"?connection_limit=many", "connection_limit"},
		{"?pgbouncer=yes", "pgbouncer"},
		{"?schema=", "schema"},
		{"?connect_timeout=soon", "connect_timeout"},
		{"?pool_timeout=-1", "pool_timeout"},
		{"?statement_cache_size=x", "statement_cache_size"},
		{"?sslaccept=strict&sslcert=certs/ca.pem", "sslcert"},
	} {
		_, err := pgurl.Parse(base + tc.query)
		if !errors.Is(err, pgurl.ErrParameter) || !strings.Contains(err.Error(), tc.param) {
			t.Errorf("%s: %v, want an error naming %s", tc.query, err, tc.param)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error leaks the password: %v", tc.query, err)
		}
	}
	for _, raw := range []string{"mysql://db/app", "postgres://app:hunter2@[::1", "host=db user=app"} {
		if _, err := pgurl.Parse(raw); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

func TestUnknownParametersAreDropped(t *testing.T) {
	c, err := pgurl.Parse(base + "?ssl=true&foo=bar&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ssl", "foo"} {
		if _, sent := c.Pool.ConnConfig.RuntimeParams[k]; sent {
			t.Errorf("%s sent to the server", k)
		}
	}
	if len(c.Dropped) != 2 {
		t.Errorf("Dropped = %q", c.Dropped)
	}
}

// A Prisma app's URLs against a real PostgreSQL: every one connects, and the
// schema is where unqualified names resolve.
func TestRealPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	admin := pgtest.Connect(t, pg.URL)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA "Tenant"; CREATE TABLE "Tenant".marker (v text); INSERT INTO "Tenant".marker VALUES ('tenant')`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"&schema=Tenant",
		"&schema=Tenant&connection_limit=5&pool_timeout=10",
		"&schema=Tenant&pgbouncer=true",
		"&schema=Tenant&connect_timeout=10&socket_timeout=5&application_name=routeapi-test&statement_cache_size=0",
		"&schema=Tenant&max_connection_lifetime=60&max_idle_connection_lifetime=30&sslaccept=accept_invalid_certs&ssl=true",
	} {
		t.Run(q, func(t *testing.T) {
			c, err := pgurl.Parse(pg.URL + q)
			if err != nil {
				t.Fatal(err)
			}
			pool, err := pgxpool.NewWithConfig(ctx, c.Pool)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			for range 3 { // several queries: the statement cache (or its absence) is used
				var v string
				if err := pool.QueryRow(ctx, `SELECT v FROM marker WHERE v = $1`, "tenant").Scan(&v); err != nil {
					t.Fatalf("unqualified table in the URL's schema: %v", err)
				}
			}
			if strings.Contains(q, "application_name") {
				var name string
				if err := pool.QueryRow(ctx, `SELECT current_setting('application_name')`).Scan(&name); err != nil || name != "routeapi-test" {
					t.Errorf("application_name %q, %v", name, err)
				}
			}
		})
	}
}

func TestTable(t *testing.T) {
	for _, c := range []struct{ schema, want string }{
		{"", `"routeapi_spool"`},
		{"app", `"app"."routeapi_spool"`},
		{"my.app", `"my.app"."routeapi_spool"`},
		{`we"quote`, `"we""quote"."routeapi_spool"`},
	} {
		if got := pgurl.Table(c.schema, "routeapi_spool"); got != c.want {
			t.Errorf("Table(%q) = %s, want %s", c.schema, got, c.want)
		}
	}
}
